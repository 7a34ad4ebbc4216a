"""Tests for L{ridad.leader.service.LeaderService} with a real scheduler lock
on real PostgreSQL; the jobs' poll loops run on a task.Clock."""

from __future__ import annotations

from typing import Any

import pytest_twisted
from twisted.internet.task import Clock

from ridad.db.pool import Pool
from ridad.leader.lock import SchedulerLock
from ridad.leader.service import LeaderJob, LeaderService
from tests.helpers import wait_for


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


@pytest_twisted.ensureDeferred
async def test_jobs_run_under_the_lease_epoch_only_while_the_lock_is_held(
    pool: Pool,
) -> None:
    """Once active, each job runs under the epoch and on pokes; stopped, none runs."""
    clock = Clock()
    runs: list[tuple[str, int]] = []

    def job(name: str) -> LeaderJob:
        async def run(epoch: int) -> None:
            runs.append((name, epoch))

        return LeaderJob(name=name, interval_seconds=60.0, run=run, clock=clock)

    builds, outbox = job("builds"), job("outbox")
    service = LeaderService(
        jobs=[builds, outbox],
        lock_factory=lambda **callbacks: SchedulerLock(
            pool=pool,
            clock=_reactor(),
            holder="host-a:1",
            retry_seconds=0.1,
            **callbacks,
        ),
    )
    assert service.role == "stopped"
    builds.poke()
    assert runs == []
    service.startService()
    try:
        await wait_for(lambda: service.role == "active", 5, _reactor())
        assert sorted(runs) == [("builds", 1), ("outbox", 1)]
        builds.poke()
        assert runs[-1] == ("builds", 1) and len(runs) == 3
    finally:
        await service.stopService()
    assert service.role == "stopped"
    builds.poke()
    outbox.poke()
    clock.advance(120.0)
    assert len(runs) == 3
    assert clock.getDelayedCalls() == []
