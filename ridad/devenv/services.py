"""How the demo environment runs its child programs.

A L{ChildProcess} starts one program, waits for its readiness probe and
stops it; ``ridad.devenv.daemons`` describes git daemon, kojisim and ridad.
A ``ServiceChain`` starts its services in order, each once the previous one
is ready, and stops them in reverse order. ``ridad.devenv.broker`` adds the
message broker, and ``ridad.devenv.main.demo_services`` lists them all.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from twisted.internet.defer import Deferred, succeed
from twisted.internet.defer import TimeoutError as DeferredTimeoutError
from twisted.internet.error import (
    ProcessDone,
    ProcessExitedAlready,
    ProcessTerminated,
)
from twisted.internet.protocol import ProcessProtocol
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure

from ridad.devenv.environment import DemoEnvironmentError

PROBE_INTERVAL_SECONDS = 0.25
STOP_TIMEOUT_SECONDS = 30.0

#: A reactor providing IReactorCore, IReactorTime, IReactorProcess and IReactorTCP.
DemoReactor = Any

# Runs a program in a session of its own, so that Ctrl-C in the terminal reaches
# only the demo environment, which then stops its children one by one, in order.
_NEW_SESSION = "import os, sys; os.setsid(); os.execv(sys.argv[1], sys.argv[1:])"


class ChildService(Protocol):
    """A service of the demo environment, started and stopped by a ``ServiceChain``."""

    name: str

    async def start(self) -> None:
        """Start the service and return once it is ready."""

    async def stop(self) -> None:
        """Stop the service and return once it is gone; a no-op if never started."""


class ChildExited(DemoEnvironmentError):
    """A child program exited before it became ready."""

    def __init__(self, name: str, status: int) -> None:
        super().__init__(f"{name} exited with status {status} before it became ready")
        self.status = status


@dataclass(frozen=True)
class ListenAddress:
    """An address a child program will listen on, checked before it starts."""

    host: str
    port: int
    advice: str


def exit_status(reason: Failure) -> int:
    """Turn a ``processEnded`` reason into a shell-style status (128+N for signal N)."""
    if reason.check(ProcessTerminated):
        value = reason.value
        if value.signal is not None:
            return 128 + int(value.signal)
        return int(value.exitCode)
    if reason.check(ProcessDone):
        return 0
    return 1


class _ExitWatcher(ProcessProtocol):
    """Closes the child's stdin and reports its exit status."""

    def __init__(self, on_exit: Callable[[int], None]) -> None:
        self._on_exit = on_exit

    def connectionMade(self) -> None:
        self.transport.closeStdin()  # type: ignore[misc,union-attr]

    def processEnded(self, reason: Failure) -> None:
        self._on_exit(exit_status(reason))


