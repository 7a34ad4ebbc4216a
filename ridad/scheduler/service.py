"""``SchedulerService``: drives builds only while this process holds the
scheduler lock; the other processes stand by and take over."""

from __future__ import annotations

from collections.abc import Callable

from twisted.application.service import MultiService
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from ridad.scheduler.driver import BuildDriver
from ridad.scheduler.leader import SchedulerLock
from ridad.scheduler.poller import CyclePoller

LockFactory = Callable[..., SchedulerLock]
"""Builds the lock given ``on_acquired`` and ``on_lost`` callbacks."""


class SchedulerService(MultiService):
    """The scheduler: a lock, and a poller that runs while the lock is held."""

    name = "scheduler"
    log = Logger()

    def __init__(
        self,
        *,
        driver: BuildDriver,
        lock_factory: LockFactory,
        clock: IReactorTime,
        interval_seconds: float,
    ) -> None:
        super().__init__()
        self._driver = driver
        self._epoch: int | None = None
        self.poller = CyclePoller(
            clock=clock,
            interval_seconds=interval_seconds,
            run=self._cycle,
            name="scheduler",
        )
        self.lock: SchedulerLock = lock_factory(
            on_acquired=self._acquired, on_lost=self._lost
        )
        self.lock.setServiceParent(self)

    @property
    def role(self) -> str:
        """``active``, ``standby`` or ``stopped``: for /health."""
        return self.lock.role

    def poke(self) -> None:
        """Poll Koji now (a bus event said something changed)."""
        if self._epoch is not None:
            self.poller.poke()

    def _acquired(self, epoch: int) -> None:
        self.log.info("Scheduler active (lease epoch {epoch})", epoch=epoch)
        self._epoch = epoch
        self.poller.start()

    async def _lost(self) -> None:
        if self._epoch is None:
            return
        self.log.warn("Scheduler lock lost; standing by")
        self._epoch = None
        await self.poller.stop()

    async def _cycle(self) -> None:
        epoch = self._epoch
        if epoch is None:
            return
        await self._driver.cycle(epoch)

    def stopService(self) -> Deferred[None]:
        """Stop the poller, then release the lock."""
        return Deferred.fromCoroutine(self._stop())

    async def _stop(self) -> None:
        await self.poller.stop()
        await MultiService.stopService(self)
