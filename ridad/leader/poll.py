"""A loop that runs one async cycle at a time on a clock, can be told to run
now, backs off after failures, and stops cleanly (Buildbot's util/poll.py
design: no overlap, a forced early run, a stop that waits for the run in
flight)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import deferLater
from twisted.logger import Logger

from ridad.errors import KojiUnavailable, NotLeader, Unavailable

MAX_BACKOFF_FACTOR = 8


def backoff_interval(interval_seconds: float, failures: int) -> float:
    """The wait after ``failures`` failed cycles in a row (doubling, capped)."""
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
    ) -> None:
        self._clock = clock
        self._interval = interval_seconds
        self._run = run
        self._name = name
        self._running = False
        self._poked = False
        self._waiting: Deferred[None] | None = None
        self._loop: Deferred[None] | None = None
        self.failures = 0
        self.cycles = 0

    def start(self) -> None:
        """Start looping (the first cycle runs at once)."""
        if self._running:
            return
        self._running = True
        self._loop = Deferred.fromCoroutine(self._forever())

    def poke(self) -> None:
        """Run a cycle as soon as the one in flight (if any) ends."""
        if self._waiting is not None and not self._waiting.called:
            self._waiting.cancel()
        else:
            self._poked = True

    async def stop(self) -> None:
        """Stop looping; wait for the cycle in flight."""
        self._running = False
        if self._waiting is not None and not self._waiting.called:
            self._waiting.cancel()
        if self._loop is not None:
            await self._loop
            self._loop = None

    async def _forever(self) -> None:
        while self._running:
            await self._once()
            if not self._running:
                break
            if self._poked:
                self._poked = False
                continue
            self._waiting = deferLater(
                self._clock,
                backoff_interval(self._interval, self.failures),
                lambda: None,
            )
            try:
                await self._waiting
            except CancelledError:
                pass
            finally:
                self._waiting = None

    async def _once(self) -> None:
        self.cycles += 1
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
