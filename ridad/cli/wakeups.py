"""``rida watch`` woken by the server's event streams instead of a timer.

A ridad server streams each build's changes at
``/rida/module-builds/N/events`` (Server-Sent Events). :class:`EventWakeups`
follows one stream per watched build and wakes the watch loop when anything
arrives, so a change shows at once; the loop still reads the build through
the API (the state shown is always the server's answer), and polls at a
long interval as a safety net. A server that answers anything else there
(MBS: 404) offers no streams: the loop keeps polling at ``--interval``.
A stream that breaks is opened again with ``Last-Event-ID``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import treq
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.task import deferLater

from ridad.cli.client import MbsClient
from ridad.cli.exits import ServerError
from ridad.cli.sse import SseParser

#: With streams, the loop still reads every build this often.
STREAMED_POLL_SECONDS = 60.0
#: Reconnection delay when the server gave none (``retry:``).
DEFAULT_RETRY_SECONDS = 2.0
#: Attempts in a row that may fail before a stream is given up.
MAX_FAILURES = 5


class EventWakeups:
    """Wakes :meth:`wait` when one of the builds' streams brings an event."""

    def __init__(
        self, *, client: MbsClient, clock: IReactorTime, build_ids: Sequence[int]
    ) -> None:
        self._client = client
        self._clock = clock
        self._build_ids = list(build_ids)
        self.offered: bool | None = None
        self._running = False
        self._woken = False
        self._waiter: Deferred[None] | None = None
        self._timer: IDelayedCall | None = None
        self._responses: set[Any] = set()

    @property
    def started(self) -> bool:
        """Whether :meth:`start` was called."""
        return self._running

    def start(self) -> None:
        """Open a stream per build (in the background)."""
        self._running = True
        for build_id in self._build_ids:
            Deferred.fromCoroutine(self._follow(build_id)).addErrback(lambda _: None)

    def stop(self) -> None:
        """Close every stream."""
        self._running = False
        for response in list(self._responses):
            transport = getattr(response.original, "_transport", None)
            if transport is not None:
                transport.stopProducing()
        self._responses.clear()

    def poll_seconds(self, interval_seconds: float) -> float:
        """How long the loop may wait: long with streams, else the interval."""
        return (
            max(interval_seconds, STREAMED_POLL_SECONDS)
            if self.offered
            else (interval_seconds)
        )

    async def wait(self, seconds: float) -> None:
        """Return after ``seconds``, or earlier once an event came."""
        if self._woken:
            self._woken = False
            return
        waiter: Deferred[None] = Deferred()
        self._waiter = waiter
        self._timer = self._clock.callLater(seconds, self._wake)
        await waiter

    def _wake(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        waiter, self._waiter = self._waiter, None
        if waiter is None:
            self._woken = True
        else:
            waiter.callback(None)

    async def _follow(self, build_id: int) -> None:
        parser = SseParser()
        failures = 0
        while self._running and failures < MAX_FAILURES:
            try:
                response = await self._client.event_stream(
                    f"/rida/module-builds/{build_id}/events", parser.last_event_id
                )
            except ServerError:
                failures += 1
            else:
                if not _is_stream(response):
                    await response.content()
                    if self.offered is None:
                        self.offered = False
                    return
                self.offered, failures = True, 0
                self._responses.add(response)
                seen = [False]
                try:
                    await treq.collect(
                        response, partial(self._chunk, parser, seen=seen)
                    )
                except Exception:  # noqa: BLE001 - a broken stream: open it again
                    failures += 1
                self._responses.discard(response)
            if self._running:
                retry = parser.retry_milliseconds
                seconds = retry / 1000 if retry is not None else DEFAULT_RETRY_SECONDS
                await deferLater(self._clock, seconds, lambda: None)

    def _chunk(self, parser: SseParser, chunk: bytes, *, seen: list[bool]) -> None:
        """Wake on events, and on a stream's first bytes (its subscription
        is in place: what changed before it is read by the next poll)."""
        if parser.feed(chunk) or not seen[0]:
            seen[0] = True
            self._wake()


def _is_stream(response: Any) -> bool:
    types = response.headers.getRawHeaders(b"content-type") or [b""]
    return response.code == 200 and types[0].startswith(b"text/event-stream")
