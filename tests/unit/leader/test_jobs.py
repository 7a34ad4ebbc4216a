"""Tests for L{ridad.leader.service.LeaderJob} on a task.Clock."""

from __future__ import annotations

from twisted.internet.defer import Deferred
from twisted.internet.task import Clock

from ridad.leader.service import LeaderJob
from tests.helpers import result_of


def make_job(clock: Clock, epochs: list[int]) -> LeaderJob:
    """A job that records the epoch of each cycle, every 5 s."""

    async def run(epoch: int) -> None:
        epochs.append(epoch)

    return LeaderJob(name="test", interval_seconds=5.0, run=run, clock=clock)


def test_poke_before_start_runs_nothing() -> None:
    """A job that is not running ignores pokes: a standby process does no work."""
    clock, epochs = Clock(), []
    job = make_job(clock, epochs)
    job.poke()
    clock.advance(10.0)
    assert epochs == [] and job.epoch is None
    assert clock.getDelayedCalls() == []


def test_started_job_runs_under_its_epoch_and_runs_again_when_poked() -> None:
    """Started with epoch 3, the job runs at once, on its interval and when poked."""
    clock, epochs = Clock(), []
    job = make_job(clock, epochs)
    job.start(3)
    assert epochs == [3] and job.epoch == 3
    clock.advance(1.0)
    job.poke()
    assert epochs == [3, 3]
    clock.advance(5.0)
    assert epochs == [3, 3, 3]
    result_of(Deferred.fromCoroutine(job.stop()))
    assert job.epoch is None and clock.getDelayedCalls() == []


def test_stopped_job_ignores_pokes_and_restarts_under_a_new_epoch() -> None:
    """After stop(), pokes do nothing; a new start() runs under the new epoch."""
    clock, epochs = Clock(), []
    job = make_job(clock, epochs)
    job.start(1)
    result_of(Deferred.fromCoroutine(job.stop()))
    job.poke()
    clock.advance(10.0)
    assert epochs == [1]
    job.start(2)
    assert epochs == [1, 2]
    result_of(Deferred.fromCoroutine(job.stop()))


def test_on_stop_runs_after_the_cycle_in_flight_ends() -> None:
    """on_stop (the driver's Koji logout) runs once the loop has stopped, and
    again at each stop."""
    clock, events = Clock(), []
    pending: Deferred[None] = Deferred()

    async def run(epoch: int) -> None:
        events.append("cycle")
        await pending

    async def on_stop() -> None:
        events.append("stopped")

    job = LeaderJob(
        name="test", interval_seconds=5.0, run=run, clock=clock, on_stop=on_stop
    )
    job.start(1)
    stopping = Deferred.fromCoroutine(job.stop())
    assert events == ["cycle"]
    pending.callback(None)
    result_of(stopping)
    assert events == ["cycle", "stopped"]
    result_of(Deferred.fromCoroutine(job.stop()))
    assert events == ["cycle", "stopped", "stopped"]
