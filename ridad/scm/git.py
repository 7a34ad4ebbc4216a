"""Ask remote git repositories about refs, files and ancestry.

L{GitClient} runs git through Twisted's process API (L{run_process}), one
throwaway bare repository per question, and turns every failure into an
L{Unprocessable} whose C{details} say why (C{reason}), whether retrying may
help (C{transient}) and which repository (C{url}); see
L{ridad.scm.failures}.

Each question is asked for a L{Requester}: the submitter whose turn it is in
the fair slot queues, and the budget of bytes their submission may fetch.
Fetches bring the commit and its trees only (C{--filter=blob:none}), plus
the one blob a file's content needs; a server without filter support sends
everything, still within the budget. A symbolic link is never taken for
the file it points to.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from twisted.internet.interfaces import IReactorProcess

from ridad.metrics.instruments import Metrics
from ridad.scm.failures import git_failure
from ridad.scm.gitcommands import (
    DEFAULT_MAX_FETCH_BYTES,
    GitCommands,
    Requester,
    TreeEntry,
    refuse_symlink,
)
from ridad.scm.gitprocess import (
    SHA_RE,
    GitRunner,
    RunBlocking,
    Workspace,
    check_commit,
    check_path,
    parse_listing,
)
from ridad.scm.url import RepoLocation, check_ref
from ridad.scm.watch import FetchBudget

__all__ = [
    "FetchBudget",
    "FetchedFile",
    "GitClient",
    "Requester",
    "ResolvedRef",
    "RunBlocking",
]

MAX_FILE_BYTES = 1024 * 1024
_MAX_LISTING_BYTES = 16 * 1024 * 1024
_BRANCH_REF = "refs/ridad/branch"
DEFAULT_FIRST_BYTE_SECONDS = 10.0


@dataclass(frozen=True)
class ResolvedRef:
    """
    What a ref points at: a commit, and the branch when the ref is one.
    """

    commit: str
    is_branch: bool
    branch: str | None


@dataclass(frozen=True)
class FetchedFile:
    """
    A file's content at a commit, and that commit's committer time
    (epoch seconds, UTC).
    """

    content: bytes
    committer_time: int


class GitClient:
    """
    Run git against remote repositories, at most C{max_concurrent} at once.

    Every git process gets an argument list (never a shell), only the
    location's protocol allowed, no terminal prompts, no system or user
    configuration, and a time limit after which it is killed; one that
    talks to a server is also killed when the server sends nothing within
    C{first_byte_timeout_seconds}.
    """

    def __init__(
        self,
        *,
        reactor: IReactorProcess,
        git_binary: str = "git",
        timeout_seconds: float,
        max_concurrent: int,
        temp_dir: str | None = None,
        max_file_bytes: int = MAX_FILE_BYTES,
        first_byte_timeout_seconds: float | None = DEFAULT_FIRST_BYTE_SECONDS,
        max_fetch_bytes: int = DEFAULT_MAX_FETCH_BYTES,
        run_blocking: RunBlocking,
        metrics: Metrics | None = None,
    ) -> None:
        """
        Keep the collaborators; C{reactor} must provide both
        L{IReactorProcess} and L{IReactorTime}. C{run_blocking} removes each
        temporary directory off the reactor thread. C{max_fetch_bytes} is
        the budget of a question asked without a L{Requester}.

        @raise ValueError: C{git_binary} cannot be found on C{PATH}.
        """
        found = shutil.which(git_binary)
        if found is None:
            raise ValueError(f"git binary {git_binary!r} not found")
        self._max_file_bytes = max_file_bytes
        self._max_fetch_bytes = max_fetch_bytes
        self._runner = GitRunner(
            reactor=reactor,
            git=os.path.abspath(found),
            timeout_seconds=timeout_seconds,
            max_concurrent=max_concurrent,
            temp_dir=temp_dir,
            run_blocking=run_blocking,
            metrics=metrics,
        )
        self._git = GitCommands(
            runner=self._runner,
            timeout_seconds=timeout_seconds,
            first_byte_seconds=first_byte_timeout_seconds,
        )

    def _requester(self, requester: Requester | None) -> Requester:
        """
        @return: C{requester}, or an anonymous one with a budget of its own.
        """
        if requester is not None:
            return requester
        return Requester(submitter="", budget=FetchBudget(self._max_fetch_bytes))

    async def resolve_ref(
        self,
        location: RepoLocation,
        ref: str,
        *,
        requester: Requester | None = None,
    ) -> ResolvedRef:
        """
        Find the commit a branch, tag, full ref or commit hash names.

        A branch wins over a tag of the same name; a tag gives the commit it
        points at (peeled). A full commit hash is returned as it is once the
        repository is known to exist.

        @return: the commit, and the branch when C{ref} names one.
        @raise InvalidRequest: C{ref} is not a valid ref.
        @raise Unprocessable: the repository or ref does not exist, or the
            server could not be used.
        """
        check_ref(ref)
        if SHA_RE.fullmatch(ref):
            candidates = ["HEAD"]
        elif ref.startswith("refs/"):
            candidates = [ref]
        else:
            candidates = [f"refs/heads/{ref}", f"refs/tags/{ref}"]
        patterns = [*candidates, *(c + "^{}" for c in candidates)]
        async with self._runner.workspace() as workspace:
            result = await self._git.remote(
                location,
                workspace,
                ["ls-remote", "--", location.url, *patterns],
                wanted=f"ref {ref!r}",
                max_stdout_bytes=_MAX_LISTING_BYTES,
                requester=self._requester(requester),
            )
        if SHA_RE.fullmatch(ref):
            return ResolvedRef(commit=ref.lower(), is_branch=False, branch=None)
        refs = parse_listing(result.stdout)
        for candidate in candidates:
            commit = refs.get(candidate + "^{}", refs.get(candidate))
            if commit is not None:
                branch = candidate.removeprefix("refs/heads/")
                is_branch = candidate.startswith("refs/heads/")
                return ResolvedRef(
                    commit=commit,
                    is_branch=is_branch,
                    branch=branch if is_branch else None,
                )
        raise git_failure(
            "missing-ref", location, f"ref {ref!r} not found in {location}"
        )

    async def fetch_file(
        self,
        location: RepoLocation,
        commit: str,
        path: str,
        *,
        requester: Requester | None = None,
    ) -> FetchedFile:
        """
        Read one file at a commit, and the commit's committer time.

        Fetches the commit's trees, then only the file's blob.

        @return: the file's bytes and the committer time.
        @raise InvalidRequest: C{commit} or C{path} is malformed.
        @raise Unprocessable: the repository, commit or file is missing, the
            file is a symbolic link or over the size limit, the fetch went
            over the budget, or the server could not be used.
        """
        commit = check_commit(commit)
        check_path(path)
        asker = self._requester(requester)
        async with self._runner.workspace() as workspace:
            entry, filtered = await self._entry(
                location, workspace, commit, path, asker
            )
            if entry is None or entry.kind != "blob":
                raise git_failure(
                    "missing-file",
                    location,
                    f"file {path!r} not found at commit {commit} in {location}",
                )
            refuse_symlink(location, commit, path, entry)
            if filtered:  # else the whole tree, this blob too, is here
                await self._git.fetch(
                    location,
                    workspace,
                    [],
                    entry.oid,
                    wanted=f"file {path!r} at commit {commit}",
                    requester=asker,
                    object_filter="blob:none",
                )
            content = await self._blob(location, workspace, commit, path, entry, asker)
            log = await self._git.local(
                location,
                workspace,
                ["log", "-1", "--format=%ct", commit, "--"],
                requester=asker,
            )
            if not log.succeeded:
                raise RuntimeError(f"git log failed on fetched commit {commit}")
        return FetchedFile(content=content, committer_time=int(log.stdout))

    async def has_file(
        self,
        location: RepoLocation,
        commit: str,
        path: str,
        *,
        requester: Requester | None = None,
    ) -> bool:
        """
        Whether a regular file exists at C{path} in C{commit}.

        Reads the commit's trees only: no blob is fetched.

        @return: C{True} when it does (C{False} for a directory or nothing).
        @raise InvalidRequest: C{commit} or C{path} is malformed.
        @raise Unprocessable: the repository or commit is missing, the path
            is a symbolic link, the fetch went over the budget, or the
            server could not be used.
        """
        commit = check_commit(commit)
        check_path(path)
        asker = self._requester(requester)
        async with self._runner.workspace() as workspace:
            entry, _ = await self._entry(location, workspace, commit, path, asker)
        if entry is None or entry.kind != "blob":
            return False
        refuse_symlink(location, commit, path, entry)
        return True

    async def branch_contains(
        self,
        location: RepoLocation,
        branch: str,
        commit: str,
        *,
        requester: Requester | None = None,
    ) -> bool:
        """
        Whether C{commit} is reachable from the tip of C{branch}.

        Fetches the branch's history, commits only (C{--filter=tree:0}).

        @return: C{True} when the commit is the tip or one of its ancestors.
        @raise InvalidRequest: C{branch} or C{commit} is malformed.
        @raise Unprocessable: the repository or branch is missing, the fetch
            went over the budget, or the server could not be used.
        """
        check_ref(branch)
        commit = check_commit(commit)
        branch = branch.removeprefix("refs/heads/")
        asker = self._requester(requester)
        async with self._runner.workspace() as workspace:
            await self._git.init(workspace, asker)
            await self._git.fetch(
                location,
                workspace,
                [],
                f"+refs/heads/{branch}:{_BRANCH_REF}",
                wanted=f"branch {branch!r}",
                requester=asker,
                object_filter="tree:0",
            )
            present = await self._git.local(
                location,
                workspace,
                ["cat-file", "-e", "--", commit + "^{commit}"],
                requester=asker,
            )
            if present.exit_code != 0:
                return False
            ancestry = await self._git.local(
                location,
                workspace,
                ["merge-base", "--is-ancestor", "--", commit, _BRANCH_REF],
                requester=asker,
            )
        if ancestry.exit_code in (0, 1):
            return ancestry.exit_code == 0
        raise RuntimeError(f"git merge-base failed for {commit} in {location}")

    async def _entry(
        self,
        location: RepoLocation,
        workspace: Workspace,
        commit: str,
        path: str,
        requester: Requester,
    ) -> tuple[TreeEntry | None, bool]:
        """
        Initialise the workspace repository, fetch C{commit} (depth 1,
        trees only) and look C{path} up in it.

        @return: the tree entry (None when there is none), and whether the
            server left the blobs out.
        @raise Unprocessable: the fetch failed.
        """
        await self._git.init(workspace, requester)
        filtered = await self._git.fetch(
            location,
            workspace,
            ["--depth", "1"],
            commit,
            wanted=f"commit {commit}",
            requester=requester,
            object_filter="blob:none",
        )
        entry = await self._git.tree_entry(location, workspace, commit, path, requester)
        return entry, filtered

    async def _blob(
        self,
        location: RepoLocation,
        workspace: Workspace,
        commit: str,
        path: str,
        entry: TreeEntry,
        requester: Requester,
    ) -> bytes:
        """
        Read a fetched blob, up to the file size limit.

        @return: its bytes.
        @raise Unprocessable: it is over the limit, or missing.
        """
        blob = await self._git.local(
            location,
            workspace,
            ["cat-file", "blob", entry.oid],
            requester=requester,
            max_stdout_bytes=self._max_file_bytes,
        )
        if blob.stdout_overflowed:
            raise git_failure(
                "too-large",
                location,
                f"file {path!r} at commit {commit} in {location} is larger "
                f"than {self._max_file_bytes} bytes",
            )
        if blob.exit_code != 0:
            raise git_failure(
                "missing-file",
                location,
                f"file {path!r} not found at commit {commit} in {location}",
            )
        return blob.stdout
