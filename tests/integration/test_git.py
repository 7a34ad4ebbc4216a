"""GitClient against real git: a git daemon, file:// and smart HTTP on loopback.

Reactor tests (pytest-twisted). Repositories are built in tmp_path with
real commits; set-up uses subprocess, which only tests may do.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.interfaces import IReactorProcess, IReactorTime
from twisted.internet.protocol import ProcessProtocol
from twisted.internet.threads import deferToThreadPool
from twisted.web.server import Site
from twisted.web.twcgi import CGIScript
from zope.interface import implementer

from ridad.errors import InvalidRequest, Unprocessable
from ridad.scm.git import FetchedFile, GitClient, ResolvedRef
from ridad.scm.url import RepoLocation, parse_repository
from tests.helpers import missing, require_program

GIT = shutil.which("git")
HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"


@pytest.fixture(autouse=True)
def _git_installed() -> None:
    """Every test here runs git."""
    require_program("git", "git")


@dataclass(frozen=True)
class Repositories:
    """The served directory and the commits of modules/foo.git."""

    root: Path
    first: str
    main: str
    other: str
    tag_object: str


def _git(*args: str, cwd: Path) -> str:
    """Run git for test set-up and return its stripped stdout."""
    env = {
        "HOME": str(cwd),
        "PATH": os.defpath,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.org",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.org",
        "GIT_COMMITTER_DATE": "2024-01-02T03:04:05Z",
        "GIT_AUTHOR_DATE": "2024-01-02T03:04:05Z",
    }
    done = subprocess.run(
        [GIT or "git", *args], cwd=cwd, env=env, check=True, capture_output=True
    )
    return done.stdout.decode().strip()


@pytest.fixture
def repositories(tmp_path: Path) -> Repositories:
    """A bare modules/foo.git with main, other, an annotated and a light tag."""
    work = tmp_path / "work-tree"
    work.mkdir()
    _git("init", "-q", "-b", "main", cwd=work)
    (work / "foo.yaml").write_text("document: modulemd\nversion: 2\n")
    (work / "foo.spec").write_text("Name: foo\n")
    (work / "big.bin").write_bytes(b"x" * 5000)
    os.mkdir(work / "dir")
    (work / "dir" / "inner.yaml").write_text("inner\n")
    _git("add", ".", cwd=work)
    _git("commit", "-q", "-m", "first", cwd=work)
    first = _git("rev-parse", "HEAD", cwd=work)
    _git("tag", "-a", "v1", "-m", "v1", cwd=work)
    _git("tag", "light", cwd=work)
    (work / "foo.yaml").write_text("document: modulemd\nversion: 2\n# two\n")
    _git("commit", "-q", "-am", "second", cwd=work)
    main = _git("rev-parse", "HEAD", cwd=work)
    _git("checkout", "-q", "-b", "other", cwd=work)
    (work / "other.txt").write_text("other\n")
    _git("add", ".", cwd=work)
    _git("commit", "-q", "-m", "third", cwd=work)
    other = _git("rev-parse", "HEAD", cwd=work)
    root = tmp_path / "served"
    (root / "modules").mkdir(parents=True)
    _git(
        "clone",
        "-q",
        "--bare",
        str(work),
        str(root / "modules" / "foo.git"),
        cwd=tmp_path,
    )
    tag_object = _git("rev-parse", "v1", cwd=work)
    return Repositories(
        root=root, first=first, main=main, other=other, tag_object=tag_object
    )


def _free_port() -> int:
    """Bind port 0 on loopback, read the port the kernel chose, release it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _accepts(port: int) -> bool:
    """Whether something accepts TCP connections on the loopback port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill a process started in its own session, with all its children."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


@pytest.fixture
def git_daemon(repositories: Repositories) -> Iterator[int]:
    """Serve the repositories with git daemon on a free loopback port."""
    for _ in range(5):
        port = _free_port()
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
            if _accepts(port):
                break
            time.sleep(0.05)
        if daemon.poll() is None and _accepts(port):
            break
        _kill_group(daemon)
    else:
        pytest.fail("git daemon did not start")
    yield port
    _kill_group(daemon)


class _GitHttpBackend(CGIScript):
    """git-http-backend as a CGI resource serving a project root."""

    def __init__(self, root: Path) -> None:
        """Serve every repository under root."""
        super().__init__(HTTP_BACKEND)
        self._root = str(root)

    def render(self, request: Any) -> Any:
        """Work around twcgi joining the bytes postpath as text (Twisted 26.10)."""
        request.postpath = [segment.decode() for segment in request.postpath]
        return super().render(request)

    def runProcess(self, env: dict[str, str], request: Any, qargs: Any = ()) -> None:
        """Add the backend's settings to the CGI environment."""
        env.update(GIT_PROJECT_ROOT=self._root, GIT_HTTP_EXPORT_ALL="1")
        super().runProcess(env, request, list(qargs))


