"""GitClient against real git at its limits: servers that are not there or
never answer, refs and paths that look like options, the temporary
directories it leaves (none) and its bound on concurrent git processes.

Reactor tests (pytest-twisted). The repository is built in tmp_path with
real commits (conftest.py); ordinary resolving and fetching are in
test_git_fetch.py.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.interfaces import IReactorProcess, IReactorTime
from twisted.internet.protocol import ProcessProtocol
from zope.interface import implementer

from ridad.errors import InvalidRequest
from ridad.scm.git import GitClient
from ridad.scm.url import parse_repository
from tests.gitrepos import free_port
from tests.integration.gitservers import (
    GIT,
    Repositories,
    daemon_repo,
    reactor_threads,
    unprocessable,
)

pytestmark = pytest.mark.usefixtures("git_installed")


@pytest_twisted.ensureDeferred
async def test_closed_port_is_transient_unreachable(
    client: GitClient, work_dir: Path
) -> None:
    """Nothing listening on the port gives a transient unreachable error."""
    for scheme in ("git", "http"):
        location = parse_repository(
            f"{scheme}://127.0.0.1:{free_port()}/modules/foo.git"
        )
        error = await unprocessable(client.resolve_ref(location, "main"))
        assert error.details == {
            "reason": "unreachable",
            "transient": True,
            "url": location.render(),
        }
        assert "retry later" in error.message
    assert os.listdir(work_dir) == []


@pytest_twisted.ensureDeferred
async def test_silent_server_times_out_and_git_is_killed(
    reactor: Any, work_dir: Path
) -> None:
    """A server that accepts but never answers makes git time out; the error is transient."""
    client = GitClient(
        reactor=reactor,
        timeout_seconds=0.5,
        max_concurrent=1,
        temp_dir=str(work_dir),
        run_blocking=reactor_threads(reactor),
    )
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        port = silent.getsockname()[1]
        location = parse_repository(f"git://127.0.0.1:{port}/modules/foo.git")
        started = reactor.seconds()
        error = await unprocessable(client.resolve_ref(location, "main"))
        elapsed = reactor.seconds() - started
    assert error.details == {
        "reason": "timeout",
        "transient": True,
        "url": location.render(),
    }
    assert elapsed < 5
    assert os.listdir(work_dir) == []


@pytest_twisted.ensureDeferred
async def test_option_like_refs_and_paths_never_reach_git(
    reactor: Any,
    work_dir: Path,
    tmp_path: Path,
    git_daemon: int,
    repositories: Repositories,
) -> None:
    """Refs and paths that look like options are refused before git runs; real calls put '--' first."""
    record = tmp_path / "argv.log"
    wrapper = tmp_path / "git-wrapper"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> {record}\nexec {GIT} "$@"\n')
    wrapper.chmod(0o755)
    client = GitClient(
        reactor=reactor,
        git_binary=str(wrapper),
        timeout_seconds=20.0,
        max_concurrent=1,
        temp_dir=str(work_dir),
        run_blocking=reactor_threads(reactor),
    )
    location = daemon_repo(git_daemon)
    pwned = tmp_path / "pwned"
    for ref in (f"--upload-pack=touch {pwned}", "-oProxyCommand=x", "--foo"):
        with pytest.raises(InvalidRequest):
            await client.resolve_ref(location, ref)
    with pytest.raises(InvalidRequest):
        await client.fetch_file(location, repositories.main, "--output=x")
    with pytest.raises(InvalidRequest):
        await client.branch_contains(location, "-x", repositories.main)
    assert not record.exists()
    assert not pwned.exists()
    await client.resolve_ref(location, "main")
    argv = record.read_text().splitlines()
    assert argv[argv.index("ls-remote") + 1 :][:2] == ["--", location.url]


@pytest_twisted.ensureDeferred
async def test_temporary_directories_are_removed(
    client: GitClient, work_dir: Path, git_daemon: int, repositories: Repositories
) -> None:
    """No temporary directory is left after successes or failures."""
    location = daemon_repo(git_daemon)
    await client.fetch_file(location, repositories.main, "foo.yaml")
    await client.branch_contains(location, "main", repositories.first)
    await unprocessable(client.fetch_file(location, repositories.main, "nope.yaml"))
    await unprocessable(client.fetch_file(location, repositories.main, "big.bin"))
    await unprocessable(client.resolve_ref(daemon_repo(git_daemon, "nope.git"), "main"))
    assert os.listdir(work_dir) == []


@implementer(IReactorProcess, IReactorTime)
class _CountingReactor:
    """Delegates to the real reactor and counts git processes alive at once."""

    def __init__(self, reactor: Any) -> None:
        """Wrap reactor."""
        self._reactor = reactor
        self.alive = 0
        self.peak = 0
        self.spawned = 0

    def spawnProcess(self, protocol: ProcessProtocol, *args: Any, **kwargs: Any) -> Any:
        """Count the process from spawn until its protocol hears it ended."""
        ended = protocol.processEnded

        def counted(reason: Any) -> None:
            self.alive -= 1
            ended(reason)

        protocol.processEnded = counted  # type: ignore[method-assign]
        self.alive += 1
        self.spawned += 1
        self.peak = max(self.peak, self.alive)
        return self._reactor.spawnProcess(protocol, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        """Everything else (callLater, seconds, ...) is the real reactor's."""
        return getattr(self._reactor, name)


@pytest_twisted.ensureDeferred
async def test_concurrency_bound_is_respected(
    reactor: Any, work_dir: Path, git_daemon: int, repositories: Repositories
) -> None:
    """With max_concurrent=2, never more than two git processes run at once."""
    counting = _CountingReactor(reactor)
    client = GitClient(
        reactor=counting,
        timeout_seconds=20.0,
        max_concurrent=2,
        temp_dir=str(work_dir),
        run_blocking=reactor_threads(reactor),
    )
    location = daemon_repo(git_daemon)
    calls = [
        client.fetch_file(location, repositories.main, "foo.spec") for _ in range(6)
    ]
    results = await gatherResults([Deferred.fromCoroutine(c) for c in calls])
    assert {r.content for r in results} == {b"Name: foo\n"}
    assert counting.spawned == 6 * 5  # init, fetch, ls-tree, cat-file, log
    assert counting.peak == 2
    assert counting.alive == 0
