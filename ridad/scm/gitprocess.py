"""Running git for L{ridad.scm.git.GitClient}: throwaway workspaces, limited
child processes, and the checks on what goes on git's command line.

L{GitRunner} makes one temporary directory (an empty C{HOME} and a bare
repository) per question and removes it off the reactor thread, and runs
git with one protocol allowed, no prompts, no system or user configuration
and a time limit, at most C{max_concurrent} at once, the slots shared fairly
between submitters (L{ridad.scm.slots.FairSlots}). A command that talks to
a server runs under a L{ridad.scm.watch.GitWatch}.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from twisted.internet.interfaces import IReactorProcess, IReactorTime
from twisted.logger import Logger, LogLevel

from ridad.errors import InvalidRequest
from ridad.metrics.instruments import Metrics
from ridad.process import ProcessResult, run_process
from ridad.scm.slots import FairSlots
from ridad.scm.watch import GitWatch, watch_environment

SHA_RE = re.compile(r"[0-9a-fA-F]{40}")

#: Runs a blocking callable away from the reactor thread (production: a
#: thread pool via ``deferToThreadPool``) and gives its result.
RunBlocking = Callable[[Callable[[], Any]], Awaitable[Any]]


def check_commit(commit: str) -> str:
    """
    Check a full commit hash.

    @return: the hash in lower case.
    @raise InvalidRequest: it is not 40 hexadecimal digits.
    """
    if not isinstance(commit, str) or not SHA_RE.fullmatch(commit):
        raise InvalidRequest(f"{commit!r} is not a full 40-digit commit hash")
    return commit.lower()


def check_path(path: str) -> None:
    """
    Check a file path inside a repository.

    @raise InvalidRequest: it is empty, absolute, has C{.}/C{..} or empty
        segments, starts with C{-}, or holds control characters.
    """
    segments = path.split("/")
    if (
        path.startswith("-")
        or any(segment in ("", ".", "..") for segment in segments)
        or any(ord(char) < 0x20 or ord(char) == 0x7F for char in path)
    ):
        raise InvalidRequest(f"{path!r} is not an acceptable path inside a repository")


@dataclass(frozen=True)
class Workspace:
    """
    A temporary directory holding an empty C{HOME} and a bare repository.
    """

    root: str
    home: str
    repository: str


class GitRunner:
    """
    Run git in throwaway workspaces, at most C{max_concurrent} at once,
    shared fairly between submitters.
    """

    log = Logger()

    def __init__(
        self,
        *,
        reactor: IReactorProcess,
        git: str,
        timeout_seconds: float,
        max_concurrent: int,
        temp_dir: str | None,
        run_blocking: RunBlocking,
        metrics: Metrics | None = None,
    ) -> None:
        """
        Keep the collaborators; C{git} is the absolute path of the binary;
        each command's time goes to C{metrics}.
        """
        self._metrics = metrics or Metrics()
        self._reactor = reactor
        self._clock = IReactorTime(reactor)
        self._git = git
        self._timeout_seconds = timeout_seconds
        self._slots = FairSlots(max_concurrent)
        self._temp_dir = temp_dir
        self._run_blocking = run_blocking

    async def run(
        self,
        workspace: Workspace,
        protocol: str,
        args: Sequence[str],
        *,
        max_stdout_bytes: int,
        submitter: str = "",
        watch: GitWatch | None = None,
    ) -> ProcessResult:
        """
        Run git with only C{protocol} allowed, once a slot is free for
        C{submitter}; C{watch} reads the packet trace of a command that
        talks to a server.

        @return: the result, whatever the exit status.
        """
        argv = [
            "git",
            "-c",
            "protocol.allow=never",
            "-c",
            f"protocol.{protocol}.allow=always",
            *args,
        ]
        env = {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "/bin/true",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CEILING_DIRECTORIES": os.path.dirname(workspace.root),
            "HOME": workspace.home,
            "LC_ALL": "C",
            "PATH": os.defpath,
        }
        if watch is not None:
            env.update(watch_environment(watch, protocol))
        await self._slots.acquire(submitter)
        try:
            result = await run_process(
                reactor=self._reactor,
                clock=self._clock,
                executable=self._git,
                args=argv,
                env=env,
                timeout_seconds=self._timeout_seconds,
                max_stdout_bytes=max_stdout_bytes,
                path=workspace.root,
                watch=watch,
            )
        finally:
            self._slots.release(submitter)
        labels = (subcommand(args), outcome(result))
        self._metrics.git_seconds.labels(*labels).observe(result.duration_seconds)
        return result

    @asynccontextmanager
    async def workspace(self) -> AsyncIterator[Workspace]:
        """
        Make a temporary directory for one question and always remove it,
        in C{run_blocking} (a checkout can be large).

        @return: the workspace, as the context value.
        """
        root = tempfile.mkdtemp(prefix="ridad-git-", dir=self._temp_dir)
        try:
            home = os.path.join(root, "home")
            os.mkdir(home)
            yield Workspace(
                root=root, home=home, repository=os.path.join(root, "repo.git")
            )
        finally:
            removed = await self._run_blocking(lambda: remove_tree(root))
            if not removed:
                self.log.emit(
                    LogLevel.warn,
                    "Could not remove the temporary git directory {directory}",
                    directory=root,
                )


def subcommand(args: Sequence[str]) -> str:
    """
    @return: the git subcommand of C{args}: the first that is no option
        (nor the value of C{-c} or C{-C}).
    """
    values = {i + 1 for i, a in enumerate(args) if a in ("-c", "-C")}
    found = (a for i, a in enumerate(args) if i not in values and a[:1] != "-")
    return next(found, "none")


def outcome(result: ProcessResult) -> str:
    """
    @return: how a git command ended: C{ok}, C{failed}, C{timeout}, or why
        it was stopped (as L{ridad.scm.failures} names it: C{too-large},
        C{slow} for a server silent past the first-byte time).
    """
    if result.timed_out:
        return "timeout"
    if result.stopped or result.silent or result.stdout_overflowed:
        return result.stopped or ("slow" if result.silent else "too-large")
    return "ok" if result.exit_code == 0 else "failed"


def remove_tree(root: str) -> bool:
    """
    Remove a directory tree (blocking: run it off the reactor thread).

    @return: whether the directory is gone.
    """
    shutil.rmtree(root, ignore_errors=True)
    return not os.path.exists(root)


def parse_listing(output: bytes) -> dict[str, str]:
    """
    Parse C{git ls-remote} output.

    @return: ref name to commit hash (lower case), for well-formed lines.
    """
    refs: dict[str, str] = {}
    for line in output.decode("utf-8", "replace").splitlines():
        commit, _, name = line.partition("\t")
        if SHA_RE.fullmatch(commit) and name:
            refs[name] = commit.lower()
    return refs