@pytest.fixture
def http_server(repositories: Repositories, reactor: Any) -> Iterator[int]:
    """Serve the repositories over smart HTTP on a loopback port."""
    if not os.path.exists(HTTP_BACKEND):
        missing(f"{HTTP_BACKEND} is not installed (apt-get install -y git)")
    port = reactor.listenTCP(
        0, Site(_GitHttpBackend(repositories.root)), interface="127.0.0.1"
    )
    yield port.getHost().port
    pytest_twisted.blockon(port.stopListening())


@pytest.fixture
def reactor() -> Any:
    """The reactor pytest-twisted runs."""
    from twisted.internet import reactor as running_reactor

    return running_reactor


def _threads(reactor: Any) -> Any:
    """A run_blocking that uses the reactor's thread pool, as production does."""
    return lambda f: deferToThreadPool(reactor, reactor.getThreadPool(), f)


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
        run_blocking=_threads(reactor),
    )


def _daemon_repo(port: int, name: str = "foo.git") -> RepoLocation:
    """The git:// location of a repository on the test daemon."""
    return parse_repository(f"git://127.0.0.1:{port}/modules/{name}")


def _file_repo(repositories: Repositories, name: str = "foo.git") -> RepoLocation:
    """The file:// location of a served repository."""
    return parse_repository(f"file://{repositories.root}/modules/{name}")


async def _error(awaitable: Any) -> Unprocessable:
    """Await and return the Unprocessable it must raise."""
    with pytest.raises(Unprocessable) as caught:
        await awaitable
    return caught.value


@pytest_twisted.ensureDeferred
async def test_branch_resolves_to_its_tip_over_git_daemon(
    client: GitClient, git_daemon: int, repositories: Repositories
) -> None:
    """A branch name resolves to the branch's tip commit, marked as a branch."""
    resolved = await client.resolve_ref(_daemon_repo(git_daemon), "main")
    assert resolved == ResolvedRef(
        commit=repositories.main, is_branch=True, branch="main"
    )


@pytest_twisted.ensureDeferred
async def test_tags_resolve_to_the_tagged_commit(
    client: GitClient, git_daemon: int, repositories: Repositories
) -> None:
    """Annotated and lightweight tags both resolve to the commit they mark."""
    location = _daemon_repo(git_daemon)
    for ref in ("v1", "light", "refs/tags/v1"):
        resolved = await client.resolve_ref(location, ref)
        assert resolved == ResolvedRef(
            commit=repositories.first, is_branch=False, branch=None
        )
    assert repositories.tag_object != repositories.first


@pytest_twisted.ensureDeferred
async def test_full_ref_and_full_hash_resolve(
    client: GitClient, git_daemon: int, repositories: Repositories
) -> None:
    """refs/heads/<x> gives the branch; a full hash is returned as given."""
    location = _daemon_repo(git_daemon)
    assert await client.resolve_ref(location, "refs/heads/other") == ResolvedRef(
        commit=repositories.other, is_branch=True, branch="other"
    )
    assert await client.resolve_ref(location, repositories.first) == ResolvedRef(
        commit=repositories.first, is_branch=False, branch=None
    )


