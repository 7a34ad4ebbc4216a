"""``auth.method: kerberos``: SPNEGO against a real MIT KDC on loopback,
verified by the real ridad service tree with the service keytab."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path

import gssapi
import pytest
import pytest_twisted
import treq
import yaml

from ridad.composition import read_config
from ridad.errors import ConfigError
from tests.auth.fixtures import (  # noqa: F401 - fixtures
    KOJI_CLIENT_PRINCIPAL,
    auth_section,
    kerberos_realm,
    kerberos_settings,
)
from tests.auth.kdc import REALM, PrivateRealm, spnego_context
from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    daemon_config,
    json_of,
    modulemd_text,
    start_daemon,
)

JSON = {b"Content-Type": [b"application/json"]}


@pytest_twisted.async_yield_fixture
async def kerberos_daemon(
    database_dsn: str,
    git_world: GitWorld,
    tmp_path: Path,
    kerberos_realm: PrivateRealm,  # noqa: F811
) -> AsyncIterator[RunningDaemon]:
    """ridad accepting SPNEGO for HTTP/localhost@RIDAD.TEST."""
    config = daemon_config(
        database_dsn,
        git_world,
        tmp_path / "state",
        auth=auth_section("kerberos", kerberos=kerberos_settings(kerberos_realm)),
    )
    daemon = await start_daemon(config, tmp_path / "ridad.yaml")
    daemon.base_url = daemon.base_url.replace("127.0.0.1", "localhost")
    yield daemon
    await daemon.service.stopService()


def negotiate(realm: PrivateRealm, user: str) -> tuple[dict, gssapi.SecurityContext]:
    """Headers with a fresh Negotiate token of ``user``, and its context."""
    context = spnego_context(realm.kinit(f"{user}@{REALM}"))
    token = base64.b64encode(context.step())
    return {**JSON, b"Authorization": [b"Negotiate " + token]}, context


async def submit(daemon: RunningDaemon, world: GitWorld, headers: dict, name: str):
    """POST a submission of module ``name``; return the response."""
    world.module(name, modulemd_text())
    return await treq.post(
        daemon.url("/rida/module-builds/"),
        data=json.dumps({"scmurl": world.scmurl(name)}).encode(),
        headers=headers,
    )


@pytest_twisted.ensureDeferred
async def test_submission_without_token_gets_negotiate_challenge(
    kerberos_daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """A POST without Authorization is 401 with WWW-Authenticate: Negotiate."""
    response = await submit(kerberos_daemon, git_world, JSON, "demo")
    body = await json_of(response)
    assert response.code == 401
    assert response.headers.getRawHeaders(b"www-authenticate") == [b"Negotiate"]
    assert "kerberos" in body["message"]


@pytest_twisted.ensureDeferred
async def test_verified_token_submits_and_server_proves_itself(
    kerberos_daemon: RunningDaemon,
    git_world: GitWorld,
    kerberos_realm: PrivateRealm,  # noqa: F811
) -> None:
    """alice@RIDAD.TEST submits as alice; the mutual token completes her context."""
    headers, context = negotiate(kerberos_realm, "alice")
    response = await submit(kerberos_daemon, git_world, headers, "demo")
    body = await json_of(response)
    assert response.code == 201, body
    assert body["owner"] == "alice"
    (challenge,) = response.headers.getRawHeaders(b"www-authenticate")
    scheme, _, token = challenge.partition(b" ")
    assert scheme == b"Negotiate"
    context.step(base64.b64decode(token))
    assert context.complete


@pytest_twisted.ensureDeferred
async def test_user_outside_allowed_groups_is_403(
    kerberos_daemon: RunningDaemon,
    git_world: GitWorld,
    kerberos_realm: PrivateRealm,  # noqa: F811
) -> None:
    """bob is authenticated (an admin) but no packager: 403."""
    headers, _ = negotiate(kerberos_realm, "bob")
    response = await submit(kerberos_daemon, git_world, headers, "demo")
    body = await json_of(response)
    assert response.code == 403
    assert "bob may not submit" in body["message"]


@pytest_twisted.ensureDeferred
async def test_admin_cancels_a_packagers_build(
    kerberos_daemon: RunningDaemon,
    git_world: GitWorld,
    kerberos_realm: PrivateRealm,  # noqa: F811
) -> None:
    """carol (allowed user) cannot cancel alice's build; bob (admin) can."""
    headers, _ = negotiate(kerberos_realm, "alice")
    build = await json_of(await submit(kerberos_daemon, git_world, headers, "m"))
    url = kerberos_daemon.url(f"/rida/module-builds/{build['id']}")
    patch = json.dumps({"state": "failed"}).encode()
    carol, _ = negotiate(kerberos_realm, "carol")
    refused = await treq.patch(url, data=patch, headers=carol)
    assert refused.code == 403
    await refused.content()
    bob, _ = negotiate(kerberos_realm, "bob")
    done = await treq.patch(url, data=patch, headers=bob)
    body = await json_of(done)
    assert done.code == 200, body
    assert body["state_reason"] == "Canceled by bob"


