"""Watching a git process that talks to a server: did the server answer,
and how many bytes of pack data arrived.

git writes a trace of the protocol's packet lines to the descriptor named
by C{GIT_TRACE_PACKET} and the raw pack data it receives to the one named
by C{GIT_TRACE_PACKFILE}. L{GitWatch} reads both (descriptors 3 and 4 of
the child, see L{ridad.process.OutputWatch}): the first packet line git
I{receives} (C{"packet: <program>< ..."}) is the server's first answer,
and every pack byte is charged to the submission's L{FetchBudget}. This
works the same for git://, http(s):// (the trace comes from git's
remote-http helper) and file:// (from the local upload-pack).
"""

from __future__ import annotations

import math
import re

__all__ = [
    "PACK_FD",
    "TRACE_FD",
    "FetchBudget",
    "GitWatch",
    "watch_environment",
]

TRACE_FD = 3
PACK_FD = 4

# A packet line received by a git program: "packet:   fetch< version 2".
_RECEIVED = re.compile(rb"packet:\s+[\w.-]+< ")
# Enough of a trace line's start to find the marker across chunk ends.
_KEEP_BYTES = 256


class FetchBudget:
    """
    The pack bytes one submission may still fetch, shared by all of its
    git commands (also those running at the same time).
    """

    def __init__(self, limit_bytes: int) -> None:
        """
        Start with nothing spent.
        """
        self.limit_bytes = limit_bytes
        self.spent_bytes = 0

    def spend(self, size: int) -> None:
        """
        Count C{size} more bytes as fetched.
        """
        self.spent_bytes += size

    @property
    def exceeded(self) -> bool:
        """
        @return: whether more than the limit has been fetched.
        """
        return self.spent_bytes > self.limit_bytes


class GitWatch:
    """
    The L{ridad.process.OutputWatch} of one git command that talks to a
    server.
    """

    def __init__(
        self, *, first_byte_seconds: float | None, budget: FetchBudget | None
    ) -> None:
        """
        Wait C{first_byte_seconds} for the server's first answer (None: no
        first deadline) and charge pack bytes to C{budget} (None: read
        only the packet trace).
        """
        self.fds: tuple[int, ...] = (
            (TRACE_FD,) if budget is None else (TRACE_FD, PACK_FD)
        )
        self.first_sign_seconds = first_byte_seconds
        self._budget = budget
        self._answered = False
        self._trace_tail = b""

    def received(self, fd: int, data: bytes) -> None:
        """
        Read a chunk of the packet trace or of the pack data.
        """
        if fd == PACK_FD and self._budget is not None:
            self._budget.spend(len(data))
        elif fd == TRACE_FD and not self._answered:
            text = self._trace_tail + data
            if _RECEIVED.search(text):
                self._answered = True
                self._trace_tail = b""
            else:
                self._trace_tail = text[-_KEEP_BYTES:]

    @property
    def alive(self) -> bool:
        """
        @return: whether the server has answered.
        """
        return self._answered

    @property
    def stop_reason(self) -> str | None:
        """
        @return: C{"too-large"} once the submission fetched more than its
            budget allows, else None.
        """
        if self._budget is not None and self._budget.exceeded:
            return "too-large"
        return None


def watch_environment(watch: GitWatch, protocol: str) -> dict[str, str]:
    """
    The environment that makes git write what C{watch} reads, and, over
    http(s), give up on a server that sends nothing for the first-byte
    time (git's remote-http helper would otherwise outlive the git process
    the watch kills).

    @return: C{GIT_TRACE_PACKET}, C{GIT_TRACE_PACKFILE} when the watch
        counts pack bytes, and C{http.lowSpeed*} settings through
        C{GIT_CONFIG_COUNT}.
    """
    env = {"GIT_TRACE_PACKET": str(TRACE_FD)}
    if PACK_FD in watch.fds:
        env["GIT_TRACE_PACKFILE"] = str(PACK_FD)
    seconds = watch.first_sign_seconds
    if seconds is not None and protocol in ("http", "https"):
        env.update(
            GIT_CONFIG_COUNT="2",
            GIT_CONFIG_KEY_0="http.lowSpeedLimit",
            GIT_CONFIG_VALUE_0="1",
            GIT_CONFIG_KEY_1="http.lowSpeedTime",
            GIT_CONFIG_VALUE_1=str(max(1, math.ceil(seconds))),
        )
    return env
