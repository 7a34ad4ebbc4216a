"""Run one child process through Twisted's process API, with limits.

``run_process`` collects stdout and stderr up to a size cap each and kills
the process (SIGKILL) when it outlives its time limit or writes more to
stdout than allowed. An optional ``OutputWatch`` reads further descriptors
the child writes to (a trace, say): it can stop the child, and it can make
the child show a sign of life within a shorter first deadline. Nothing here
blocks the reactor thread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from twisted.internet.defer import Deferred
from twisted.internet.error import ProcessExitedAlready
from twisted.internet.interfaces import IDelayedCall, IReactorProcess, IReactorTime
from twisted.internet.protocol import ProcessProtocol
from twisted.python.failure import Failure

__all__ = ["OutputWatch", "ProcessResult", "run_process"]


@dataclass(frozen=True)
class ProcessResult:
    """How a child process ended and what it wrote.

    ``exit_code`` is ``None`` when a signal ended the process (``signal`` then
    holds its number). ``stdout`` holds at most the allowed number of bytes;
    ``stdout_overflowed`` says the process wrote more and was killed for it.
    ``stderr`` is cut at its cap without killing the process. ``silent``
    says the process was killed for showing no sign of life (see
    ``OutputWatch``) in time; ``stopped`` is the reason its watch gave for
    stopping it.
    """

    exit_code: int | None
    signal: int | None
    stdout: bytes
    stderr: bytes
    timed_out: bool
    stdout_overflowed: bool
    duration_seconds: float
    silent: bool = False
    stopped: str | None = None

    @property
    def succeeded(self) -> bool:
        """Whether the process exited with status 0 within its limits.

        :returns: ``True`` on a clean exit.
        """
        return self.exit_code == 0 and not (
            self.timed_out or self.stdout_overflowed or self.silent or self.stopped
        )


class OutputWatch(Protocol):
    """Reads what a child writes on descriptors beyond stdout and stderr.

    ``run_process`` opens each of ``fds`` (3 and up) as a pipe from the
    child, hands every chunk read to ``received``, then looks at ``alive``
    and ``stop_reason``. With ``first_sign_seconds`` set, a child that is
    not ``alive`` by then is killed and its result is ``silent``; a
    ``stop_reason`` kills it at once.
    """

    fds: tuple[int, ...]
    first_sign_seconds: float | None

    def received(self, fd: int, data: bytes) -> None:
        """Read one chunk the child wrote on ``fd``."""

    @property
    def alive(self) -> bool:
        """Whether the child has shown the sign of life waited for."""

    @property
    def stop_reason(self) -> str | None:
        """Why the child must be stopped now, or None."""


class _CollectingProtocol(ProcessProtocol):
    """Collect output with caps, kill on timeout or overflow, report the end."""

    def __init__(
        self,
        *,
        clock: IReactorTime,
        max_stdout_bytes: int,
        max_stderr_bytes: int,
        finished: Deferred[ProcessResult],
        watch: OutputWatch | None = None,
    ) -> None:
        """Prepare to collect output; ``finished`` fires with the ``ProcessResult``."""
        self._clock = clock
        self._watch = watch
        self._max_stdout = max_stdout_bytes
        self._max_stderr = max_stderr_bytes
        self._finished = finished
        self._stdout: list[bytes] = []
        self._stdout_size = 0
        self._stderr: list[bytes] = []
        self._stderr_size = 0
        self._started = clock.seconds()
        self._timer: IDelayedCall | None = None
        self._first_sign: IDelayedCall | None = None
        self._killed = False
        self._ended = False
        self.timed_out = False
        self.overflowed = False
        self.silent = False
        self.stopped: str | None = None

    def start_timer(self, timeout_seconds: float) -> None:
        """Kill the process once ``timeout_seconds`` have passed, or once
        the watch's first deadline passed without a sign of life."""
        if self._ended:
            return
        self._timer = self._clock.callLater(timeout_seconds, self._on_timeout)
        watch = self._watch
        if watch is not None and watch.first_sign_seconds is not None:
            if not watch.alive and watch.first_sign_seconds < timeout_seconds:
                self._first_sign = self._clock.callLater(
                    watch.first_sign_seconds, self._on_silence
                )

    def kill(self) -> None:
        """Send SIGKILL, unless the process has already exited."""
        self._killed = True
        if self.transport is None:
            return
        try:
            self.transport.signalProcess("KILL")
        except ProcessExitedAlready:
            pass

    def _on_timeout(self) -> None:
        """The deadline passed: kill the process."""
        self._timer = None
        self.timed_out = True
        self.kill()

    def _on_silence(self) -> None:
        """The first deadline passed with no sign of life: kill the process."""
        self._first_sign = None
        self.silent = True
        self.kill()

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        """stdout and stderr as usual; other descriptors go to the watch."""
        if childFD in (1, 2) or self._watch is None:
            super().childDataReceived(childFD, data)
            return
        watch = self._watch
        watch.received(childFD, data)
        if watch.alive and self._first_sign is not None:
            self._first_sign.cancel()
            self._first_sign = None
        reason = watch.stop_reason
        if reason is not None and self.stopped is None and not self._killed:
            self.stopped = reason
            self.kill()

    def connectionMade(self) -> None:
        """The child gets no input."""
        assert self.transport is not None
        self.transport.closeStdin()

    def outReceived(self, data: bytes) -> None:
        """Keep stdout up to the cap; past it, kill the process."""
        if self.overflowed:
            return
        room = self._max_stdout - self._stdout_size
        if len(data) > room:
            self._stdout.append(data[:room])
            self._stdout_size = self._max_stdout
            self.overflowed = True
            self.kill()
            return
        self._stdout.append(data)
        self._stdout_size += len(data)

    def errReceived(self, data: bytes) -> None:
        """Keep stderr up to the cap and drop the rest."""
        room = self._max_stderr - self._stderr_size
        if room > 0:
            chunk = data[:room]
            self._stderr.append(chunk)
            self._stderr_size += len(chunk)

    def processExited(self, reason: Failure) -> None:
        """After a kill, close our ends of the pipes so a grandchild holding
        them open cannot delay the result.
        """
        if self._killed and self.transport is not None:
            self.transport.loseConnection()
            for fd in self._watch.fds if self._watch is not None else ():
                self.transport.closeChildFD(fd)

    def processEnded(self, reason: Failure) -> None:
        """Fire ``finished`` with the result (unless it was cancelled)."""
        self._ended = True
        for timer in (self._timer, self._first_sign):
            if timer is not None and timer.active():
                timer.cancel()
        self._timer = self._first_sign = None
        exit_code = getattr(reason.value, "exitCode", None)
        signal = getattr(reason.value, "signal", None)
        if signal is not None:
            exit_code = None
        result = ProcessResult(
            exit_code=exit_code,
            signal=signal,
            stdout=b"".join(self._stdout),
            stderr=b"".join(self._stderr),
            timed_out=self.timed_out,
            stdout_overflowed=self.overflowed,
            duration_seconds=self._clock.seconds() - self._started,
            silent=self.silent,
            stopped=self.stopped,
        )
        if not self._finished.called:
            self._finished.callback(result)


