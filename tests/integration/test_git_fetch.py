"""GitClient against real git: resolving refs, fetching files and checking
ancestry over a git daemon, file:// and smart HTTP on loopback, and the
errors for what the repository lacks.

Reactor tests (pytest-twisted). The repository is built in tmp_path with
real commits (conftest.py); unreachable servers, timeouts and the limits
GitClient keeps are in test_git_limits.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.web.server import Site
from twisted.web.twcgi import CGIScript

from ridad.scm.git import FetchedFile, GitClient, ResolvedRef
from ridad.scm.url import RepoLocation, parse_repository
from tests.helpers import missing
from tests.integration.gitservers import Repositories, daemon_repo, unprocessable

pytestmark = pytest.mark.usefixtures("git_installed")

HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"


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


def _file_repo(repositories: Repositories, name: str = "foo.git") -> RepoLocation:
    """The file:// location of a served repository."""
    return parse_repository(f"file://{repositories.root}/modules/{name}")


@pytest_twisted.ensureDeferred
async def test_branch_resolves_to_its_tip_over_git_daemon(
    client: GitClient, git_daemon: int, repositories: Repositories
) -> None:
    """A branch name resolves to the branch's tip commit, marked as a branch."""
    resolved = await client.resolve_ref(daemon_repo(git_daemon), "main")
    assert resolved == ResolvedRef(
        commit=repositories.main, is_branch=True, branch="main"
    )


@pytest_twisted.ensureDeferred
async def test_tags_resolve_to_the_tagged_commit(
    client: GitClient, git_daemon: int, repositories: Repositories
) -> None:
    """Annotated and lightweight tags both resolve to the commit they mark."""
    location = daemon_repo(git_daemon)
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
    location = daemon_repo(git_daemon)
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
    location = daemon_repo(git_daemon, "nope.git")
    error = await unprocessable(client.resolve_ref(location, "main"))
    assert error.details == {
        "reason": "missing-repository",
        "transient": False,
        "url": location.render(),
    }
    error = await unprocessable(client.resolve_ref(location, "a" * 40))
    assert error.details["reason"] == "missing-repository"


@pytest_twisted.ensureDeferred
async def test_missing_ref_over_git_daemon(client: GitClient, git_daemon: int) -> None:
    """A ref the repository lacks is a missing-ref error naming it."""
    error = await unprocessable(client.resolve_ref(daemon_repo(git_daemon), "nope"))
    assert error.details["reason"] == "missing-ref"
    assert "'nope'" in error.message


@pytest_twisted.ensureDeferred
async def test_fetch_file_reads_content_and_committer_time(
    client: GitClient, git_daemon: int, repositories: Repositories
) -> None:
    """fetch_file returns the file at the commit and the commit's committer time."""
    location = daemon_repo(git_daemon)
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
    location = daemon_repo(git_daemon)
    error = await unprocessable(
        client.fetch_file(location, repositories.main, "nope.yaml")
    )
    assert error.details["reason"] == "missing-file"
    assert "nope.yaml" in error.message
    assert repositories.main in error.message
    assert location.render() in error.message
    error = await unprocessable(client.fetch_file(location, repositories.main, "dir"))
    assert error.details["reason"] == "missing-file"


@pytest_twisted.ensureDeferred
async def test_unknown_commit_is_missing_ref(
    client: GitClient, git_daemon: int
) -> None:
    """Fetching a commit the server does not have is a missing-ref error."""
    error = await unprocessable(
        client.fetch_file(daemon_repo(git_daemon), "0" * 40, "foo.yaml")
    )
    assert error.details["reason"] == "missing-ref"


@pytest_twisted.ensureDeferred
async def test_file_over_the_limit_is_too_large(
    client: GitClient, git_daemon: int, repositories: Repositories
) -> None:
    """A file bigger than max_file_bytes is refused as too-large."""
    error = await unprocessable(
        client.fetch_file(daemon_repo(git_daemon), repositories.main, "big.bin")
    )
    assert error.details["reason"] == "too-large"


@pytest_twisted.ensureDeferred
async def test_has_file_finds_files_but_not_directories(
    client: GitClient, git_daemon: int, repositories: Repositories
) -> None:
    """has_file is true for a file, false for a missing path or a directory."""
    location = daemon_repo(git_daemon)
    assert await client.has_file(location, repositories.main, "foo.spec")
    assert not await client.has_file(location, repositories.main, "bar.spec")
    assert not await client.has_file(location, repositories.main, "dir")


@pytest_twisted.ensureDeferred
async def test_branch_contains_ancestors_but_not_other_branches(
    client: GitClient, git_daemon: int, repositories: Repositories
) -> None:
    """A branch contains its tip and ancestors, not commits only on another branch."""
    location = daemon_repo(git_daemon)
    assert await client.branch_contains(location, "main", repositories.main)
    assert await client.branch_contains(location, "main", repositories.first)
    assert await client.branch_contains(location, "other", repositories.main)
    assert not await client.branch_contains(location, "main", repositories.other)
    assert not await client.branch_contains(location, "main", "0" * 40)
    error = await unprocessable(
        client.branch_contains(location, "nope", repositories.main)
    )
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
    missing = await unprocessable(
        client.resolve_ref(_file_repo(repositories, "nope.git"), "main")
    )
    assert missing.details["reason"] == "missing-repository"
    unknown = await unprocessable(
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
    error = await unprocessable(client.resolve_ref(missing, "main"))
    assert error.details["reason"] == "missing-repository"
