"""``auth.method: ssl``: the real ridad service tree serves the API over TLS
and knows users by their verified client certificate's CN."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import yaml
from treq.client import HTTPClient
from twisted.internet.ssl import Certificate, PrivateCertificate
from twisted.internet.ssl import trustRootFromCertificates as trust_root_of
from twisted.web.client import Agent, HTTPConnectionPool, ResponseNeverReceived

from ridad.composition import read_config
from ridad.errors import ConfigError
from ridad.koji.tls import ClientCertificatePolicy
from tests.auth.certs import TlsFiles
from tests.auth.fixtures import auth_section, ssl_settings, tls_files  # noqa: F401
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
async def ssl_daemon(
    database_dsn: str,
    git_world: GitWorld,
    tmp_path: Path,
    tls_files: TlsFiles,  # noqa: F811
) -> AsyncIterator[RunningDaemon]:
    """ridad over TLS, verifying client certificates against the test CA."""
    config = daemon_config(
        database_dsn,
        git_world,
        tmp_path / "state",
        auth=auth_section("ssl", ssl=ssl_settings(tls_files)),
    )
    daemon = await start_daemon(config, tmp_path / "ridad.yaml")
    daemon.base_url = daemon.base_url.replace("http://", "https://")
    yield daemon
    await daemon.service.stopService()


@pytest_twisted.async_yield_fixture
async def clients(tls_files: TlsFiles) -> AsyncIterator[Any]:  # noqa: F811
    """``clients(name)``: a treq client presenting that certificate (None: none)."""
    from twisted.internet import reactor

    pools: list[HTTPConnectionPool] = []
    trust = trust_root_of([Certificate.loadPEM(tls_files.ca.read_bytes())])

    def client(name: str | None, files: tuple[Path, Path] | None = None) -> HTTPClient:
        if files is None and name is not None:
            files = tls_files.clients[name]
        certificate = None
        if files is not None:
            certificate = PrivateCertificate.loadPEM(
                files[0].read_bytes() + files[1].read_bytes()
            )
        pool = HTTPConnectionPool(reactor, persistent=False)
        pools.append(pool)
        policy = ClientCertificatePolicy(
            trust_root=trust, client_certificate=certificate
        )
        return HTTPClient(Agent(reactor, contextFactory=policy, pool=pool))

    yield client
    for pool in pools:
        await pool.closeCachedConnections()


async def submit(http: HTTPClient, daemon: RunningDaemon, world: GitWorld, name: str):
    """POST a submission of module ``name``; return the response."""
    world.module(name, modulemd_text())
    return await http.post(
        daemon.url("/rida/module-builds/"),
        data=json.dumps({"scmurl": world.scmurl(name)}).encode(),
        headers=JSON,
    )


@pytest_twisted.ensureDeferred
async def test_anonymous_get_works_over_tls_without_certificate(
    ssl_daemon: RunningDaemon, clients: Any
) -> None:
    """A client without a certificate completes the handshake and reads."""
    response = await clients(None).get(ssl_daemon.url("/rida/module-builds/"))
    assert response.code == 200
    await response.content()


@pytest_twisted.ensureDeferred
async def test_submission_without_certificate_is_401(
    ssl_daemon: RunningDaemon, clients: Any, git_world: GitWorld
) -> None:
    """A POST over TLS without a client certificate is 401."""
    response = await submit(clients(None), ssl_daemon, git_world, "demo")
    body = await json_of(response)
    assert response.code == 401
    assert "ssl" in body["message"]


@pytest_twisted.ensureDeferred
async def test_certificate_cn_is_the_owner(
    ssl_daemon: RunningDaemon, clients: Any, git_world: GitWorld
) -> None:
    """A packager's trusted certificate submits; its CN is the owner."""
    response = await submit(clients("alice"), ssl_daemon, git_world, "demo")
    body = await json_of(response)
    assert response.code == 201, body
    assert body["owner"] == "alice"


@pytest_twisted.ensureDeferred
async def test_certificate_of_user_not_allowed_is_403(
    ssl_daemon: RunningDaemon, clients: Any, git_world: GitWorld
) -> None:
    """bob (an admin, not a packager) is authenticated but may not submit."""
    response = await submit(clients("bob"), ssl_daemon, git_world, "demo")
    assert response.code == 403
    await response.content()


@pytest_twisted.ensureDeferred
async def test_certificate_named_like_the_unauthenticated_owner_is_401(
    ssl_daemon: RunningDaemon, clients: Any, git_world: GitWorld
) -> None:
    """A trusted certificate with CN <anonymous> is refused: the name is ridad's."""
    response = await submit(clients("<anonymous>"), ssl_daemon, git_world, "demo")
    body = await json_of(response)
    assert response.code == 401, body
    assert "'<anonymous>' is reserved" in body["message"]


@pytest_twisted.ensureDeferred
async def test_admin_certificate_cancels_someone_elses_build(
    ssl_daemon: RunningDaemon, clients: Any, git_world: GitWorld
) -> None:
    """An admin's certificate cancels alice's build; carol's does not."""
    build = await json_of(await submit(clients("alice"), ssl_daemon, git_world, "m"))
    url = ssl_daemon.url(f"/rida/module-builds/{build['id']}")
    patch = json.dumps({"state": "failed"}).encode()
    refused = await clients("carol").patch(url, data=patch, headers=JSON)
    assert refused.code == 403
    await refused.content()
    done = await clients("bob").patch(url, data=patch, headers=JSON)
    body = await json_of(done)
    assert done.code == 200, body
    assert body["state_reason"] == "Canceled by bob"


@pytest_twisted.ensureDeferred
async def test_untrusted_certificate_fails_the_handshake(
    ssl_daemon: RunningDaemon,
    clients: Any,
    tls_files: TlsFiles,  # noqa: F811
) -> None:
    """A certificate from another CA is refused during the TLS handshake."""
    http = clients(None, tls_files.untrusted)
    with pytest.raises(ResponseNeverReceived):
        await http.get(ssl_daemon.url("/rida/module-builds/"))


def test_bad_tls_files_are_reported_at_start_up(
    tmp_path: Path,
    tls_files: TlsFiles,  # noqa: F811
) -> None:
    """Unreadable CA, a key not matching the certificate: ConfigError, with paths."""
    settings = ssl_settings(tls_files)
    config = {
        "listen": "tcp:0:interface=127.0.0.1",
        "scm": {"rpms_default_repository": "git://h/rpms/"},
        "auth": auth_section(
            "ssl",
            ssl={
                **settings,
                "ca": str(tmp_path / "missing.crt"),
                "key": str(tls_files.clients["alice"][1]),
            },
        ),
    }
    path = tmp_path / "ridad.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError) as caught:
        read_config(str(path))
    assert caught.value.messages == [
        f"auth.ssl.ca: cannot read {tmp_path / 'missing.crt'}: No such file or directory"
    ]
    config["auth"]["ssl"]["ca"] = settings["ca"]
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError) as caught:
        read_config(str(path))
    assert caught.value.messages == [
        "auth.ssl.key: does not match the certificate auth.ssl.cert"
    ]
