"""Fixtures for integration tests: real git servers and a real ridad
service tree built by ``makeService``, listening on 127.0.0.1 port 0."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_twisted

from tests.gitrepos import GitServer, start_git_daemon
from tests.integration.kojiworld import KojiWorld, start_koji_world
from tests.integration.processes import Processes
from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    daemon_config,
    start_daemon,
)


@pytest.fixture(scope="session")
def git_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    """A git daemon serving a session-wide directory on 127.0.0.1."""
    server = start_git_daemon(tmp_path_factory.mktemp("git"))
    yield server
    server.stop()


@pytest.fixture
def git_world(git_server: GitServer) -> GitWorld:
    """A fresh corner of the git server, with the three demo components."""
    prefix = uuid.uuid4().hex[:12]
    world = GitWorld(server=git_server, prefix=prefix, root=git_server.base / prefix)
    for name in ("alpha", "beta", "gamma"):
        world.commits[name] = world.rpm(name)
    return world


@pytest_twisted.async_yield_fixture
async def daemon(
    database_dsn: str, git_world: GitWorld, tmp_path: Path
) -> AsyncIterator[RunningDaemon]:
    """ridad on a fresh database, whitelisting this test's git corner."""
    running = await start_daemon(
        daemon_config(database_dsn, git_world, tmp_path / "state"),
        tmp_path / "ridad.yaml",
    )
    yield running
    await running.service.stopService()


@pytest_twisted.async_yield_fixture
async def koji_world() -> AsyncIterator[KojiWorld]:
    """kojisim on a free port of 127.0.0.1, with the f40-build tag."""
    from twisted.internet import reactor

    world = await start_koji_world(reactor)
    yield world
    await world.close()


@pytest_twisted.async_yield_fixture
async def processes(tmp_path: Path) -> AsyncIterator[Processes]:
    """The test's ridad processes; every one still running is killed at the end,
    and their output's tail printed (pytest shows it when the test fails)."""
    running = Processes(tmp_path=tmp_path)
    try:
        yield running
    finally:
        await running.kill_all()
        print(running.report())
