"""The bounds of a submission through the real service tree: a 1,001
component modulemd refused before any component git work, a silent
whitelisted server answered as slow, and SPECs that are symbolic links.
Real HTTP, a real git daemon (behind a counting proxy for the component
repositories) and real PostgreSQL."""

from __future__ import annotations

import json
import os
import socket
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq

from tests.gitrepos import GitServer, git
from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    daemon_config,
    json_of,
    modulemd_text,
    start_daemon,
)
from tests.netproxy import FreezableProxy

JSON = {b"Content-Type": [b"application/json"]}


@dataclass
class Proxied:
    """ridad whose component repositories are reached through ``proxy``."""

    daemon: RunningDaemon
    proxy: FreezableProxy


@pytest_twisted.async_yield_fixture
async def proxied(
    database_dsn: str, git_world: GitWorld, git_server: GitServer, tmp_path: Path
) -> AsyncIterator[Proxied]:
    """ridad with scm.rpms_default_repository behind a proxy that counts
    connections to the git daemon."""
    from twisted.internet import reactor

    proxy = FreezableProxy("127.0.0.1", git_server.port)
    port = reactor.listenTCP(0, proxy, interface="127.0.0.1")
    rpms = f"git://127.0.0.1:{port.getHost().port}/{git_world.prefix}/rpms/"
    config = daemon_config(
        database_dsn,
        git_world,
        tmp_path / "state",
        scm={"rpms_default_repository": rpms},
    )
    daemon = await start_daemon(config, tmp_path / "ridad.yaml")
    yield Proxied(daemon=daemon, proxy=proxy)
    await daemon.service.stopService()
    await port.stopListening()


async def _submit(daemon: RunningDaemon, scmurl: str) -> tuple[int, Any]:
    """POST a submission; return status and JSON body."""
    response = await treq.post(
        daemon.url("/rida/module-builds/"),
        data=json.dumps({"scmurl": scmurl, "branch": "main"}).encode(),
        headers=JSON,
    )
    return response.code, await json_of(response)


def _components(count: int) -> dict[str, dict[str, Any]]:
    """``count`` rpm components (none of which has a repository)."""
    return {
        f"c{index:04d}": {"rationale": "many", "buildorder": 1}
        for index in range(count)
    }


@pytest_twisted.ensureDeferred
async def test_1001_components_are_refused_before_any_component_git_command(
    proxied: Proxied, git_world: GitWorld
) -> None:
    """1,001 components: 422 at once, and the component server saw no connection; 3 components do reach it."""
    commit = git_world.module("big", modulemd_text(_components(1001)))
    code, body = await _submit(proxied.daemon, git_world.scmurl("big", commit))
    assert code == 422, body
    assert body["details"] == {"component_count": 1001, "max_components": 1000}
    assert "api.max_components" in body["message"]
    assert proxied.proxy.servers == []
    commit = git_world.module("small", modulemd_text())
    code, body = await _submit(proxied.daemon, git_world.scmurl("small", commit))
    assert code == 201, body
    assert len(proxied.proxy.servers) >= 3


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        yield silent.getsockname()[1]


@pytest_twisted.ensureDeferred
async def test_a_silent_whitelisted_server_is_a_transient_422_naming_it(
    database_dsn: str, git_world: GitWorld, tmp_path: Path, silent_port: int
) -> None:
    """A module server that never answers is refused as slow after scm.git_first_byte_timeout_seconds."""
    silent = f"git://127.0.0.1:{silent_port}/modules/"
    config = daemon_config(
        database_dsn,
        git_world,
        tmp_path / "state",
        scm={
            "allowed": [silent],
            "git_timeout_seconds": 600,
            "git_first_byte_timeout_seconds": 1,
        },
    )
    daemon = await start_daemon(config, tmp_path / "ridad.yaml")
    try:
        code, body = await _submit(daemon, f"{silent}demo.git?#main")
    finally:
        await daemon.service.stopService()
    assert code == 422, body
    url = f"git://127.0.0.1:{silent_port}/modules/demo.git"
    assert body["details"] == {"reason": "slow", "transient": True, "url": url}
    assert url in body["message"] and "slow" in body["message"]


def _symlinked_rpm(world: GitWorld, name: str, target: str) -> None:
    """Commit ``rpms/<name>.git`` whose ``<name>.spec`` links to ``target``."""
    bare = world.root / "rpms" / f"{name}.git"
    with tempfile.TemporaryDirectory() as work:
        git("init", "-q", "-b", "main", work)
        os.symlink(target, os.path.join(work, f"{name}.spec"))
        git("add", "-A", cwd=Path(work))
        git("commit", "-q", "-m", "link", cwd=Path(work))
        bare.parent.mkdir(parents=True, exist_ok=True)
        git("clone", "-q", "--bare", work, str(bare))


@pytest_twisted.ensureDeferred
async def test_symlinked_specs_are_422_saying_so(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """A SPEC linking to /etc/passwd, and a dangling one, are refused by name; the real one passes."""
    _symlinked_rpm(git_world, "passwd", "/etc/passwd")
    _symlinked_rpm(git_world, "dangling", "nowhere.spec")
    components = {
        name: {"rationale": "r", "buildorder": 1}
        for name in ("alpha", "passwd", "dangling")
    }
    commit = git_world.module("links", modulemd_text(components))
    code, body = await _submit(daemon, git_world.scmurl("links", commit))
    assert code == 422, body
    problems = sorted(body["details"]["components"])
    assert len(problems) == 2
    for problem, name in zip(problems, ("dangling", "passwd"), strict=True):
        assert problem.startswith(f"{name}: {name}.spec at commit ")
        assert "is a symbolic link" in problem
        assert f"in {git_world.url(f'rpms/{name}')} is a symbolic" in problem
