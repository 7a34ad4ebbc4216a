"""Tests for L{ridad.leader.poll.CyclePoller} on a task.Clock."""

from __future__ import annotations

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock

from ridad.errors import KojiUnavailable
from ridad.leader.poll import CyclePoller, backoff_interval
from tests.helpers import result_of


class Cycles:
    """A cycle function whose runs take ``seconds`` of the clock, or wait on a
    Deferred the test fires, or raise what the test queued."""

    def __init__(self, clock: Clock, seconds: float = 0.0) -> None:
        self.clock = clock
        self.seconds = seconds
        self.started: list[float] = []
        self.hold: Deferred[None] | None = None
        self.errors: list[BaseException] = []

    async def run(self) -> None:
        """One cycle: record its start, then take the configured time."""
        self.started.append(self.clock.seconds())
        if self.errors:
            raise self.errors.pop(0)
        if self.hold is not None:
            await self.hold
        elif self.seconds:
            self.clock.advance(self.seconds)


def make_poller(cycles: Cycles, interval_seconds: float = 1.0) -> CyclePoller:
    """A poller of ``cycles`` on its clock."""
    return CyclePoller(
        clock=cycles.clock,
        interval_seconds=interval_seconds,
        run=cycles.run,
        name="test",
    )


def test_interval_is_anchored_to_the_start_of_each_cycle() -> None:
    """A cycle that took 0.3 s of a 1 s interval is followed by a wait of 0.7 s."""
    clock = Clock()
    cycles = Cycles(clock, seconds=0.3)
    poller = make_poller(cycles)
    poller.start()
    assert cycles.started == [0.0]
    [waiting] = clock.getDelayedCalls()
    assert waiting.getTime() == 1.0
    clock.advance(0.7)
    clock.advance(0.7)
    assert cycles.started == [0.0, 1.0, 2.0]
    result_of(Deferred.fromCoroutine(poller.stop()))
    assert clock.getDelayedCalls() == []


def test_cycle_longer_than_the_interval_is_followed_at_once_without_catch_up() -> None:
    """After a 2.5 s cycle of a 1 s interval, the next starts at once, then one interval later."""
    clock = Clock()
    cycles = Cycles(clock, seconds=2.5)
    poller = make_poller(cycles)
    cycles.hold = Deferred()
    poller.start()
    clock.advance(2.5)
    hold, cycles.hold = cycles.hold, None
    cycles.seconds = 0.0
    hold.callback(None)
    assert cycles.started == [0.0, 2.5]
    assert [c.getTime() for c in clock.getDelayedCalls()] == [3.5]
    clock.advance(1.0)
    assert cycles.started == [0.0, 2.5, 3.5]
    result_of(Deferred.fromCoroutine(poller.stop()))


def test_poke_during_a_cycle_runs_another_right_after_it() -> None:
    """A poke while a cycle runs makes the next cycle start as soon as it ends."""
    clock = Clock()
    cycles = Cycles(clock)
    cycles.hold = Deferred()
    poller = make_poller(cycles)
    poller.start()
    poller.poke()
    poller.poke()
    clock.advance(0.2)
    hold, cycles.hold = cycles.hold, None
    hold.callback(None)
    assert cycles.started == [0.0, 0.2]
    assert [c.getTime() for c in clock.getDelayedCalls()] == [1.2]
    result_of(Deferred.fromCoroutine(poller.stop()))


def test_poke_while_waiting_runs_a_cycle_now() -> None:
    """A poke between cycles ends the wait and runs a cycle at once."""
    clock = Clock()
    cycles = Cycles(clock)
    poller = make_poller(cycles, interval_seconds=10.0)
    poller.start()
    clock.advance(3.0)
    poller.poke()
    assert cycles.started == [0.0, 3.0]
    assert [c.getTime() for c in clock.getDelayedCalls()] == [13.0]
    result_of(Deferred.fromCoroutine(poller.stop()))


def test_stop_waits_for_the_cycle_in_flight() -> None:
    """``stop()`` returns only once the running cycle ended, and no cycle follows."""
    clock = Clock()
    cycles = Cycles(clock)
    cycles.hold = Deferred()
    poller = make_poller(cycles)
    poller.start()
    poller.poke()
    stopped = Deferred.fromCoroutine(poller.stop())
    assert not stopped.called
    cycles.hold.callback(None)
    assert result_of(stopped) is None
    clock.advance(10.0)
    assert cycles.started == [0.0]
    assert clock.getDelayedCalls() == []
    assert not poller.running


def test_failures_back_off_and_a_success_resets_the_interval() -> None:
    """Failed cycles wait 2, 4, 8, 8 intervals from their end; after a success, one."""
    clock = Clock()
    cycles = Cycles(clock, seconds=0.5)
    cycles.errors = [KojiUnavailable("down") for _ in range(4)]
    poller = make_poller(cycles)
    poller.start()
    for expected in (2.0, 4.0, 8.0, 8.0):
        assert poller.failures >= 1
        [waiting] = clock.getDelayedCalls()
        assert waiting.getTime() - clock.seconds() == expected
        clock.advance(expected)
    assert cycles.started == [0.0, 2.0, 6.0, 14.0, 22.0]
    assert poller.failures == 0
    [waiting] = clock.getDelayedCalls()
    assert waiting.getTime() == 23.0
    assert backoff_interval(1.0, 10) == 8.0
    result_of(Deferred.fromCoroutine(poller.stop()))


def test_unexpected_exception_does_not_stop_the_loop() -> None:
    """A cycle raising an unexpected exception is logged and the loop goes on."""
    clock = Clock()
    cycles = Cycles(clock)
    cycles.errors = [ZeroDivisionError("boom")]
    poller = make_poller(cycles)
    poller.start()
    assert poller.failures == 1 and poller.running
    clock.advance(2.0)
    clock.advance(1.0)
    assert cycles.started == [0.0, 2.0, 3.0]
    assert poller.cycles == 3 and poller.failures == 0
    result_of(Deferred.fromCoroutine(poller.stop()))
    assert clock.getDelayedCalls() == []