@pytest_twisted.ensureDeferred
async def test_missing_repository_over_git_daemon(
    client: GitClient, git_daemon: int
) -> None:
    """A repository the daemon does not have is a permanent missing-repository error."""
    location = _daemon_repo(git_daemon, "nope.git")
    error = await _error(client.resolve_ref(location, "main"))
    assert error.details == {
        "reason": "missing-repository",
        "transient": False,
        "url": location.render(),
    }
    error = await _error(client.resolve_ref(location, "a" * 40))
    assert error.details["reason"] == "missing-repository"


@pytest_twisted.ensureDeferred
async def test_missing_ref_over_git_daemon(client: GitClient, git_daemon: int) -> None:
    """A ref the repository lacks is a missing-ref error naming it."""
    error = await _error(client.resolve_ref(_daemon_repo(git_daemon), "nope"))
    assert error.details["reason"] == "missing-ref"
    assert "'nope'" in error.message


@pytest_twisted.ensureDeferred
async def test_fetch_file_reads_content_and_committer_time(
    client: GitClient, git_daemon: int, repositories: Repositories
) -> None:
    """fetch_file returns the file at the commit and the commit's committer time."""
    location = _daemon_repo(git_daemon)
    fetched = await client.fetch_file(location, repositories.first, "foo.yaml")
    assert fetched == FetchedFile(
        content=b"document: modulemd\nversion: 2\n", committer_time=1704164645
    )
    inner = await client.fetch_file(location, repositories.main, "dir/inner.yaml")
    assert inner.content == b"inner\n"


@pytest_twisted.ensureDeferred
async def test_missing_file_names_file_commit_and_repository(
    client: GitClient, git_daemon: int, repositories: Repositories
) -> None:
    """A file absent at the commit gives missing-file naming file, commit and repository."""
    location = _daemon_repo(git_daemon)
    error = await _error(client.fetch_file(location, repositories.main, "nope.yaml"))
    assert error.details["reason"] == "missing-file"
    assert "nope.yaml" in error.message
    assert repositories.main in error.message
    assert location.render() in error.message
    error = await _error(client.fetch_file(location, repositories.main, "dir"))
    assert error.details["reason"] == "missing-file"


@pytest_twisted.ensureDeferred
async def test_unknown_commit_is_missing_ref(
    client: GitClient, git_daemon: int
) -> None:
    """Fetching a commit the server does not have is a missing-ref error."""
    error = await _error(
        client.fetch_file(_daemon_repo(git_daemon), "0" * 40, "foo.yaml")
    )
    assert error.details["reason"] == "missing-ref"


@pytest_twisted.ensureDeferred
async def test_file_over_the_limit_is_too_large(
    client: GitClient, git_daemon: int, repositories: Repositories
) -> None:
    """A file bigger than max_file_bytes is refused as too-large."""
    error = await _error(
        client.fetch_file(_daemon_repo(git_daemon), repositories.main, "big.bin")
    )
    assert error.details["reason"] == "too-large"


@pytest_twisted.ensureDeferred
async def test_has_file_finds_files_but_not_directories(
    client: GitClient, git_daemon: int, repositories: Repositories
) -> None:
    """has_file is true for a file, false for a missing path or a directory."""
    location = _daemon_repo(git_daemon)
    assert await client.has_file(location, repositories.main, "foo.spec")
    assert not await client.has_file(location, repositories.main, "bar.spec")
    assert not await client.has_file(location, repositories.main, "dir")


@pytest_twisted.ensureDeferred
async def test_branch_contains_ancestors_but_not_other_branches(
    client: GitClient, git_daemon: int, repositories: Repositories
) -> None:
    """A branch contains its tip and ancestors, not commits only on another branch."""
    location = _daemon_repo(git_daemon)
    assert await client.branch_contains(location, "main", repositories.main)
    assert await client.branch_contains(location, "main", repositories.first)
    assert await client.branch_contains(location, "other", repositories.main)
    assert not await client.branch_contains(location, "main", repositories.other)
    assert not await client.branch_contains(location, "main", "0" * 40)
    error = await _error(client.branch_contains(location, "nope", repositories.main))
    assert error.details["reason"] == "missing-ref"


