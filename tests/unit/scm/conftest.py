"""Fixtures for the scm unit tests: a fake process reactor on a fake clock.

The fake stands at the process boundary only: it records what would be
spawned and lets a test decide what each process writes and how it ends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest
from twisted.internet.error import ProcessDone, ProcessExitedAlready, ProcessTerminated
from twisted.internet.interfaces import IReactorProcess, IReactorTime
from twisted.internet.protocol import ProcessProtocol
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from zope.interface import implementer


@dataclass
class FakeProcess:
    """One spawned process: its arguments and what has been done to it."""

    protocol: ProcessProtocol
    executable: str
    args: list[str]
    env: dict[str, str]
    path: str | None
    signals: list[str] = field(default_factory=list)
    stdin_closed: bool = False
    connection_lost: bool = False
    closed_fds: list[int] = field(default_factory=list)
    child_fds: object = None
    exited: bool = False
    ended: bool = False

    # The transport side, as Twisted's Process offers it.
    def signalProcess(self, signal: str) -> None:
        """Record a signal; a dead process refuses it like Twisted does."""
        if self.exited:
            raise ProcessExitedAlready()
        self.signals.append(signal)

    def closeStdin(self) -> None:
        """Record that stdin was closed."""
        self.stdin_closed = True

    def loseConnection(self) -> None:
        """Record that our pipe ends were closed."""
        self.connection_lost = True

    def closeChildFD(self, fd: int) -> None:
        """Record that our end of the child's descriptor fd was closed."""
        self.closed_fds.append(fd)

    # Test controls.
    def write(self, stdout: bytes = b"", stderr: bytes = b"") -> None:
        """Deliver output from the process."""
        if stdout:
            self.protocol.outReceived(stdout)
        if stderr:
            self.protocol.errReceived(stderr)

    def finish(
        self,
        exit_code: int = 0,
        *,
        stdout: bytes = b"",
        stderr: bytes = b"",
        signal: int | None = None,
    ) -> None:
        """Deliver output, then end the process with a status or a signal."""
        self.write(stdout, stderr)
        self.exited = True
        if exit_code == 0 and signal is None:
            reason = Failure(ProcessDone(0))
        else:
            reason = Failure(ProcessTerminated(exit_code, signal))
        self.protocol.processExited(reason)
        self.ended = True
        self.protocol.processEnded(reason)

    @property
    def git_args(self) -> list[str]:
        """The arguments after the C{-c} protocol options."""
        return self.args[5:]


@implementer(IReactorProcess, IReactorTime)
class FakeProcessReactor(Clock):
    """A clock that also records spawned processes instead of running them."""

    def __init__(self) -> None:
        """Start at time 0 with no processes."""
        super().__init__()
        self.processes: list[FakeProcess] = []

    def spawnProcess(
        self,
        processProtocol: ProcessProtocol,
        executable: str,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        path: str | None = None,
        uid: int | None = None,
        gid: int | None = None,
        usePTY: bool = False,
        childFDs: object = None,
    ) -> FakeProcess:
        """Record the process and connect its protocol to a fake transport."""
        process = FakeProcess(
            protocol=processProtocol,
            executable=executable,
            args=list(args),
            env=dict(env or {}),
            path=path,
            child_fds=childFDs,
        )
        self.processes.append(process)
        processProtocol.makeConnection(process)
        return process

    @property
    def running(self) -> list[FakeProcess]:
        """The processes that have not ended yet."""
        return [p for p in self.processes if not p.ended]


@pytest.fixture
def process_reactor() -> FakeProcessReactor:
    """A fresh fake process reactor."""
    return FakeProcessReactor()
