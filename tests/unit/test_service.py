"""Tests for ``ridad.service.fatal_stopper``: a fatal error stops the reactor,
even one not running yet, and makes the process exit with status 1."""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet.error import ReactorNotRunning

from ridad.service import FATAL_EXIT_STATUS, exit_now, fatal_stopper


class FakeReactor:
    """Runs ``callWhenRunning`` calls at ``run()``; counts ``stop()`` calls."""

    def __init__(self, *, running: bool = False, stopping: bool = False) -> None:
        self.running = running
        self.stopping = stopping
        self.pending: list[Callable[[], None]] = []
        self.stops = 0

    def callWhenRunning(self, f: Callable[[], None]) -> None:
        """Call ``f`` now when running, else at ``run()``."""
        if self.running:
            f()
        else:
            self.pending.append(f)

    def run(self) -> None:
        """Start: run what waited for it."""
        self.running = True
        for f in self.pending:
            f()

    def stop(self) -> None:
        """Stop, or raise like Twisted when already stopping."""
        if self.stopping or not self.running:
            raise ReactorNotRunning()
        self.stopping = True
        self.stops += 1


def test_a_fatal_error_before_the_reactor_runs_stops_it_once_it_runs() -> None:
    """Called before twistd runs the reactor: the stop waits for it."""
    reactor = FakeReactor()
    exits: list[tuple[object, ...]] = []
    on_fatal = fatal_stopper(reactor, at_exit=lambda *a: exits.append(a))
    on_fatal()
    assert reactor.stops == 0
    reactor.run()
    assert reactor.stops == 1
    assert exits == [(exit_now, FATAL_EXIT_STATUS)]
    assert FATAL_EXIT_STATUS == 1


def test_a_fatal_error_while_running_stops_at_once_and_only_once() -> None:
    """A second fatal error (the port too) neither stops nor registers again."""
    reactor = FakeReactor(running=True)
    exits: list[tuple[object, ...]] = []
    on_fatal = fatal_stopper(reactor, at_exit=lambda *a: exits.append(a))
    on_fatal()
    on_fatal()
    assert reactor.stops == 1
    assert len(exits) == 1


def test_a_fatal_error_during_shutdown_still_exits_non_zero() -> None:
    """The reactor already stopping: no ReactorNotRunning escapes."""
    reactor = FakeReactor(running=True, stopping=True)
    exits: list[tuple[object, ...]] = []
    fatal_stopper(reactor, at_exit=lambda *a: exits.append(a))()
    assert exits == [(exit_now, FATAL_EXIT_STATUS)]