@pytest_twisted.ensureDeferred
async def test_file_urls_work_like_git_urls(
    client: GitClient, repositories: Repositories
) -> None:
    """Resolution, fetching and ancestry also work over file://."""
    location = _file_repo(repositories)
    resolved = await client.resolve_ref(location, "main")
    assert resolved.commit == repositories.main
    fetched = await client.fetch_file(location, resolved.commit, "foo.spec")
    assert fetched.content == b"Name: foo\n"
    assert await client.branch_contains(location, "other", repositories.first)


@pytest_twisted.ensureDeferred
async def test_missing_repository_and_commit_over_file(
    client: GitClient, repositories: Repositories
) -> None:
    """file:// gives missing-repository and missing-ref like git:// does."""
    missing = await _error(
        client.resolve_ref(_file_repo(repositories, "nope.git"), "main")
    )
    assert missing.details["reason"] == "missing-repository"
    unknown = await _error(
        client.fetch_file(_file_repo(repositories), "0" * 40, "foo.yaml")
    )
    assert unknown.details["reason"] == "missing-ref"


@pytest_twisted.ensureDeferred
async def test_smart_http_resolves_fetches_and_reports_missing_repository(
    client: GitClient, http_server: int, repositories: Repositories
) -> None:
    """Over http:// a ref resolves, a file is fetched, and an unknown repository is missing."""
    location = parse_repository(f"http://127.0.0.1:{http_server}/modules/foo.git")
    resolved = await client.resolve_ref(location, "v1")
    assert resolved.commit == repositories.first
    fetched = await client.fetch_file(location, resolved.commit, "foo.spec")
    assert fetched.content == b"Name: foo\n"
    missing = parse_repository(f"http://127.0.0.1:{http_server}/modules/nope.git")
    error = await _error(client.resolve_ref(missing, "main"))
    assert error.details["reason"] == "missing-repository"


@pytest_twisted.ensureDeferred
async def test_closed_port_is_transient_unreachable(
    client: GitClient, work_dir: Path
) -> None:
    """Nothing listening on the port gives a transient unreachable error."""
    for scheme in ("git", "http"):
        location = parse_repository(
            f"{scheme}://127.0.0.1:{_free_port()}/modules/foo.git"
        )
        error = await _error(client.resolve_ref(location, "main"))
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
        run_blocking=_threads(reactor),
    )
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        port = silent.getsockname()[1]
        location = parse_repository(f"git://127.0.0.1:{port}/modules/foo.git")
        started = reactor.seconds()
        error = await _error(client.resolve_ref(location, "main"))
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
        run_blocking=_threads(reactor),
    )
    location = _daemon_repo(git_daemon)
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
    location = _daemon_repo(git_daemon)
    await client.fetch_file(location, repositories.main, "foo.yaml")
    await client.branch_contains(location, "main", repositories.first)
    await _error(client.fetch_file(location, repositories.main, "nope.yaml"))
    await _error(client.fetch_file(location, repositories.main, "big.bin"))
    await _error(client.resolve_ref(_daemon_repo(git_daemon, "nope.git"), "main"))
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
        run_blocking=_threads(reactor),
    )
    location = _daemon_repo(git_daemon)
    calls = [
        client.fetch_file(location, repositories.main, "foo.spec") for _ in range(6)
    ]
    results = await gatherResults([Deferred.fromCoroutine(c) for c in calls])
    assert {r.content for r in results} == {b"Name: foo\n"}
    assert counting.spawned == 6 * 5  # init, fetch, ls-tree, cat-file, log
    assert counting.peak == 2
    assert counting.alive == 0
