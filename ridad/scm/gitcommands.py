"""The git commands L{ridad.scm.git.GitClient} composes its answers from.

L{GitCommands} runs one command at a time through L{GitRunner} for a
L{Requester} (who the work is for: the fairness key and the fetch budget),
and turns a failed command that talked to a server into an
L{Unprocessable} (see L{ridad.scm.failures}). Fetches ask the server for
less than everything (C{--filter}) and fall back to a plain fetch when the
server refuses the filter; what arrives is charged to the budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from twisted.logger import Logger, LogLevel

from ridad.process import ProcessResult
from ridad.scm.failures import (
    TRANSIENT_REASONS,
    classify_failure,
    describe_failure,
    git_failure,
)
from ridad.scm.gitprocess import GitRunner, Workspace
from ridad.scm.url import RepoLocation
from ridad.scm.watch import FetchBudget, GitWatch

__all__ = [
    "DEFAULT_MAX_FETCH_BYTES",
    "GitCommands",
    "Requester",
    "TreeEntry",
    "refuse_symlink",
]

DEFAULT_MAX_FETCH_BYTES = 50 * 1024 * 1024
SYMLINK_MODE = "120000"
# What git says when the server does not support --filter and sends all.
_IGNORED_FILTER = b"filtering not recognized by server"
_MAX_TREE_LINE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Requester:
    """
    Whom git work is done for: the submitter (the key of the fair slot
    queues) and the budget of pack bytes their submission may fetch.
    """

    submitter: str = ""
    budget: FetchBudget = field(
        default_factory=lambda: FetchBudget(DEFAULT_MAX_FETCH_BYTES)
    )


@dataclass(frozen=True)
class TreeEntry:
    """
    One path of a commit's tree, as C{git ls-tree} lists it.
    """

    mode: str
    kind: str
    oid: str

    @property
    def is_symlink(self) -> bool:
        """
        @return: whether the entry is a symbolic link (mode 120000).
        """
        return self.kind == "blob" and self.mode == SYMLINK_MODE


class GitCommands:
    """
    Run single git commands for a L{Requester}, with failures classified.
    """

    log = Logger()

    def __init__(
        self,
        *,
        runner: GitRunner,
        timeout_seconds: float,
        first_byte_seconds: float | None,
    ) -> None:
        """
        Keep the runner and the two time limits (for the messages, and
        C{first_byte_seconds} for the watch of each remote command).
        """
        self._runner = runner
        self._timeout_seconds = timeout_seconds
        self._first_byte_seconds = first_byte_seconds

    async def init(self, workspace: Workspace, requester: Requester) -> None:
        """
        Create the empty bare repository in the workspace.

        @raise RuntimeError: git could not create it.
        """
        result = await self._runner.run(
            workspace,
            "file",
            ["init", "--quiet", "--bare", "--template=", "--", workspace.repository],
            max_stdout_bytes=64 * 1024,
            submitter=requester.submitter,
        )
        if not result.succeeded:
            raise RuntimeError("git init failed in a temporary directory")

    async def fetch(
        self,
        location: RepoLocation,
        workspace: Workspace,
        options: Sequence[str],
        refspec: str,
        *,
        wanted: str,
        requester: Requester,
        object_filter: str | None,
    ) -> bool:
        """
        Fetch C{refspec} (a commit, a blob or a branch refspec) from
        C{location} into the workspace repository with C{options}, asking
        for C{object_filter} only; a server that refuses the filter gets
        the same fetch without it.

        @return: whether the server applied the filter (when it did not,
            everything reachable from C{refspec} was fetched).
        @raise Unprocessable: the fetch failed, or went over the budget.
        """

        def argv(with_filter: bool) -> list[str]:
            """The fetch command, with or without the filter."""
            chosen = [f"--filter={object_filter}"] if with_filter else []
            return [
                "--git-dir=" + workspace.repository,
                "fetch",
                "--quiet",
                "--no-tags",
                *options,
                *chosen,
                "--",
                location.url,
                refspec,
            ]

        filtered = object_filter is not None
        result = await self._run_remote(location, workspace, argv(filtered), requester)
        if filtered and _refused_filter(result):
            self.log.info(
                "{repository} refused --filter={kind}; fetching without it",
                repository=location.render(),
                kind=object_filter,
            )
            result = await self._run_remote(location, workspace, argv(False), requester)
            filtered = False
        self._check(location, result, wanted, requester)
        return filtered and _IGNORED_FILTER not in result.stderr

    async def remote(
        self,
        location: RepoLocation,
        workspace: Workspace,
        args: Sequence[str],
        *,
        wanted: str,
        max_stdout_bytes: int,
        requester: Requester,
    ) -> ProcessResult:
        """
        Run a git command that talks to C{location} to get C{wanted} (a
        description such as C{"ref 'main'"} for the missing-ref message)
        and fetches no objects (C{ls-remote}).

        @return: the result of a successful run.
        @raise Unprocessable: the run failed, classified.
        """
        watch = GitWatch(first_byte_seconds=self._first_byte_seconds, budget=None)
        result = await self._runner.run(
            workspace,
            location.git_protocol,
            args,
            max_stdout_bytes=max_stdout_bytes,
            submitter=requester.submitter,
            watch=watch,
        )
        return self._check(location, result, wanted, requester)

    async def local(
        self,
        location: RepoLocation,
        workspace: Workspace,
        args: Sequence[str],
        *,
        requester: Requester,
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
            submitter=requester.submitter,
        )
        if result.timed_out:
            raise git_failure(
                "timeout",
                location,
                describe_failure("timeout", location, "", self._timeout_seconds),
            )
        return result

    async def tree_entry(
        self,
        location: RepoLocation,
        workspace: Workspace,
        commit: str,
        path: str,
        requester: Requester,
    ) -> TreeEntry | None:
        """
        Look C{path} up in the tree of the fetched C{commit} (trees only:
        no blob is read, so nothing is fetched lazily).

        @return: the entry, or None when the commit has no such path.
        """
        result = await self.local(
            location,
            workspace,
            ["--literal-pathspecs", "ls-tree", "-z", "--full-tree", commit, "--"]
            + [path],
            requester=requester,
            max_stdout_bytes=_MAX_TREE_LINE_BYTES,
        )
        if not result.succeeded:
            return None
        for record in result.stdout.split(b"\0"):
            info, tab, name = record.partition(b"\t")
            fields = info.split(b" ")
            if tab and len(fields) == 3 and name == path.encode():
                mode, kind, oid = (part.decode("ascii", "replace") for part in fields)
                return TreeEntry(mode=mode, kind=kind, oid=oid)
        return None

    async def _run_remote(
        self,
        location: RepoLocation,
        workspace: Workspace,
        args: Sequence[str],
        requester: Requester,
    ) -> ProcessResult:
        """
        Run a fetch under a watch that charges pack bytes to the budget.

        @return: the result, whatever the exit status.
        """
        watch = GitWatch(
            first_byte_seconds=self._first_byte_seconds, budget=requester.budget
        )
        return await self._runner.run(
            workspace,
            location.git_protocol,
            args,
            max_stdout_bytes=64 * 1024,
            submitter=requester.submitter,
            watch=watch,
        )

    def _check(
        self,
        location: RepoLocation,
        result: ProcessResult,
        wanted: str,
        requester: Requester,
    ) -> ProcessResult:
        """
        Accept a successful remote command, else log and classify.

        @return: C{result} when it succeeded.
        @raise Unprocessable: it failed.
        """
        if result.stopped == "too-large":
            raise git_failure(
                "too-large",
                location,
                f"fetching from {location} went over the "
                f"{requester.budget.limit_bytes} bytes one submission may "
                "fetch (scm.max_fetch_bytes)",
            )
        if result.stdout_overflowed:
            raise git_failure(
                "too-large", location, f"git's answer from {location} is too large"
            )
        if result.succeeded:
            self.log.debug(
                "git answered for {repository} in {duration_seconds} seconds",
                repository=location.render(),
                duration_seconds=round(result.duration_seconds, 3),
            )
            return result
        reason = classify_failure(result)
        self.log.emit(
            LogLevel.warn if reason in TRANSIENT_REASONS else LogLevel.info,
            "git failed for {repository} after {duration_seconds} seconds ({reason})",
            repository=location.render(),
            duration_seconds=round(result.duration_seconds, 3),
            reason=reason,
        )
        raise git_failure(
            reason,
            location,
            describe_failure(
                reason,
                location,
                wanted,
                self._timeout_seconds,
                first_byte_seconds=self._first_byte_seconds,
            ),
        )


def refuse_symlink(
    location: RepoLocation, commit: str, path: str, entry: TreeEntry
) -> None:
    """
    Refuse a path that is a symbolic link: its target (C{/etc/passwd}, or
    nothing at all) is not the file that was asked for.

    @raise Unprocessable: C{entry} is a symbolic link (reason C{symlink}).
    """
    if entry.is_symlink:
        raise git_failure(
            "symlink",
            location,
            f"{path} at commit {commit} in {location} is a symbolic link;"
            " commit the file itself",
        )


def _refused_filter(result: ProcessResult) -> bool:
    """
    @return: whether a filtered fetch failed because of its filter.
    """
    if result.succeeded or result.timed_out or result.silent or result.stopped:
        return False
    return any(
        line.startswith((b"fatal:", b"error:")) and b"filter" in line
        for line in result.stderr.lower().splitlines()
    )
