"""``LeaderService``: the work only one process may do (driving builds,
publishing the outbox) runs while this process holds the scheduler lock; the
other processes stand by and take over.

Each piece of that work is a :class:`LeaderJob`: a ``run(epoch)`` with its
own :class:`~ridad.leader.poll.CyclePoller`, which anyone holding the job may
``poke()`` to run a cycle now.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from twisted.application.service import MultiService
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from ridad.leader.lock import Role, SchedulerLock
from ridad.leader.poll import CyclePoller
from ridad.metrics.instruments import Metrics

__all__ = ["LeaderJob", "LeaderService", "LockFactory"]

LockFactory = Callable[..., SchedulerLock]
"""Builds the lock given ``on_acquired`` and ``on_lost`` callbacks."""


class LeaderJob:
    """A loop the active scheduler runs: ``run(epoch)`` every interval, or
    sooner when poked, only while this process holds the lock.

    ``on_stop``, if given, runs each time the loop has stopped (the lock was
    lost, or the process stops): to let go of what the job held open.
    """

    def __init__(
        self,
        *,
        name: str,
        interval_seconds: float,
        run: Callable[[int], Awaitable[object]],
        clock: IReactorTime,
        on_stop: Callable[[], Awaitable[object]] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.name = name
        self._run = run
        self._on_stop = on_stop
        self._epoch: int | None = None
        self.poller = CyclePoller(
            clock=clock,
            interval_seconds=interval_seconds,
            run=self._cycle,
            name=name,
            metrics=metrics,
        )

    @property
    def epoch(self) -> int | None:
        """The lease epoch the job runs under, None while it does not run."""
        return self._epoch

    def poke(self) -> None:
        """Run a cycle now (nothing happens while this process stands by)."""
        if self._epoch is not None:
            self.poller.poke()

    def start(self, epoch: int) -> None:
        """Start the loop under lease ``epoch``."""
        self._epoch = epoch
        self.poller.start()

    async def stop(self) -> None:
        """Stop the loop; return once the cycle in flight has ended and
        ``on_stop`` has run."""
        self._epoch = None
        await self.poller.stop()
        if self._on_stop is not None:
            await self._on_stop()

    async def _cycle(self) -> None:
        epoch = self._epoch
        if epoch is not None:
            await self._run(epoch)


class LeaderService(MultiService):
    """The scheduler lock, and the leader's jobs while it is held."""

    name = "leader"
    log = Logger()

    def __init__(
        self,
        *,
        jobs: Sequence[LeaderJob],
        lock_factory: LockFactory,
        metrics: Metrics | None = None,
    ) -> None:
        super().__init__()
        self._metrics = metrics or Metrics()
        self._active = False
        self.jobs: tuple[LeaderJob, ...] = tuple(jobs)
        self.lock: SchedulerLock = lock_factory(
            on_acquired=self._acquired, on_lost=self._lost
        )
        self.lock.setServiceParent(self)

    @property
    def role(self) -> Role:
        """``active``, ``standby`` or ``stopped``: for /health."""
        return self.lock.role

    def _acquired(self, epoch: int) -> None:
        self.log.info("Scheduler active (lease epoch {epoch})", epoch=epoch)
        self._active = True
        self._metrics.set_leader(epoch)
        for job in self.jobs:
            job.start(epoch)

    async def _lost(self) -> None:
        if not self._active:
            return
        if self.running:
            self.log.warn("Scheduler lock lost; standing by")
        else:
            self.log.info("Scheduler stopped; lock released")
        self._active = False
        self._metrics.set_leader(None)
        await self._stop_jobs()

    async def _stop_jobs(self) -> None:
        # Every job stops being active at once; then wait for each cycle.
        stopping = [Deferred.fromCoroutine(job.stop()) for job in self.jobs]
        for stopped in stopping:
            await stopped

    def stopService(self) -> Deferred[None]:
        """Stop the jobs, then release the lock."""
        return Deferred.fromCoroutine(self._stop())

    async def _stop(self) -> None:
        self.running = 0
        await self._stop_jobs()
        await MultiService.stopService(self)
