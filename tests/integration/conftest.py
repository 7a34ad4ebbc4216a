"""Fixtures for integration tests: real git servers and a real ridad
service tree built by ``makeService``, listening on 127.0.0.1 port 0; the
running reactor; and for the GitClient tests against real git
(test_git_fetch.py, test_git_limits.py) a served repository and a client."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from ridad.scm.git import GitClient
from tests.gitrepos import GitServer, free_port, start_git_daemon
from tests.helpers import require_program
from tests.integration.gitservers import (
    GIT,
    Repositories,
    accepts,
    kill_group,
    reactor_threads,
    run_git,
)
from tests.integration.kojiworld import KojiWorld, start_koji_world
from tests.integration.openapi_fuzz import SUMMARIES
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


@pytest.fixture
def reactor() -> Any:
    """The reactor pytest-twisted runs."""
    from twisted.internet import reactor as running_reactor

    return running_reactor


# GitClient against real git


@pytest.fixture
def git_installed() -> None:
    """The GitClient tests run git (they use this fixture module-wide)."""
    require_program("git", "git")


@pytest.fixture
def repositories(tmp_path: Path) -> Repositories:
    """A bare modules/foo.git with main, other, an annotated and a light tag."""
    work = tmp_path / "work-tree"
    work.mkdir()
    run_git("init", "-q", "-b", "main", cwd=work)
    (work / "foo.yaml").write_text("document: modulemd\nversion: 2\n")
    (work / "foo.spec").write_text("Name: foo\n")
    (work / "big.bin").write_bytes(b"x" * 5000)
    os.mkdir(work / "dir")
    (work / "dir" / "inner.yaml").write_text("inner\n")
    run_git("add", ".", cwd=work)
    run_git("commit", "-q", "-m", "first", cwd=work)
    first = run_git("rev-parse", "HEAD", cwd=work)
    run_git("tag", "-a", "v1", "-m", "v1", cwd=work)
    run_git("tag", "light", cwd=work)
    (work / "foo.yaml").write_text("document: modulemd\nversion: 2\n# two\n")
    run_git("commit", "-q", "-am", "second", cwd=work)
    main = run_git("rev-parse", "HEAD", cwd=work)
    run_git("checkout", "-q", "-b", "other", cwd=work)
    (work / "other.txt").write_text("other\n")
    run_git("add", ".", cwd=work)
    run_git("commit", "-q", "-m", "third", cwd=work)
    other = run_git("rev-parse", "HEAD", cwd=work)
    root = tmp_path / "served"
    (root / "modules").mkdir(parents=True)
    run_git(
        "clone",
        "-q",
        "--bare",
        str(work),
        str(root / "modules" / "foo.git"),
        cwd=tmp_path,
    )
    tag_object = run_git("rev-parse", "v1", cwd=work)
    return Repositories(
        root=root, first=first, main=main, other=other, tag_object=tag_object
    )


@pytest.fixture
def git_daemon(repositories: Repositories) -> Iterator[int]:
    """Serve the repositories with git daemon on a free loopback port."""
    for _ in range(5):
        port = free_port()
        daemon = subprocess.Popen(
            [
                GIT or "git",
                "daemon",
                "--export-all",
                f"--base-path={repositories.root}",
                "--listen=127.0.0.1",
                f"--port={port}",
                "--reuseaddr",
                str(repositories.root),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while daemon.poll() is None and time.monotonic() < deadline:
            if accepts(port):
                break
            time.sleep(0.05)
        if daemon.poll() is None and accepts(port):
            break
        kill_group(daemon)
    else:
        pytest.fail("git daemon did not start")
    yield port
    kill_group(daemon)


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    """The directory GitClient creates its temporary directories in."""
    path = tmp_path / "git-temp"
    path.mkdir()
    return path


@pytest.fixture
def client(reactor: Any, work_dir: Path) -> GitClient:
    """A GitClient on the real reactor."""
    return GitClient(
        reactor=reactor,
        timeout_seconds=20.0,
        max_concurrent=4,
        temp_dir=str(work_dir),
        max_file_bytes=4096,
        run_blocking=reactor_threads(reactor),
    )


def pytest_terminal_summary(
    terminalreporter: Any, exitstatus: int, config: pytest.Config
) -> None:
    """Print what the schemathesis run sent and got, passed or failed."""
    summaries = config.stash.get(SUMMARIES, [])
    if summaries:
        terminalreporter.section("schemathesis against a live ridad")
        for summary in summaries:
            terminalreporter.write_line(summary)


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
