"""Server-Sent Events: one client's stream of changes, and the route logic
that opens it (``GET /rida/module-builds/N/events``, ``GET /rida/events``).

Each event is one outbox row: ``id:`` its id, ``event:`` its bus topic,
``data:`` the bus message's body. A client that reconnects with
``Last-Event-ID`` (or ``?last_event_id=``) first gets every row after that
id from the database, then the live ones; outbox ids are in commit order
(migration 010), so nothing falls between the two.

A stream is a streaming producer of its request: when the client reads too
slowly, Twisted pauses it and events wait in a queue of at most
``max_queued``; past that the client is dropped (it can resume with its
last id). The number of open streams is capped by the feed.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IPushProducer
from twisted.logger import Logger
from twisted.web.iweb import IRequest
from zope.interface import implementer

from ridad.db.changes import Change, ChangeStore
from ridad.errors import InvalidRequest

#: Rows read per query while catching up.
CATCH_UP_PAGE = 500
#: How long a client waits before reconnecting (the ``retry:`` field).
RETRY_MILLISECONDS = 2000

log = Logger(namespace="ridad.api.event_stream")


def event_frame(change: Change) -> bytes:
    """The SSE frame of ``change``: id, event and one line of JSON data."""
    data = json.dumps(change.body, separators=(",", ":"), sort_keys=True)
    return f"id: {change.id}\nevent: {change.topic}\ndata: {data}\n\n".encode()


def last_event_id(request: IRequest, args: dict[str, list[str]]) -> int | None:
    """The id to resume after: the ``Last-Event-ID`` header, else the
    ``last_event_id`` query parameter; None for a new stream.

    :raises InvalidRequest: not a non-negative integer.
    """
    header = request.getHeader(b"last-event-id")
    values = args.get("last_event_id", [])
    given = header if header is not None else (values[0] if values else None)
    if given is None or given.strip() == "":
        return None
    try:
        value = int(given.strip())
    except ValueError:
        value = -1
    if value < 0 or value >= 2**63 or len(values) > 1:
        raise InvalidRequest(
            "Last-Event-ID (or last_event_id) must be an event id given once",
            details={"parameters": {"last_event_id": "not an event id"}},
        )
    return value


@implementer(IPushProducer)
class EventStream:
    """The events of one client, filtered by ``matches``.

    Until :meth:`release` it holds live events back (while the route sends
    the catch-up); afterwards it writes each event not sent yet, or queues
    it while the client is paused.
    """

    def __init__(
        self,
        request: IRequest,
        *,
        matches: Callable[[Change], bool],
        max_queued: int,
        last_sent: int = 0,
    ) -> None:
        self._request = request
        self._matches = matches
        self._max_queued = max_queued
        self.last_sent = last_sent
        self._queue: deque[Change] = deque()
        self._holding = True
        self._paused = False
        self.closed: Deferred[str] = Deferred()
        request.notifyFinish().addBoth(lambda _: self._close("client went away"))
        request.registerProducer(self, True)

    @property
    def open(self) -> bool:
        """Whether the stream still writes."""
        return not self.closed.called

    def deliver(self, change: Change) -> None:
        """Send ``change`` if it is this stream's and newer than the last sent."""
        if not self.open or not self._matches(change):
            return
        if self._holding or self._paused or self._queue:
            self._queue.append(change)
            if len(self._queue) > self._max_queued:
                self.drop(f"more than {self._max_queued} events waited for it")
            return
        self._send(change)

    def send_caught_up(self, change: Change) -> None:
        """Write one row read while catching up (always in order)."""
        self._send(change)

    def send_gap(self, after: int, oldest: int) -> None:
        """Tell the client that events after ``after`` and before ``oldest``
        are no longer kept (no ``id:``, so its last event id stays)."""
        data = json.dumps({"after": after, "oldest": oldest}, separators=(",", ":"))
        self._request.write(f"event: gap\ndata: {data}\n\n".encode())

    def release(self) -> None:
        """End the catch-up: send what was held, then go live."""
        self._holding = False
        self._flush()

    def keepalive(self) -> None:
        """Write a comment so proxies and the client see a live stream."""
        if self.open and not self._paused:
            self._request.write(b": keepalive\n\n")

    def drop(self, reason: str) -> None:
        """Close the stream from our side (the client may resume)."""
        if not self.open:
            return
        log.info("Dropping an event stream: {reason}", reason=reason)
        self._close(reason)
        transport = self._request.transport  # type: ignore[attr-defined]
        if transport is not None:
            transport.loseConnection()

    def pauseProducing(self) -> None:
        """The client's buffer is full: queue events from now on."""
        self._paused = True

    def resumeProducing(self) -> None:
        """The client reads again: send what waited."""
        self._paused = False
        self._flush()

    def stopProducing(self) -> None:
        """The connection is going away."""
        self._close("connection stopped")

    def _flush(self) -> None:
        while self._queue and not self._paused and not self._holding and self.open:
            self._send(self._queue.popleft())

    def _send(self, change: Change) -> None:
        if change.id <= self.last_sent or not self.open:
            return
        self.last_sent = change.id
        self._request.write(event_frame(change))

    def _close(self, reason: str) -> None:
        self._queue.clear()
        if not self.closed.called:
            # Before the route finishes the request, which must have no
            # producer left.
            self._request.unregisterProducer()
            self.closed.callback(reason)


async def catch_up(
    stream: EventStream,
    store: ChangeStore,
    after: int,
    *,
    module_build_id: int | None = None,
    name: str | None = None,
) -> None:
    """Send ``stream`` every stored change after ``after`` (of the build or
    name), page by page, while live events are held back.

    When rows after ``after`` were pruned already (the oldest kept is
    newer than ``after + 1``), a ``gap`` event says so first: the client
    should read the state again rather than trust the replay alone.
    """
    oldest = await store.oldest_id()
    if oldest is not None and oldest > after + 1:
        stream.send_gap(after, oldest)
    while stream.open:
        page = await store.after(
            max(after, stream.last_sent),
            limit=CATCH_UP_PAGE,
            module_build_id=module_build_id,
            name=name,
        )
        for change in page:
            stream.send_caught_up(change)
        if len(page) < CATCH_UP_PAGE:
            return


def start_response(request: IRequest) -> None:
    """The head of an event stream and its first bytes (``retry`` and a
    ``connected`` comment: the subscription is in place from here on)."""
    request.setHeader(b"Content-Type", b"text/event-stream; charset=utf-8")
    request.setHeader(b"Cache-Control", b"no-store")
    request.setHeader(b"X-Accel-Buffering", b"no")
    request.write(f"retry: {RETRY_MILLISECONDS}\n: connected\n\n".encode("ascii"))


def filtered(module_build_id: int | None, name: str | None) -> Callable[[Change], bool]:
    """The filter of a stream of one build, or of builds of one name."""

    def matches(change: Change) -> bool:
        if module_build_id is not None and change.module_build_id != module_build_id:
            return False
        return name is None or change.name == name

    return matches
