"""The in-memory git of the API handler tests answers as the real GitClient
does, for what SubmissionVerifier asks: one contract, run against both (the
real one against a real ``git daemon``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThreadPool

from ridad.errors import Unprocessable
from ridad.scm.git import GitClient
from ridad.scm.url import RepoLocation, parse_repository
from tests.gitrepos import GitServer, commit_files
from tests.unit.api.support import FakeGit

Commit = Callable[[str, dict[str, str]], tuple[RepoLocation, str]]


def _real(server: GitServer, reactor: Any) -> tuple[Any, Commit]:
    """GitClient on the session's git daemon, and how to commit to it."""
    client = GitClient(
        reactor=reactor,
        timeout_seconds=20.0,
        max_concurrent=4,
        run_blocking=lambda f: deferToThreadPool(reactor, reactor.getThreadPool(), f),
    )
    prefix = uuid.uuid4().hex[:12]

    def commit(name: str, files: dict[str, str]) -> tuple[RepoLocation, str]:
        sha = commit_files(server.base / prefix / name, files)
        return parse_repository(server.url(f"{prefix}/{name}")), sha

    return client, commit


def _fake() -> tuple[Any, Commit]:
    """FakeGit, and how to commit to it."""
    fake = FakeGit()

    def commit(name: str, files: dict[str, str]) -> tuple[RepoLocation, str]:
        location = parse_repository(f"git://git.example.org/{name}")
        encoded = {path: text.encode() for path, text in files.items()}
        return location, fake.add(location.url, encoded)

    return fake, commit


@pytest.fixture(params=["real", "fake"])
def git(request: pytest.FixtureRequest, git_server: GitServer) -> tuple[Any, Commit]:
    """The git under contract and a way to commit to it."""
    from twisted.internet import reactor

    return _real(git_server, reactor) if request.param == "real" else _fake()


async def _reason(coroutine: Any) -> str:
    """The failure reason of a git question that must fail."""
    with pytest.raises(Unprocessable) as raised:
        await Deferred.fromCoroutine(coroutine)
    return str(raised.value.details["reason"])


@pytest_twisted.ensureDeferred
async def test_branch_file_and_spec_questions(git: tuple[Any, Commit]) -> None:
    """A branch resolves to its commit, whose files are read and probed."""
    client, commit = git
    location, sha = commit("modules/demo.git", {"demo.yaml": "x: 1\n", "a.spec": "N\n"})
    resolved = await client.resolve_ref(location, "main")
    assert (resolved.commit, resolved.is_branch, resolved.branch) == (sha, True, "main")
    fetched = await client.fetch_file(location, sha, "demo.yaml")
    assert fetched.content == b"x: 1\n"
    assert await client.has_file(location, sha, "a.spec") is True
    assert await client.has_file(location, sha, "b.spec") is False
    assert await client.branch_contains(location, "main", sha) is True


@pytest_twisted.ensureDeferred
async def test_missing_repository_ref_and_file(git: tuple[Any, Commit]) -> None:
    """Missing repository, ref and file fail with the reasons the verifier reports."""
    client, commit = git
    location, sha = commit("modules/demo.git", {"demo.yaml": "x: 1\n"})
    ghost = parse_repository(location.url.replace("demo.git", "ghost.git"))
    assert await _reason(client.resolve_ref(ghost, "main")) == "missing-repository"
    assert await _reason(client.resolve_ref(location, "nope")) == "missing-ref"
    assert await _reason(client.fetch_file(location, sha, "no.yaml")) == "missing-file"
