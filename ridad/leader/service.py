"""``SchedulerService``: the work only one process may do (driving builds,
publishing the outbox) runs while this process holds the scheduler lock; the
other processes stand by and take over."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from twisted.application.service import MultiService
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from ridad.leader.lock import SchedulerLock
from ridad.leader.poll import CyclePoller

LockFactory = Callable[..., SchedulerLock]
"""Builds the lock given ``on_acquired`` and ``on_lost`` callbacks."""


@dataclass(frozen=True)
class LeaderJob:
    """A loop the active scheduler runs: ``run(epoch)`` every interval."""

    name: str
    interval_seconds: float
    run: Callable[[int], Awaitable[object]]


class SchedulerService(MultiService):
    """The scheduler lock, and the leader's loops while it is held."""

    name = "scheduler"
    log = Logger()

    def __init__(
        self,
        *,
        jobs: Sequence[LeaderJob],
        lock_factory: LockFactory,
        clock: IReactorTime,
    ) -> None:
        super().__init__()
        self._epoch: int | None = None
        self.driver: object | None = None
        #: The Koji event listeners (their counters show what was received).
        self.listeners: list[object] = []
        self.pollers = {
            job.name: CyclePoller(
                clock=clock,
                interval_seconds=job.interval_seconds,
                run=self._bind(job),
                name=job.name,
            )
            for job in jobs
        }
        self.lock: SchedulerLock = lock_factory(
            on_acquired=self._acquired, on_lost=self._lost
        )
        self.lock.setServiceParent(self)

    @property
    def role(self) -> str:
        """``active``, ``standby`` or ``stopped``: for /health."""
        return self.lock.role

    def poke(self, name: str) -> None:
        """Run the loop ``name`` now (if this process is active)."""
        poller = self.pollers.get(name)
        if self._epoch is not None and poller is not None:
            poller.poke()

    def _bind(self, job: LeaderJob) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            epoch = self._epoch
            if epoch is not None:
                await job.run(epoch)

        return run

    def _acquired(self, epoch: int) -> None:
        self.log.info("Scheduler active (lease epoch {epoch})", epoch=epoch)
        self._epoch = epoch
        for poller in self.pollers.values():
            poller.start()

    async def _lost(self) -> None:
        if self._epoch is None:
            return
        if self.running:
            self.log.warn("Scheduler lock lost; standing by")
        else:
            self.log.info("Scheduler stopped; lock released")
        self._epoch = None
        for poller in self.pollers.values():
            await poller.stop()

    def stopService(self) -> Deferred[None]:
        """Stop the loops, then release the lock."""
        return Deferred.fromCoroutine(self._stop())

    async def _stop(self) -> None:
        self.running = 0
        for poller in self.pollers.values():
            await poller.stop()
        await MultiService.stopService(self)