class ChildProcess:
    """A program whose stdout and stderr go to the terminal; stopped with SIGTERM."""

    log = Logger()

    def __init__(
        self,
        *,
        name: str,
        reactor: DemoReactor,
        argv: Sequence[str],
        env: dict[str, str],
        probe: Callable[[], Awaitable[bool]],
        ready_timeout_seconds: float,
        listens_on: ListenAddress | None = None,
        stop_timeout_seconds: float = STOP_TIMEOUT_SECONDS,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self._reactor = reactor
        self._argv = list(argv)
        self._env = env
        self._probe = probe
        self._ready_timeout_seconds = ready_timeout_seconds
        self._listens_on = listens_on
        self._stop_timeout_seconds = stop_timeout_seconds
        self._cwd = cwd
        self._transport: Any = None
        self._waiters: list[Deferred[int]] = []
        self.status: int | None = None

    async def start(self) -> None:
        """Spawn the program, then poll its probe until it answers.

        :raises DemoEnvironmentError: its port is taken, or it was not ready in time.
        :raises ChildExited: it exited first.
        """
        if self._listens_on is not None:
            ensure_port_free(self._listens_on, user=self.name)
        self._transport = self._reactor.spawnProcess(
            _ExitWatcher(self._exited),
            sys.executable,
            [sys.executable, "-c", _NEW_SESSION, *self._argv],
            env=self._env,
            path=None if self._cwd is None else str(self._cwd),
            childFDs={0: "w", 1: 1, 2: 2},
        )
        self.log.info(
            "Started {name} (pid {pid})", name=self.name, pid=self._transport.pid
        )
        deadline = self._reactor.seconds() + self._ready_timeout_seconds
        while True:
            ready = False
            if self.status is None:
                ready = await _cancellable(Deferred.fromCoroutine(_call(self._probe)))
            if self.status is not None:
                raise ChildExited(self.name, self.status)
            if ready:
                self.log.info("{name} is ready", name=self.name)
                return
            if self._reactor.seconds() >= deadline:
                raise DemoEnvironmentError(
                    f"{self.name} did not become ready within "
                    f"{self._ready_timeout_seconds:g} s"
                )
            await deferLater(self._reactor, PROBE_INTERVAL_SECONDS)

    async def stop(self) -> None:
        """Send SIGTERM and wait for the exit; SIGKILL after the stop timeout."""
        if self._transport is None or self.status is not None:
            return
        self.log.info("Stopping {name}", name=self.name)
        self._signal("TERM")
        try:
            await self.when_exited().addTimeout(
                self._stop_timeout_seconds, self._reactor
            )
        except DeferredTimeoutError:
            self.log.warn(  # noqa: G010 (twisted.logger has no .warning)
                "{name} did not stop within {timeout_seconds} s; killing it",
                name=self.name,
                timeout_seconds=self._stop_timeout_seconds,
            )
            self._signal("KILL")
            await self.when_exited()

    def when_exited(self) -> Deferred[int]:
        """Return a Deferred that fires with the exit status (128+N for signal N)."""
        if self.status is not None:
            return succeed(self.status)
        waiter: Deferred[int] = Deferred(self._waiters.remove)
        self._waiters.append(waiter)
        return waiter

    def _signal(self, name: str) -> None:
        try:
            self._transport.signalProcess(name)
        except ProcessExitedAlready:
            pass  # it is exiting anyway; processEnded follows

    def _exited(self, status: int) -> None:
        self.status = status
        self.log.info(
            "{name} exited with status {status}", name=self.name, status=status
        )
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.callback(status)


async def _call(probe: Callable[[], Awaitable[bool]]) -> bool:
    return await probe()


def _cancellable(d: Deferred[bool]) -> Deferred[bool]:
    """Wrap ``d`` so that cancelling the wrapper always fails it with CancelledError.

    A probe takes a failed or timed-out attempt to mean "not ready yet";
    without the wrapper it would swallow a cancellation of the whole start too.
    """
    cancelled = False

    def cancel(_: Deferred[bool]) -> None:
        nonlocal cancelled
        cancelled = True
        d.cancel()

    wrapper: Deferred[bool] = Deferred(cancel)

    def forward(result: bool | Failure) -> None:
        if not cancelled:  # after cancel() the wrapper has failed already
            wrapper.callback(result)  # type: ignore[arg-type]  # a Failure errbacks

    d.addBoth(forward)
    return wrapper


class ServiceChain:
    """Starts services in order and stops the started ones in reverse order."""

    log = Logger()

    def __init__(self, services: Sequence[ChildService]) -> None:
        self._services = list(services)
        self._started: list[ChildService] = []

    async def start(self) -> None:
        """Start every service, each after the previous one is ready.

        If this fails or is cancelled, the caller must still call ``stop``.
        """
        for service in self._services:
            self._started.append(service)
            await service.start()

    async def stop(self) -> None:
        """Stop the started services in reverse order, logging failures."""
        while self._started:
            service = self._started.pop()
            with self.log.failuresHandled("Stopping {name} failed", name=service.name):
                await service.stop()


def ensure_port_free(address: ListenAddress, *, user: str) -> None:
    """Check that nothing listens on an address yet, by binding to it briefly.

    :raises DemoEnvironmentError: it is in use; the message names it and says what to do.
    """
    family, kind, proto, _, sockaddr = socket.getaddrinfo(
        address.host, address.port, type=socket.SOCK_STREAM
    )[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(sockaddr)
        except OSError as e:
            raise DemoEnvironmentError(
                f"port {address.port} on {address.host} is already in use ({e.strerror}), "
                f"so {user} cannot listen there. {address.advice}, then run `make run` "
                f"again; `ss -ltnp 'sport = :{address.port}'` shows which program holds it."
            ) from None