@pytest.mark.parametrize(
    "header",
    [
        b"Negotiate",
        b"Negotiate !!!not-base64",
        b"Negotiate " + base64.b64encode(b"junk"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_malformed_or_forged_token_is_401(
    kerberos_daemon: RunningDaemon, git_world: GitWorld, header: bytes
) -> None:
    """Empty, non-base64 and unverifiable tokens are 401 with the challenge."""
    headers = {**JSON, b"Authorization": [header]}
    response = await submit(kerberos_daemon, git_world, headers, "demo")
    await json_of(response)
    assert response.code == 401
    assert response.headers.getRawHeaders(b"www-authenticate") == [b"Negotiate"]


@pytest_twisted.ensureDeferred
async def test_principal_named_like_the_unauthenticated_owner_is_401(
    kerberos_daemon: RunningDaemon,
    git_world: GitWorld,
    kerberos_realm: PrivateRealm,  # noqa: F811
) -> None:
    """<anonymous>@REALM holds a valid ticket, but the name is ridad's own."""
    kerberos_realm.add_principal(f"<anonymous>@{REALM}")
    headers, _ = negotiate(kerberos_realm, "<anonymous>")
    response = await submit(kerberos_daemon, git_world, headers, "demo")
    body = await json_of(response)
    assert response.code == 401, body
    assert "'<anonymous>' is reserved" in body["message"]


@pytest_twisted.ensureDeferred
async def test_reads_stay_anonymous(kerberos_daemon: RunningDaemon) -> None:
    """GETs need no ticket under kerberos."""
    response = await treq.get(kerberos_daemon.url("/rida/module-builds/"))
    assert response.code == 200
    await response.content()


def test_keytab_without_the_principal_is_a_start_up_error(
    tmp_path: Path,
    kerberos_realm: PrivateRealm,  # noqa: F811
) -> None:
    """A keytab lacking the configured principal is a ConfigError before start."""
    settings = {
        **kerberos_settings(kerberos_realm),
        "keytab": str(kerberos_realm.keytabs[KOJI_CLIENT_PRINCIPAL]),
    }
    path = tmp_path / "ridad.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "listen": "tcp:0:interface=127.0.0.1",
                "scm": {"rpms_default_repository": "git://h/rpms/"},
                "auth": auth_section("kerberos", kerberos=settings),
            }
        )
    )
    with pytest.raises(ConfigError) as caught:
        read_config(str(path))
    (message,) = caught.value.messages
    assert message.startswith(
        f"auth.kerberos.keytab: no usable key for HTTP/localhost@{REALM}"
    )


@pytest_twisted.ensureDeferred
async def test_mbs_routes_challenge_and_accept_negotiate(
    kerberos_daemon: RunningDaemon,
    kerberos_realm: PrivateRealm,  # noqa: F811
) -> None:
    """The MBS-compatible POST and PATCH challenge fedpkg; a ticket gets past."""
    base = kerberos_daemon.url("/module-build-service/1/module-builds/")
    post = await treq.post(base, data=b"{}", headers=JSON)
    patch = await treq.patch(base + "4242", data=b'{"state": "failed"}')
    for response in (post, patch):
        await response.content()
        assert response.code == 401
        assert response.headers.getRawHeaders(b"www-authenticate") == [b"Negotiate"]
    headers, _ = negotiate(kerberos_realm, "alice")
    known = await treq.patch(
        base + "4242", data=b'{"state": "failed"}', headers=headers
    )
    await known.content()
    assert known.code == 404
