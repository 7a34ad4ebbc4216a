"""GitClient's bounds against real git: partial fetches beside a 40 MB blob
(with and without server filter support), the per-submission fetch budget,
symbolic links, silent servers and the fair slots.

Served by a real ``git daemon``, smart HTTP (git-http-backend as CGI) and
file://. Repositories are built once per module; set-up uses subprocess,
which only tests may do.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.threads import deferToThreadPool
from twisted.web.server import Site
from twisted.web.twcgi import CGIScript

from ridad.errors import Unprocessable
from ridad.scm.git import FetchBudget, GitClient, Requester
from ridad.scm.url import RepoLocation, parse_repository
from tests.gitrepos import GitServer, git, start_git_daemon
from tests.helpers import missing, require_program

HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"
BLOB_BYTES = 40 * 1024 * 1024
MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def _git_installed() -> None:
    """Every test here runs git."""
    require_program("git", "git")


@dataclass(frozen=True)
class Served:
    """The served directory, its daemon and the one commit of both repositories.

    ``filtering.git`` allows ``--filter`` (uploadpack.allowFilter); ``plain.git``
    holds the same commit on a server without filter support.
    """

    root: Path
    daemon: GitServer
    commit: str

    def location(self, scheme: str, name: str, port: int = 0) -> RepoLocation:
        """The location of ``name`` over git://, http:// or file://."""
        if scheme == "git":
            return parse_repository(self.daemon.url(name))
        if scheme == "http":
            return parse_repository(f"http://127.0.0.1:{port}/{name}")
        return parse_repository(f"file://{self.root}/{name}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One commit: foo.spec, a 40 MB random blob, and SPECs that are symbolic
    links (to /etc/passwd, and to nothing)."""
    base = tmp_path_factory.mktemp("limits")
    work = base / "work"
    git("init", "-q", "-b", "main", str(work))
    (work / "foo.spec").write_text("Name: foo\n")
    (work / "foo.yaml").write_text("document: modulemd\n")
    (work / "big.bin").write_bytes(os.urandom(BLOB_BYTES))
    os.symlink("/etc/passwd", work / "passwd.spec")
    os.symlink("nowhere", work / "dangling.spec")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "big", cwd=work)
    commit = git("rev-parse", "HEAD", cwd=work)
    root = base / "served"
    root.mkdir()
    for name in ("filtering.git", "plain.git"):
        git("clone", "-q", "--bare", str(work), str(root / name), cwd=base)
    git("config", "uploadpack.allowFilter", "true", cwd=root / "filtering.git")
    daemon = start_git_daemon(root)
    yield Served(root=root, daemon=daemon, commit=commit)
    daemon.stop()


class _GitHttpBackend(CGIScript):
    """git-http-backend as a CGI resource serving a project root."""

    def __init__(self, root: Path) -> None:
        """Serve every repository under root."""
        super().__init__(HTTP_BACKEND)
        self._root = str(root)

    def render(self, request: Any) -> Any:
        """Work around twcgi joining the bytes postpath as text."""
        request.postpath = [segment.decode() for segment in request.postpath]
        return super().render(request)

    def runProcess(self, env: dict[str, str], request: Any, qargs: Any = ()) -> None:
        """Add the backend's settings to the CGI environment."""
        env.update(GIT_PROJECT_ROOT=self._root, GIT_HTTP_EXPORT_ALL="1")
        super().runProcess(env, request, list(qargs))


@pytest.fixture
def http_port(served: Served) -> Iterator[int]:
    """Serve the repositories over smart HTTP on a loopback port."""
    from twisted.internet import reactor

    if not os.path.exists(HTTP_BACKEND):
        missing(f"{HTTP_BACKEND} is not installed (apt-get install -y git)")
    port = reactor.listenTCP(
        0, Site(_GitHttpBackend(served.root)), interface="127.0.0.1"
    )
    yield port.getHost().port
    pytest_twisted.blockon(port.stopListening())


@dataclass
class Measured:
    """A GitClient whose workspaces are measured just before removal."""

    client: GitClient
    work_dir: Path
    sizes: list[int]

    @property
    def peak_bytes(self) -> int:
        """The largest workspace directory seen."""
        return max(self.sizes)


def _tree_bytes(path: Path) -> int:
    """Bytes of the regular files under ``path``."""
    return sum(
        os.lstat(os.path.join(top, name)).st_size
        for top, _, names in os.walk(path)
        for name in names
    )


def _measured(tmp_path: Path, **overrides: Any) -> Measured:
    """A GitClient on the real reactor; each workspace's size is recorded
    when it is handed to run_blocking for removal."""
    from twisted.internet import reactor

    work_dir = tmp_path / "git-temp"
    work_dir.mkdir()
    sizes: list[int] = []

    def run_blocking(f: Any) -> Any:
        """Measure, then remove on the reactor's thread pool."""
        sizes.append(_tree_bytes(work_dir))
        return deferToThreadPool(reactor, reactor.getThreadPool(), f)

    arguments: dict[str, Any] = {
        "reactor": reactor,
        "timeout_seconds": 60.0,
        "max_concurrent": 4,
        "temp_dir": str(work_dir),
        "run_blocking": run_blocking,
    }
    arguments.update(overrides)
    return Measured(client=GitClient(**arguments), work_dir=work_dir, sizes=sizes)


def _requester(limit: int = 50 * MIB, submitter: str = "alice") -> Requester:
    """A requester with a fresh budget."""
    return Requester(submitter=submitter, budget=FetchBudget(limit))


async def _error(awaitable: Any) -> Unprocessable:
    """Await and return the Unprocessable it must raise."""
    with pytest.raises(Unprocessable) as caught:
        await awaitable
    return caught.value


@pytest.mark.parametrize("scheme", ["git", "http", "file"])
@pytest_twisted.ensureDeferred
async def test_spec_check_beside_a_40_mb_blob_fetches_trees_only(
    served: Served, http_port: int, tmp_path: Path, scheme: str
) -> None:
    """From a server that allows filters, the SPEC check passes and fetches well under 1 MB."""
    measured = _measured(tmp_path)
    location = served.location(scheme, "filtering.git", http_port)
    requester = _requester()
    found = await measured.client.has_file(
        location, served.commit, "foo.spec", requester=requester
    )
    assert found is True
    assert requester.budget.spent_bytes < 64 * 1024
    assert measured.peak_bytes < 2 * MIB
    assert os.listdir(measured.work_dir) == []


@pytest.mark.parametrize("scheme", ["git", "http", "file"])
@pytest_twisted.ensureDeferred
async def test_file_read_beside_a_40_mb_blob_fetches_only_its_blob(
    served: Served, http_port: int, tmp_path: Path, scheme: str
) -> None:
    """fetch_file brings the trees and the one blob asked for."""
    measured = _measured(tmp_path)
    location = served.location(scheme, "filtering.git", http_port)
    requester = _requester()
    fetched = await measured.client.fetch_file(
        location, served.commit, "foo.yaml", requester=requester
    )
    assert fetched.content == b"document: modulemd\n"
    assert requester.budget.spent_bytes < 64 * 1024
    assert measured.peak_bytes < 2 * MIB


@pytest.mark.parametrize("scheme", ["git", "file"])
@pytest_twisted.ensureDeferred
async def test_a_server_without_filter_support_falls_back_to_the_whole_tree(
    served: Served, tmp_path: Path, scheme: str
) -> None:
    """plain.git ignores --filter: the checks still pass, having fetched the 40 MB blob within the default budget."""
    measured = _measured(tmp_path)
    location = served.location(scheme, "plain.git")
    requester = _requester()
    client = measured.client
    assert await client.has_file(
        location, served.commit, "foo.spec", requester=requester
    )
    assert requester.budget.spent_bytes > BLOB_BYTES
    fetched = await client.fetch_file(location, served.commit, "foo.spec")
    assert fetched.content == b"Name: foo\n"
    assert os.listdir(measured.work_dir) == []


@pytest.mark.parametrize("name", ["plain.git", "filtering.git"])
@pytest_twisted.ensureDeferred
async def test_a_budget_too_small_is_refused_naming_the_repository(
    served: Served, tmp_path: Path, name: str
) -> None:
    """max_fetch_bytes below what the fetch needs is a 422-class too-large error, stopped early."""
    measured = _measured(tmp_path)
    location = served.location("git", name)
    limit = 1 * MIB if name == "plain.git" else 100
    error = await _error(
        measured.client.has_file(
            location, served.commit, "foo.spec", requester=_requester(limit)
        )
    )
    assert error.details == {
        "reason": "too-large",
        "transient": False,
        "url": location.render(),
    }
    assert location.render() in error.message
    assert "scm.max_fetch_bytes" in error.message and str(limit) in error.message
    assert measured.peak_bytes < 10 * MIB
    assert os.listdir(measured.work_dir) == []


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("filtering.git", "passwd.spec"),
        ("filtering.git", "dangling.spec"),
        ("plain.git", "passwd.spec"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_a_symlinked_spec_is_refused(
    served: Served, tmp_path: Path, name: str, path: str
) -> None:
    """A SPEC that is a symbolic link (to /etc/passwd, or dangling) is refused, not taken for a file."""
    client = _measured(tmp_path).client
    location = served.location("git", name)
    questions = [client.has_file]
    if name == "filtering.git":  # plain.git's whole-tree fetches are slow
        questions.append(client.fetch_file)
    for question in questions:
        error = await _error(question(location, served.commit, path))
        assert error.details == {
            "reason": "symlink",
            "transient": False,
            "url": location.render(),
        }
        assert f"{path} at commit {served.commit}" in error.message
        assert "symbolic link" in error.message
        assert "root:" not in error.message


@pytest.mark.parametrize("scheme", ["git", "http"])
@pytest_twisted.ensureDeferred
async def test_a_silent_server_is_slow_after_the_first_byte_timeout(
    tmp_path: Path, scheme: str
) -> None:
    """A server that accepts and never answers is a transient 'slow' error naming it, long before git_timeout_seconds."""
    measured = _measured(
        tmp_path, timeout_seconds=600.0, first_byte_timeout_seconds=1.0
    )
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        location = parse_repository(f"{scheme}://127.0.0.1:{port}/rpms/foo.git")
        errors = [
            await _error(measured.client.resolve_ref(location, "main")),
            await _error(measured.client.has_file(location, "a" * 40, "foo.spec")),
        ]
    for error in errors:
        assert error.details == {
            "reason": "slow",
            "transient": True,
            "url": location.render(),
        }
        assert location.render() in error.message
        assert "slow" in error.message and "retry later" in error.message
    assert os.listdir(measured.work_dir) == []


@pytest_twisted.ensureDeferred
async def test_a_second_submitter_is_served_after_one_command_per_slot(
    served: Served, tmp_path: Path
) -> None:
    """alice queues 30 questions on two slots; bob's question is at most the third git command started."""
    log = tmp_path / "started.log"
    wrapper = tmp_path / "git-wrapper"
    real = shutil.which("git")
    wrapper.write_text(
        f'#!/bin/sh\nfor a in "$@"; do printf "%s " "$a"; done >> {log}\n'
        f'echo >> {log}\nexec {real} "$@"\n'
    )
    wrapper.chmod(0o755)
    client = _measured(tmp_path, git_binary=str(wrapper), max_concurrent=2).client
    alice_repo = served.location("git", "filtering.git")
    bob_repo = served.location("git", "plain.git")
    alice = _requester(submitter="alice")
    calls = [
        Deferred.fromCoroutine(client.resolve_ref(alice_repo, "main", requester=alice))
        for _ in range(30)
    ]
    bobs = Deferred.fromCoroutine(
        client.resolve_ref(bob_repo, "main", requester=_requester(submitter="bob"))
    )
    await gatherResults([*calls, bobs])
    started = log.read_text().splitlines()
    assert len(started) == 31
    (position,) = [i for i, line in enumerate(started) if bob_repo.url in line]
    assert position <= 2
