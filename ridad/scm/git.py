"""Ask remote git repositories about refs, files and ancestry.

L{GitClient} runs git through Twisted's process API (L{run_process}), one
throwaway bare repository per question, and turns every failure into an
L{Unprocessable} whose C{details} say why (C{reason}), whether retrying may
help (C{transient}) and which repository (C{url}); see
L{ridad.scm.failures}.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass

from twisted.internet.interfaces import IReactorProcess
from twisted.logger import Logger, LogLevel

from ridad.process import ProcessResult
from ridad.scm.failures import (
    TRANSIENT_REASONS,
    classify_failure,
    describe_failure,
    git_failure,
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

__all__ = [
    "FetchedFile",
    "GitClient",
    "ResolvedRef",
    "RunBlocking",
]

MAX_FILE_BYTES = 1024 * 1024
_MAX_LISTING_BYTES = 16 * 1024 * 1024
_BRANCH_REF = "refs/ridad/branch"


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
    configuration, and a time limit after which it is killed.
    """

    log = Logger()

    def __init__(
        self,
        *,
        reactor: IReactorProcess,
        git_binary: str = "git",
        timeout_seconds: float,
        max_concurrent: int,
        temp_dir: str | None = None,
        max_file_bytes: int = MAX_FILE_BYTES,
        run_blocking: RunBlocking,
    ) -> None:
        """
        Keep the collaborators; C{reactor} must provide both
        L{IReactorProcess} and L{IReactorTime}. C{run_blocking} removes each
        temporary directory off the reactor thread.

        @raise ValueError: C{git_binary} cannot be found on C{PATH}.
        """
        found = shutil.which(git_binary)
        if found is None:
            raise ValueError(f"git binary {git_binary!r} not found")
        self._timeout_seconds = timeout_seconds
        self._max_file_bytes = max_file_bytes
        self._runner = GitRunner(
            reactor=reactor,
            git=os.path.abspath(found),
            timeout_seconds=timeout_seconds,
            max_concurrent=max_concurrent,
            temp_dir=temp_dir,
            run_blocking=run_blocking,
        )

    async def resolve_ref(self, location: RepoLocation, ref: str) -> ResolvedRef:
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
            result = await self._remote(
                location,
                workspace,
                ["ls-remote", "--", location.url, *patterns],
                wanted=f"ref {ref!r}",
                max_stdout_bytes=_MAX_LISTING_BYTES,
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
        self, location: RepoLocation, commit: str, path: str
    ) -> FetchedFile:
        """
        Read one file at a commit, and the commit's committer time.

        @return: the file's bytes and the committer time.
        @raise InvalidRequest: C{commit} or C{path} is malformed.
        @raise Unprocessable: the repository, commit or file is missing, the
            file is over the size limit, or the server could not be used.
        """
        commit = check_commit(commit)
        check_path(path)
        async with self._runner.workspace() as workspace:
            await self._fetch_commit(location, workspace, commit)
            blob = await self._local(
                location,
                workspace,
                ["cat-file", "blob", "--", f"{commit}:{path}"],
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
            log = await self._local(
                location,
                workspace,
                ["log", "-1", "--format=%ct", commit, "--"],
                max_stdout_bytes=1024,
            )
            if not log.succeeded:
                raise RuntimeError(f"git log failed on fetched commit {commit}")
        return FetchedFile(content=blob.stdout, committer_time=int(log.stdout))

    async def has_file(self, location: RepoLocation, commit: str, path: str) -> bool:
        """
        Whether a regular file (a blob) exists at C{path} in C{commit}.

        @return: C{True} when it does.
        @raise InvalidRequest: C{commit} or C{path} is malformed.
        @raise Unprocessable: the repository or commit is missing, or the
            server could not be used.
        """
        commit = check_commit(commit)
        check_path(path)
        async with self._runner.workspace() as workspace:
            await self._fetch_commit(location, workspace, commit)
            result = await self._local(
                location,
                workspace,
                ["cat-file", "-t", "--", f"{commit}:{path}"],
                max_stdout_bytes=1024,
            )
        return result.exit_code == 0 and result.stdout.strip() == b"blob"

    async def branch_contains(
        self, location: RepoLocation, branch: str, commit: str
    ) -> bool:
        """
        Whether C{commit} is reachable from the tip of C{branch}.

        Fetches the branch's whole history into a temporary repository.

        @return: C{True} when the commit is the tip or one of its ancestors.
        @raise InvalidRequest: C{branch} or C{commit} is malformed.
        @raise Unprocessable: the repository or branch is missing, or the
            server could not be used.
        """
        check_ref(branch)
        commit = check_commit(commit)
        branch = branch.removeprefix("refs/heads/")
        async with self._runner.workspace() as workspace:
            await self._init(workspace)
            await self._remote(
                location,
                workspace,
                [
                    "--git-dir=" + workspace.repository,
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    "--",
                    location.url,
                    f"+refs/heads/{branch}:{_BRANCH_REF}",
                ],
                wanted=f"branch {branch!r}",
                max_stdout_bytes=64 * 1024,
            )
            present = await self._local(
                location, workspace, ["cat-file", "-e", "--", commit + "^{commit}"]
            )
            if present.exit_code != 0:
                return False
            ancestry = await self._local(
                location,
                workspace,
                ["merge-base", "--is-ancestor", "--", commit, _BRANCH_REF],
            )
        if ancestry.exit_code in (0, 1):
            return ancestry.exit_code == 0
        raise RuntimeError(f"git merge-base failed for {commit} in {location}")

    async def _fetch_commit(
        self, location: RepoLocation, workspace: Workspace, commit: str
    ) -> None:
        """
        Initialise the workspace repository and fetch C{commit} (depth 1).

        @raise Unprocessable: the fetch failed.
        """
        await self._init(workspace)
        await self._remote(
            location,
            workspace,
            [
                "--git-dir=" + workspace.repository,
                "fetch",
                "--quiet",
                "--no-tags",
                "--depth",
                "1",
                "--",
                location.url,
                commit,
            ],
            wanted=f"commit {commit}",
            max_stdout_bytes=64 * 1024,
        )

    async def _init(self, workspace: Workspace) -> None:
        """
        Create the empty bare repository in the workspace.

        @raise RuntimeError: git could not create it.
        """
        result = await self._runner.run(
            workspace,
            "file",
            ["init", "--quiet", "--bare", "--template=", "--", workspace.repository],
            max_stdout_bytes=64 * 1024,
        )
        if not result.succeeded:
            raise RuntimeError("git init failed in a temporary directory")

    async def _remote(
        self,
        location: RepoLocation,
        workspace: Workspace,
        args: Sequence[str],
        *,
        wanted: str,
        max_stdout_bytes: int,
    ) -> ProcessResult:
        """
        Run a git command that talks to C{location} to get C{wanted} (a
        description such as C{"ref 'main'"} for the missing-ref message).

        @return: the result of a successful run.
        @raise Unprocessable: the run failed, classified.
        """
        result = await self._runner.run(
            workspace,
            location.git_protocol,
            args,
            max_stdout_bytes=max_stdout_bytes,
        )
        if result.stdout_overflowed:
            raise git_failure(
                "too-large", location, f"git's answer from {location} is too large"
            )
        if not result.succeeded:
            reason = classify_failure(result)
            self.log.emit(
                LogLevel.warn if reason in TRANSIENT_REASONS else LogLevel.info,
                "git failed for {repository} after {duration_seconds} seconds",
                repository=location.render(),
                duration_seconds=round(result.duration_seconds, 3),
            )
            raise git_failure(
                reason,
                location,
                describe_failure(reason, location, wanted, self._timeout_seconds),
            )
        self.log.debug(
            "git answered for {repository} in {duration_seconds} seconds",
            repository=location.render(),
            duration_seconds=round(result.duration_seconds, 3),
        )
        return result

    async def _local(
        self,
        location: RepoLocation,
        workspace: Workspace,
        args: Sequence[str],
        *,
        max_stdout_bytes: int = 1024,
    ) -> ProcessResult:
        """
        Run a git command on the workspace repository only.

        @return: the result, whatever the exit status, unless it timed out.
        @raise Unprocessable: the command timed out (while working on what
            was fetched from C{location}).
        """
        result = await self._runner.run(
            workspace,
            "file",
            ["--git-dir=" + workspace.repository, *args],
            max_stdout_bytes=max_stdout_bytes,
        )
        if result.timed_out:
            raise git_failure(
                "timeout",
                location,
                describe_failure("timeout", location, "", self._timeout_seconds),
            )
        return result
