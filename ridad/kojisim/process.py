"""Running git and rpm through Twisted's process API, with a time limit.

(kojisim may not import ``ridad.scm``, so it keeps this small runner.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.error import ProcessExitedAlready
from twisted.internet.interfaces import IDelayedCall, IReactorProcess, IReactorTime
from twisted.internet.protocol import ProcessProtocol
from twisted.python.failure import Failure

__all__ = ["ProcessOutput", "run"]

_MAX_OUTPUT_BYTES = 1 << 20


@dataclass(frozen=True)
class ProcessOutput:
    """How a child process ended and what it wrote (each stream capped)."""

    exit_code: int | None
    stdout: bytes
    stderr: bytes
    timed_out: bool

    @property
    def succeeded(self) -> bool:
        """Whether it exited with status 0 in time."""
        return self.exit_code == 0 and not self.timed_out


class _Collector(ProcessProtocol):
    """Collects output and fires ``finished`` when the process has ended."""

    def __init__(self, finished: Deferred[ProcessOutput]) -> None:
        """Prepare to collect."""
        self._finished = finished
        self._out: list[bytes] = []
        self._err: list[bytes] = []
        self.timed_out = False
        self.timer: IDelayedCall | None = None

    def connectionMade(self) -> None:
        """The child gets no input."""
        assert self.transport is not None
        self.transport.closeStdin()

    def outReceived(self, data: bytes) -> None:
        """Keep stdout up to the cap."""
        if sum(map(len, self._out)) < _MAX_OUTPUT_BYTES:
            self._out.append(data)

    def errReceived(self, data: bytes) -> None:
        """Keep stderr up to the cap."""
        if sum(map(len, self._err)) < _MAX_OUTPUT_BYTES:
            self._err.append(data)

    def kill(self) -> None:
        """SIGKILL the child, unless it is gone already."""
        if self.transport is not None:
            try:
                self.transport.signalProcess("KILL")
            except ProcessExitedAlready:
                pass

    def expire(self) -> None:
        """The time limit passed."""
        self.timer = None
        self.timed_out = True
        self.kill()

    def processEnded(self, reason: Failure) -> None:
        """Report the result."""
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None
        exit_code = getattr(reason.value, "exitCode", None)
        if not self._finished.called:
            self._finished.callback(
                ProcessOutput(
                    exit_code, b"".join(self._out), b"".join(self._err), self.timed_out
                )
            )


async def run(
    reactor: IReactorProcess,
    clock: IReactorTime,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout_seconds: float,
    path: str | None = None,
) -> ProcessOutput:
    """Run ``argv`` (no shell) and wait for it; cancelling kills it.

    :raises OSError: the program could not be started.
    """

    def cancel(_: Deferred[Any]) -> None:
        """Kill the child when the wait is cancelled."""
        protocol.kill()

    finished: Deferred[ProcessOutput] = Deferred(cancel)
    protocol = _Collector(finished)
    reactor.spawnProcess(protocol, argv[0], list(argv), env=dict(env), path=path)
    protocol.timer = clock.callLater(timeout_seconds, protocol.expire)
    try:
        return await finished
    finally:
        if protocol.timer is not None and protocol.timer.active():
            protocol.timer.cancel()
