"""``rida`` against a running ridad daemon (its MBS-compatible API v2),
real git, real PostgreSQL and kojisim over loopback; and against real TCP
and TLS servers for its network errors and client certificates."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest_twisted
from twisted.internet.ssl import CertificateOptions, PrivateCertificate
from twisted.internet.utils import getProcessOutputAndValue
from twisted.web.resource import Resource
from twisted.web.server import Site

from ridad.cli.main import http_client, rida
from tests.auth.fixtures import (  # noqa: F401 - fixtures
    auth_section,
    kerberos_realm,
    kerberos_settings,
)
from tests.integration.kojiworld import KojiWorld
from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    daemon_config,
    koji_config,
    modulemd_text,
    start_daemon,
    wait_for_state,
)
from tests.unit.koji.certs import issue

REPO = Path(__file__).resolve().parents[2]


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


async def rida_in_process(
    home: Path, *argv: str, environ: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run ``rida argv`` in this process on the real reactor and network."""
    reactor = _reactor()
    out, err = StringIO(), StringIO()
    status = await rida(
        list(argv),
        environ={"HOME": str(home), **(environ or {})},
        out=out,
        err=err,
        clock=reactor,
        http_factory=http_client(reactor),
        token_maker=_no_kerberos,
    )
    return status, out.getvalue(), err.getvalue()