async def run_process(
    *,
    reactor: IReactorProcess,
    clock: IReactorTime,
    executable: str,
    args: Sequence[str],
    env: Mapping[str, str],
    timeout_seconds: float,
    max_stdout_bytes: int,
    max_stderr_bytes: int = 64 * 1024,
    path: str | None = None,
    watch: OutputWatch | None = None,
) -> ProcessResult:
    """Run ``executable`` with ``args`` (``args[0]`` is the program name; never a
    shell) and wait for it to end, however it ends.

    Cancelling the wait kills the process. ``watch`` reads the descriptors
    it names and may stop the process (see ``OutputWatch``).

    :returns: the exit status and collected output; a timeout or an overflow
        shows in the result's flags, not as an exception.
    :raises OSError: the process could not be started.
    """

    def cancel(_: Deferred[Any]) -> None:
        """Kill the process when the wait is cancelled."""
        protocol.kill()

    finished: Deferred[ProcessResult] = Deferred(cancel)
    protocol = _CollectingProtocol(
        clock=clock,
        max_stdout_bytes=max_stdout_bytes,
        max_stderr_bytes=max_stderr_bytes,
        finished=finished,
        watch=watch,
    )
    if watch is not None and watch.fds:
        child_fds: dict[int, str | int] = {0: "w", 1: "r", 2: "r"}
        child_fds.update({fd: "r" for fd in watch.fds})
        reactor.spawnProcess(
            protocol,
            executable,
            list(args),
            env=dict(env),
            path=path,
            childFDs=child_fds,
        )
    else:
        reactor.spawnProcess(protocol, executable, list(args), env=dict(env), path=path)
    protocol.start_timer(timeout_seconds)
    return await finished
