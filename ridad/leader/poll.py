"""The poll loop of a leader job: one async cycle at a time on a clock.

The design of Buildbot's ``master/buildbot/util/poll.py``: cycles never
overlap, a poke forces an early cycle, and ``stop()`` waits for the cycle in
flight. The interval is anchored to the start of each cycle, so cycles do
not drift by their own duration: a cycle that took 0.3 s of a 1 s interval
is followed by a wait of 0.7 s, and a cycle longer than the interval is
followed at once by the next one (never by a burst of catch-up cycles).
After a failed cycle the loop backs off instead: it waits
:func:`backoff_interval` from the end of that cycle, so a dependency that
fails slowly still gets the rest.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import deferLater
from twisted.logger import Logger

from ridad.errors import KojiUnavailable, NotLeader, Unavailable
from ridad.metrics.instruments import Metrics

__all__ = ["MAX_BACKOFF_FACTOR", "CyclePoller", "backoff_interval"]

MAX_BACKOFF_FACTOR = 8


def backoff_interval(interval_seconds: float, failures: int) -> float:
    """The wait after ``failures`` failed cycles in a row.

    :returns: ``interval_seconds`` doubled per failure, at most
        ``MAX_BACKOFF_FACTOR`` times it.
    """
    return interval_seconds * min(2**failures, MAX_BACKOFF_FACTOR)


class CyclePoller:
    """Runs ``run()`` every ``interval_seconds``, or sooner when poked."""

    log = Logger()

    def __init__(
        self,
        *,
        clock: IReactorTime,
        interval_seconds: float,
        run: Callable[[], Awaitable[None]],
        name: str,
        metrics: Metrics | None = None,
    ) -> None:
        self._clock = clock
        metrics = metrics or Metrics()
        self._seconds = metrics.cycle_seconds.labels(name)
        self._failed = metrics.cycle_failures.labels(name)
        self._interval = interval_seconds
        self._run = run
        self._name = name
        self._running = False
        self._poked = False
        self._waiting: Deferred[None] | None = None
        self._loop: Deferred[None] | None = None
        #: Failed cycles in a row (0 after a cycle that succeeded).
        self.failures = 0
        #: Cycles started since this poller was made.
        self.cycles = 0

    @property
    def running(self) -> bool:
        """Whether the loop runs (between ``start()`` and ``stop()``)."""
        return self._running

    def start(self) -> None:
        """Start looping; the first cycle runs at once."""
        if self._running:
            return
        self._running = True
        self._poked = False
        self._loop = Deferred.fromCoroutine(self._forever())

    def poke(self) -> None:
        """Run a cycle now, or as soon as the one in flight ends."""
        if self._waiting is not None and not self._waiting.called:
            self._waiting.cancel()
        elif self._running:
            self._poked = True

    async def stop(self) -> None:
        """Stop looping; return once the cycle in flight (if any) has ended."""
        self._running = False
        self._poked = False
        if self._waiting is not None and not self._waiting.called:
            self._waiting.cancel()
        if self._loop is not None:
            loop, self._loop = self._loop, None
            await loop

    async def _forever(self) -> None:
        while self._running:
            started = self._clock.seconds()
            succeeded = await self._once()
            if not self._running:
                break
            if self._poked:
                self._poked = False
                continue
            await self._wait(self._delay(started, succeeded))

    def _delay(self, started: float, succeeded: bool) -> float:
        """Seconds until the next cycle: anchored on ``started`` after a
        success, the backoff from now after a failure."""
        if not succeeded:
            return backoff_interval(self._interval, self.failures)
        return max(0.0, started + self._interval - self._clock.seconds())

    async def _wait(self, seconds: float) -> None:
        if seconds <= 0:
            return
        self._waiting = deferLater(self._clock, seconds, lambda: None)
        try:
            await self._waiting
        except CancelledError:
            pass
        finally:
            self._waiting = None

    async def _once(self) -> bool:
        """Run one cycle, timed; log its failure instead of raising it.

        :returns: whether the cycle succeeded.
        """
        self.cycles += 1
        started = self._clock.seconds()
        succeeded = await self._guarded()
        self._seconds.observe(self._clock.seconds() - started)
        if not succeeded:
            self._failed.inc()
        return succeeded

    async def _guarded(self) -> bool:
        try:
            await self._run()
        except (KojiUnavailable, Unavailable, NotLeader) as e:
            self.failures += 1
            self.log.warn(
                "{name} cycle stopped ({attempt} in a row): {reason}",
                name=self._name,
                attempt=self.failures,
                reason=e.message,
            )
        except Exception:
            self.failures += 1
            self.log.failure(
                "{name} cycle failed ({attempt} in a row)",
                name=self._name,
                attempt=self.failures,
            )
        else:
            self.failures = 0
            return True
        return False