async def rida_process(
    home: Path, *argv: str, environ: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run ``python -m ridad.cli argv`` as a child process (react, exit status)."""
    environ = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", "/usr/bin"),
        **(environ or {}),
    }
    out, err, status = await getProcessOutputAndValue(
        sys.executable,
        ["-m", "ridad.cli", *argv],
        env=environ,
        path=str(REPO),
        reactor=_reactor(),
    )
    return status, out.decode(), err.decode()


async def _no_kerberos(host: str) -> bytes:
    raise AssertionError(f"the test daemon asked for Kerberos ({host})")


@pytest_twisted.async_yield_fixture
async def koji_daemon(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld, tmp_path: Path
) -> AsyncIterator[RunningDaemon]:
    """ridad building through kojisim, with the demo module committed."""
    git_world.module("demo", modulemd_text())
    config = daemon_config(
        database_dsn,
        git_world,
        tmp_path / "state",
        koji=koji_config(koji_world.url),
    )
    daemon = await start_daemon(config, tmp_path / "ridad.yaml")
    yield daemon
    await daemon.service.stopService()


@pytest_twisted.ensureDeferred
async def test_submit_watch_builds_the_demo_module_to_ready_and_exits_0(
    koji_daemon: RunningDaemon, git_world: GitWorld, tmp_path: Path
) -> None:
    """rida submit --watch (the real command, piped) follows the demo module
    to ready and exits 0; show and list --json then see it."""
    status, out, err = await rida_process(
        tmp_path,
        "--server",
        koji_daemon.base_url,
        "submit",
        git_world.scmurl("demo"),
        "--watch",
        "--interval",
        "0.2",
    )
    assert status == 0, out + err
    lines = out.splitlines()
    assert lines[0].startswith("Submitted module build ")
    build_id = int(lines[0].split()[3].rstrip(":"))
    assert lines[-1].startswith(f"build {build_id} demo:main:")
    assert lines[-1].endswith(": ready, 4/4 components done, batch 3")
    assert any(": gamma complete (task " in line for line in lines)
    assert "\x1b" not in out

    status, out, err = await rida_in_process(
        tmp_path, "--server", koji_daemon.base_url, "show", str(build_id)
    )
    assert status == 0, err
    assert "  state:      ready" in out
    assert "  components: 4/4 components done, batch 3" in out

    status, out, err = await rida_in_process(
        tmp_path,
        "list",
        "--json",
        "--state",
        "ready",
        environ={"RIDA_SERVER": koji_daemon.base_url},
    )
    assert status == 0, err
    listed = json.loads(out)
    # The base module of koji.base_module_tags, imported at start-up, is ready too.
    assert [(b["id"], b["name"]) for b in listed][0] == (build_id, "demo")
    assert [(b["name"], b["context"]) for b in listed[1:]] == [("platform", "00000000")]
    assert listed[0]["state_name"] == "ready"


@pytest_twisted.ensureDeferred
async def test_cancel_fails_the_build_and_watch_exits_1(
    koji_daemon: RunningDaemon,
    git_world: GitWorld,
    koji_world: KojiWorld,
    tmp_path: Path,
) -> None:
    """rida cancel fails a building module; rida watch then exits 1."""
    koji_world.hub.build_seconds = 30
    server = ("--server", koji_daemon.base_url)
    status, out, err = await rida_in_process(
        tmp_path, *server, "submit", git_world.scmurl("demo"), "--json"
    )
    assert status == 0, err
    [build] = json.loads(out)
    await wait_for_state(koji_daemon, build["id"], ("wait", "build"))

    status, out, err = await rida_in_process(
        tmp_path, *server, "cancel", str(build["id"])
    )
    assert status == 0, err
    assert out == (
        f"Canceled module build {build['id']} demo:main:{build['version']}:"
        f"{build['context']}: Canceled by <anonymous>\n"
    )
    status, out, err = await rida_in_process(
        tmp_path, *server, "watch", str(build["id"]), "--interval", "0.2"
    )
    assert status == 1, out + err
    assert out.splitlines()[-1].startswith(f"build {build['id']} demo:main:")
    assert out.splitlines()[-1].endswith(": Canceled by <anonymous>")
    assert ": failed, " in out.splitlines()[-1]

    status, out, err = await rida_in_process(
        tmp_path, *server, "cancel", str(build["id"])
    )
    assert status == 3
    assert err.startswith("rida: 400 Bad Request: ")


@pytest_twisted.ensureDeferred
async def test_retire_moves_a_failed_build_to_garbage(
    koji_daemon: RunningDaemon,
    git_world: GitWorld,
    koji_world: KojiWorld,
    tmp_path: Path,
) -> None:
    """rida retire of a canceled (failed) build answers it in garbage (anybody
    may under auth.method none); list --state garbage finds it; retiring it
    again is the server's 400."""
    koji_world.hub.build_seconds = 30
    server = ("--server", koji_daemon.base_url)
    status, out, err = await rida_in_process(
        tmp_path, *server, "submit", git_world.scmurl("demo"), "--json"
    )
    assert status == 0, err
    [build] = json.loads(out)
    await wait_for_state(koji_daemon, build["id"], ("wait", "build"))
    status, _, err = await rida_in_process(
        tmp_path, *server, "cancel", str(build["id"])
    )
    assert status == 0, err

    status, out, err = await rida_in_process(
        tmp_path, *server, "retire", str(build["id"])
    )
    assert status == 0, err
    assert out == (
        f"Retired module build {build['id']} demo:main:{build['version']}:"
        f"{build['context']}: Retired by <anonymous>\n"
    )
    status, out, err = await rida_in_process(
        tmp_path, *server, "list", "--json", "--state", "garbage"
    )
    assert status == 0, err
    assert [(b["id"], b["state"], b["state_name"]) for b in json.loads(out)] == [
        (build["id"], 6, "garbage")
    ]
    status, _, err = await rida_in_process(
        tmp_path, *server, "retire", str(build["id"])
    )
    assert status == 3
    assert err == (
        f"rida: 400 Bad Request: Module build {build['id']} is garbage; only a build"
        " in ready, failed can move to garbage\n"
    )


@pytest_twisted.ensureDeferred
async def test_about_and_unknown_build_against_ridad(
    koji_daemon: RunningDaemon, tmp_path: Path
) -> None:
    """about shows ridad's answer; show of an unknown id exits 3 with its message."""
    server = ("--server", koji_daemon.base_url)
    status, out, err = await rida_in_process(tmp_path, *server, "about", "--json")
    assert status == 0, err
    assert json.loads(out)["api_version"] == 2
    status, out, err = await rida_in_process(tmp_path, *server, "show", "999999")
    assert status == 3
    assert err.startswith("rida: 404 Not Found: ") and "\n" == err[-1]


@pytest_twisted.ensureDeferred
async def test_refused_connection_is_one_line_and_exit_3(tmp_path: Path) -> None:
    """Nothing listening: the real command says so in one line and exits 3."""
    port = _reactor().listenTCP(0, Site(Resource()), interface="127.0.0.1")
    number = port.getHost().port
    await port.stopListening()
    status, out, err = await rida_process(
        tmp_path, "--server", f"http://127.0.0.1:{number}", "list"
    )
    assert status == 3
    assert err == (
        f"rida: cannot reach http://127.0.0.1:{number}: connection refused;"
        " is ridad running? check --server\n"
    )


class _About(Resource):
    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        request.setHeader(b"Content-Type", b"application/json")
        return b'{"api_version": 2, "auth_method": "ssl", "version": "test"}'


@pytest_twisted.async_yield_fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    """An HTTPS server on localhost that requires a client certificate."""
    ca = issue("Test CA", ca=True)
    server = issue("localhost", ca)
    client = issue("alice", ca)
    (tmp_path / "ca.pem").write_bytes(ca.cert_pem)
    cert, key = client.write(tmp_path, "alice", combined=False)
    private = PrivateCertificate.loadPEM(server.cert_pem + server.key_pem)
    options = CertificateOptions(
        privateKey=private.privateKey.original,
        certificate=private.original,
        verify=True,
        caCerts=[PrivateCertificate.loadPEM(ca.cert_pem + ca.key_pem).original],
        requireCertificate=True,
    )
    port = _reactor().listenSSL(0, Site(_About()), options, interface="127.0.0.1")
    yield {
        "server": f"https://localhost:{port.getHost().port}",
        "cert": cert,
        "key": key,
        "ca": str(tmp_path / "ca.pem"),
    }
    await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_client_certificate_is_presented_over_tls(
    tls_server: dict[str, Any], tmp_path: Path
) -> None:
    """With --cert/--key/--ca, rida passes a server requiring a client
    certificate; without --cert the handshake fails with a hint."""
    server, ca = tls_server["server"], tls_server["ca"]
    status, out, err = await rida_in_process(
        tmp_path,
        "--server",
        server,
        "--ca",
        ca,
        "--cert",
        tls_server["cert"],
        "--key",
        tls_server["key"],
        "about",
    )
    assert status == 0, err
    assert "auth_method: ssl" in out
    status, out, err = await rida_in_process(
        tmp_path, "--server", server, "--ca", ca, "about"
    )
    assert status == 3
    assert err.startswith(f"rida: TLS with {server} failed (")
    assert err.endswith("); check --ca, --cert and --key\n")
