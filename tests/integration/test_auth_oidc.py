"""``auth.method: oidc``: bearer tokens checked against a real (fake)
introspection endpoint over HTTP by the real ridad service tree."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_twisted
import treq
from twisted.internet.defer import Deferred, gatherResults

from tests.auth.fixtures import (  # noqa: F401 - fixtures
    ServedProvider,
    auth_section,
    dropping_identity_provider,
    identity_provider,
)
from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    daemon_config,
    json_of,
    modulemd_text,
    start_daemon,
)

JSON = {b"Content-Type": [b"application/json"]}
FAR_FUTURE = 4102444800  # 2100-01-01


async def start_oidc_daemon(
    dsn: str, world: GitWorld, tmp_path: Path, provider: ServedProvider, **oidc: object
) -> RunningDaemon:
    """ridad with ``auth.method: oidc`` against ``provider``."""
    config = daemon_config(
        dsn,
        world,
        tmp_path / "state",
        auth=auth_section("oidc", oidc=provider.oidc_section(**oidc)),
    )
    return await start_daemon(config, tmp_path / "ridad.yaml")


@pytest_twisted.async_yield_fixture
async def oidc_daemon(
    database_dsn: str,
    git_world: GitWorld,
    tmp_path: Path,
    identity_provider: ServedProvider,  # noqa: F811
) -> AsyncIterator[RunningDaemon]:
    """ridad checking tokens with the fake identity provider."""
    daemon = await start_oidc_daemon(
        database_dsn, git_world, tmp_path, identity_provider
    )
    yield daemon
    await daemon.service.stopService()


def bearer(token: str) -> dict[bytes, list[bytes]]:
    """Request headers with a JSON body and a bearer token."""
    return {**JSON, b"Authorization": [b"Bearer " + token.encode()]}


async def submit(
    daemon: RunningDaemon, world: GitWorld, headers: dict, name: str = "demo"
):
    """POST a submission of module ``name``; return the response."""
    world.module(name, modulemd_text())
    return await treq.post(
        daemon.url("/rida/module-builds/"),
        data=json.dumps({"scmurl": world.scmurl(name)}).encode(),
        headers=headers,
    )


async def cancel(daemon: RunningDaemon, module_build_id: int, headers: dict):
    """PATCH a build to failed; return the response."""
    return await treq.request(
        "PATCH",
        daemon.url(f"/rida/module-builds/{module_build_id}"),
        data=json.dumps({"state": "failed"}).encode(),
        headers=headers,
    )


@pytest_twisted.ensureDeferred
async def test_submission_without_token_is_401_with_bearer_challenge(
    oidc_daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """A POST without a token is 401 with WWW-Authenticate: Bearer, in JSON."""
    response = await submit(oidc_daemon, git_world, JSON)
    body = await json_of(response)
    assert response.code == 401
    assert response.headers.getRawHeaders(b"www-authenticate") == [
        b'Bearer realm="ridad"'
    ]
    assert body["status"] == 401 and "oidc" in body["message"]
    assert "details" not in body


@pytest_twisted.ensureDeferred
async def test_reads_stay_anonymous(oidc_daemon: RunningDaemon) -> None:
    """GETs need no token under oidc."""
    response = await treq.get(oidc_daemon.url("/rida/module-builds/"))
    assert response.code == 200
    await response.content()


@pytest_twisted.ensureDeferred
async def test_packager_token_submits_and_is_recorded_as_owner(
    oidc_daemon: RunningDaemon,
    git_world: GitWorld,
    identity_provider: ServedProvider,  # noqa: F811
) -> None:
    """A packager's active token submits; the build's owner is the username."""
    token = identity_provider.provider.add_token(
        "tok-alice", username="alice", groups=["packager"], exp=FAR_FUTURE
    )
    response = await submit(oidc_daemon, git_world, bearer(token))
    body = await json_of(response)
    assert response.code == 201, body
    assert body["owner"] == "alice"
    shown = await treq.get(oidc_daemon.url(f"/rida/module-builds/{body['id']}"))
    assert (await shown.json())["owner"] == "alice"
    assert identity_provider.provider.introspections == ["tok-alice"]


@pytest_twisted.ensureDeferred
async def test_token_is_introspected_once_until_it_expires(
    oidc_daemon: RunningDaemon,
    git_world: GitWorld,
    identity_provider: ServedProvider,  # noqa: F811
) -> None:
    """Two requests with one token make one introspection call (cached)."""
    token = identity_provider.provider.add_token(
        "tok-cached", username="alice", groups=["packager"], exp=FAR_FUTURE
    )
    first = await submit(oidc_daemon, git_world, bearer(token), name="one")
    second = await submit(oidc_daemon, git_world, bearer(token), name="two")
    assert (first.code, second.code) == (201, 201)
    await first.content()
    await second.content()
    assert identity_provider.provider.introspections == ["tok-cached"]


@pytest_twisted.ensureDeferred
async def test_inactive_or_unknown_token_is_401_invalid_token(
    oidc_daemon: RunningDaemon,
    git_world: GitWorld,
    identity_provider: ServedProvider,  # noqa: F811
) -> None:
    """Revoked and unknown tokens are 401 with error="invalid_token"."""
    identity_provider.provider.add_token(
        "tok-revoked", username="alice", groups=["packager"], active=False
    )
    for token in ("tok-revoked", "tok-unknown"):
        response = await submit(oidc_daemon, git_world, bearer(token))
        body = await json_of(response)
        assert response.code == 401, body
        assert response.headers.getRawHeaders(b"www-authenticate") == [
            b'Bearer realm="ridad", error="invalid_token"'
        ]


@pytest_twisted.ensureDeferred
async def test_token_without_required_scope_is_401_insufficient_scope(
    oidc_daemon: RunningDaemon,
    git_world: GitWorld,
    identity_provider: ServedProvider,  # noqa: F811
) -> None:
    """A token lacking the required scope is refused with insufficient_scope."""
    token = identity_provider.provider.add_token(
        "tok-noscope", username="alice", groups=["packager"], scope="openid"
    )
    response = await submit(oidc_daemon, git_world, bearer(token))
    body = await json_of(response)
    assert response.code == 401
    assert "https://rida.example.org/submit" in body["message"]
    (challenge,) = response.headers.getRawHeaders(b"www-authenticate")
    assert b'error="insufficient_scope"' in challenge


@pytest_twisted.ensureDeferred
async def test_authenticated_user_outside_allowed_groups_is_403(
    oidc_daemon: RunningDaemon,
    git_world: GitWorld,
    identity_provider: ServedProvider,  # noqa: F811
) -> None:
    """A valid token of a user in no allowed group gets 403, not 401."""
    token = identity_provider.provider.add_token(
        "tok-dave", username="dave", groups=["users"], exp=FAR_FUTURE
    )
    response = await submit(oidc_daemon, git_world, bearer(token))
    body = await json_of(response)
    assert response.code == 403
    assert "dave may not submit" in body["message"]


@pytest_twisted.ensureDeferred
async def test_allowed_user_submits_without_an_allowed_group(
    oidc_daemon: RunningDaemon,
    git_world: GitWorld,
    identity_provider: ServedProvider,  # noqa: F811
) -> None:
    """A user listed in allowed_users submits whatever their groups."""
    token = identity_provider.provider.add_token("tok-carol", username="carol")
    response = await submit(oidc_daemon, git_world, bearer(token))
    assert response.code == 201
    await response.content()


@pytest_twisted.ensureDeferred
async def test_only_owner_or_admin_may_cancel(
    oidc_daemon: RunningDaemon,
    git_world: GitWorld,
    identity_provider: ServedProvider,  # noqa: F811
) -> None:
    """Another packager gets 403 cancelling; an admin may cancel; no token is 401."""
    provider = identity_provider.provider
    alice = provider.add_token("t-alice", username="alice", groups=["packager"])
    erin = provider.add_token("t-erin", username="erin", groups=["packager"])
    root = provider.add_token("t-root", username="root", groups=["admins"])
    created = await submit(oidc_daemon, git_world, bearer(alice))
    build = await json_of(created)
    anonymous = await cancel(oidc_daemon, build["id"], JSON)
    assert anonymous.code == 401
    await anonymous.content()
    other = await cancel(oidc_daemon, build["id"], bearer(erin))
    assert other.code == 403
    assert "only alice" in (await json_of(other))["message"]
    admin = await cancel(oidc_daemon, build["id"], bearer(root))
    body = await json_of(admin)
    assert admin.code == 200, body
    assert body["state_reason"] == "Canceled by root"


@pytest_twisted.ensureDeferred
async def test_owner_may_cancel_their_build(
    oidc_daemon: RunningDaemon,
    git_world: GitWorld,
    identity_provider: ServedProvider,  # noqa: F811
) -> None:
    """The owner cancels their own build without being an admin."""
    alice = identity_provider.provider.add_token(
        "t-owner", username="alice", groups=["packager"]
    )
    build = await json_of(await submit(oidc_daemon, git_world, bearer(alice)))
    response = await cancel(oidc_daemon, build["id"], bearer(alice))
    body = await json_of(response)
    assert response.code == 200, body
    assert body["state_reason"] == "Canceled by alice"


@pytest_twisted.ensureDeferred
async def test_groups_come_from_userinfo_when_introspection_lacks_them(
    database_dsn: str,
    git_world: GitWorld,
    tmp_path: Path,
    identity_provider: ServedProvider,  # noqa: F811
) -> None:
    """Without a groups claim in introspection, userinfo supplies the groups."""
    provider = identity_provider.provider
    provider.add_token("tok-ui", username="alice")
    provider.userinfo["tok-ui"] = {"username": "alice", "groups": ["packager"]}
    daemon = await start_oidc_daemon(
        database_dsn,
        git_world,
        tmp_path,
        identity_provider,
        userinfo_url=f"{identity_provider.base_url}/userinfo",
    )
    try:
        response = await submit(daemon, git_world, bearer("tok-ui"))
        body = await json_of(response)
        assert response.code == 201, body
        assert provider.userinfo_calls == ["tok-ui"]
    finally:
        await daemon.service.stopService()


@pytest_twisted.ensureDeferred
async def test_unreachable_introspection_endpoint_is_503(
    database_dsn: str,
    git_world: GitWorld,
    tmp_path: Path,
    identity_provider: ServedProvider,  # noqa: F811
) -> None:
    """When the identity provider is down, a POST gets 503 with Retry-After."""
    daemon = await start_oidc_daemon(
        database_dsn,
        git_world,
        tmp_path,
        identity_provider,
        introspection_url="http://127.0.0.1:9/introspect",
    )
    try:
        response = await submit(daemon, git_world, bearer("anything"))
        body = await json_of(response)
        assert response.code == 503, body
        assert response.headers.hasHeader(b"retry-after")
    finally:
        await daemon.service.stopService()


@pytest_twisted.ensureDeferred
async def test_wrong_client_secret_is_503_not_401(
    database_dsn: str,
    git_world: GitWorld,
    tmp_path: Path,
    identity_provider: ServedProvider,  # noqa: F811
) -> None:
    """ridad's own bad client credentials are the server's problem (503)."""
    identity_provider.provider.add_token("tok-x", username="alice")
    daemon = await start_oidc_daemon(
        database_dsn, git_world, tmp_path, identity_provider, client_secret="wrong"
    )
    try:
        response = await submit(daemon, git_world, bearer("tok-x"))
        assert response.code == 503
        await response.content()
    finally:
        await daemon.service.stopService()


@pytest_twisted.ensureDeferred
async def test_80_concurrent_requests_survive_closed_kept_alive_connections(
    database_dsn: str,
    git_world: GitWorld,
    tmp_path: Path,
    dropping_identity_provider: ServedProvider,  # noqa: F811
) -> None:
    """A provider that closes kept-alive connections costs no 503: the
    introspection is sent again on a new connection."""
    served = dropping_identity_provider
    tokens = [
        served.provider.add_token(f"tok-{n}", username=f"user{n}", exp=FAR_FUTURE)
        for n in range(81)
    ]
    daemon = await start_oidc_daemon(database_dsn, git_world, tmp_path, served)
    try:
        # Leaves a kept-alive connection, which the provider then closes.
        warm_up = await cancel(daemon, 424242, bearer(tokens[80]))
        assert warm_up.code == 404, await warm_up.text()
        responses = await gatherResults(
            [
                Deferred.fromCoroutine(cancel(daemon, 424242, bearer(token)))
                for token in tokens[:80]
            ]
        )
        for response in responses:
            await response.content()
    finally:
        await daemon.service.stopService()
    codes = [response.code for response in responses]
    assert codes.count(503) == 0
    assert set(codes) == {404}
    assert served.dropping is not None and served.dropping.dropped >= 1
    assert sorted(served.provider.introspections) == sorted(tokens)


@pytest_twisted.ensureDeferred
async def test_provider_user_named_anonymous_cannot_cancel_unauthenticated_builds(
    database_dsn: str,
    git_world: GitWorld,
    tmp_path: Path,
    identity_provider: ServedProvider,  # noqa: F811
) -> None:
    """Builds submitted under auth none belong to <anonymous>; a provider's
    user "anonymous" is another user, and "<anonymous>" cannot log in."""
    none_daemon = await start_daemon(
        daemon_config(database_dsn, git_world, tmp_path / "none-state"),
        tmp_path / "none.yaml",
    )
    try:
        build = await json_of(await submit(none_daemon, git_world, JSON))
    finally:
        await none_daemon.service.stopService()
    assert build["owner"] == "<anonymous>"
    provider = identity_provider.provider
    named = provider.add_token("t-anon", username="anonymous", groups=["packager"])
    reserved = provider.add_token("t-res", username="<anonymous>", groups=["admins"])
    daemon = await start_oidc_daemon(
        database_dsn, git_world, tmp_path, identity_provider
    )
    try:
        other = await cancel(daemon, build["id"], bearer(named))
        assert other.code == 403
        assert "only <anonymous>" in (await json_of(other))["message"]
        refused = await cancel(daemon, build["id"], bearer(reserved))
        body = await json_of(refused)
        assert refused.code == 401, body
        assert "reserved" in body["message"]
        assert refused.headers.getRawHeaders(b"www-authenticate") == [
            b'Bearer realm="ridad", error="invalid_token"'
        ]
    finally:
        await daemon.service.stopService()
