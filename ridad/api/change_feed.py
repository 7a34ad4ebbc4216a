"""The change feed of one ridad process: outbox rows to its event streams.

Whichever process made a change (the leader driving builds, any replica
taking a submission or a cancel), its transaction's NOTIFY reaches every
process's :class:`~ridad.db.changes.ChangeListener`; the feed then reads
the rows after the last one it has seen, in commit order, and hands each to
every open :class:`~ridad.api.event_stream.EventStream`. One read runs at a
time; notifications during it cause one more read, not one each.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.web.iweb import IRequest

from ridad.api.event_stream import (
    EventStream,
    catch_up,
    filtered,
    start_response,
)
from ridad.config.model import ApiConfig
from ridad.db.changes import ChangeListener, ChangeStore
from ridad.db.pool import Pool
from ridad.errors import DatabaseUnavailable, Unavailable

#: Rows read per query.
READ_PAGE = 500
#: A comment is written to every stream this often.
KEEPALIVE_SECONDS = 15.0


log = Logger(namespace="ridad.api.change_feed")


class ChangeFeed(Service):
    """Reads new outbox rows when told and fans them out to the streams."""

    log = Logger()

    def __init__(
        self,
        *,
        store: ChangeStore,
        clock: IReactorTime,
        api: Callable[[], ApiConfig],
        listener: Callable[[Callable[[], None]], ChangeListener],
    ) -> None:
        self.setName("events")
        self.store = store
        self._clock = clock
        self.api = api
        self._listener = listener(self.poke)
        self._streams: set[EventStream] = set()
        self._last_id: int | None = None
        self._reading = False
        self._again = False
        self._keepalive: LoopingCall | None = None

    @property
    def stream_count(self) -> int:
        """Event streams open now."""
        return len(self._streams)

    @property
    def last_id(self) -> int | None:
        """The last outbox id handed out (None before the first read)."""
        return self._last_id

    def startService(self) -> None:
        """LISTEN, and write keepalives to the streams."""
        super().startService()
        self._listener.start()
        self._keepalive = LoopingCall(self._keep_alive)
        self._keepalive.clock = self._clock
        self._keepalive.start(KEEPALIVE_SECONDS, now=False)

    def stopService(self) -> Deferred[None]:
        """Close the streams and the LISTEN connection."""
        super().stopService()
        if self._keepalive is not None and self._keepalive.running:
            self._keepalive.stop()
        for stream in list(self._streams):
            stream.drop("ridad is stopping")
        return Deferred.fromCoroutine(self._listener.stop())

    def check_room(self) -> None:
        """Refuse one more stream when the cap is reached.

        :raises Unavailable: ``api.max_event_streams`` are open.
        """
        cap = self.api().max_event_streams
        if len(self._streams) >= cap:
            raise Unavailable(
                f"{cap} event streams are open (api.max_event_streams); retry later"
            )

    def add(self, stream: EventStream) -> None:
        """Hand ``stream`` every change read from now on."""
        self._streams.add(stream)
        stream.closed.addBoth(self._closed, stream)

    def _closed(self, reason: str, stream: EventStream) -> str:
        self._streams.discard(stream)
        return reason

    def poke(self) -> None:
        """Something may have been committed: read it (once at a time)."""
        if self._reading:
            self._again = True
            return
        self._reading = True
        d = Deferred.fromCoroutine(self._read())
        d.addErrback(lambda f: self.log.failure("Reading the change feed failed", f))

    async def _read(self) -> None:
        try:
            while True:
                self._again = False
                await self._read_all()
                if not self._again:
                    return
        except DatabaseUnavailable as e:
            self.log.warn(  # noqa: G010 (twisted.logger has no .warning)
                "Cannot read the change feed: {error}", error=e.message
            )
        finally:
            self._reading = False

    async def _read_all(self) -> None:
        if self._last_id is None:
            self._last_id = await self.store.last_id()
            return
        while True:
            page = await self.store.after(self._last_id, limit=READ_PAGE)
            for change in page:
                for stream in list(self._streams):
                    stream.deliver(change)
            if page:
                self._last_id = page[-1].id
            if len(page) < READ_PAGE:
                return

    def _keep_alive(self) -> None:
        for stream in list(self._streams):
            stream.keepalive()


def change_feed(reactor: Any, api: Callable[[], ApiConfig], pool: Pool) -> ChangeFeed:
    """The change feed of ``pool``'s database: LISTEN there, read the
    outbox after each notification."""
    return ChangeFeed(
        store=ChangeStore(pool=pool),
        clock=reactor,
        api=api,
        listener=lambda on_change: ChangeListener(
            pool=pool, clock=reactor, on_change=on_change
        ),
    )


async def serve_events(
    request: IRequest,
    feed: ChangeFeed,
    *,
    after: int | None,
    module_build_id: int | None = None,
    name: str | None = None,
) -> bytes:
    """Answer ``request`` with the event stream of one build (or of builds
    of one name, or of all), resuming ``after`` an event id when given;
    it returns when the stream ends.

    :raises Unavailable: too many streams are open.
    """
    feed.check_room()
    start_response(request)
    stream = EventStream(
        request,
        matches=filtered(module_build_id, name),
        max_queued=feed.api().event_stream_queue,
        last_sent=after or 0,
    )
    feed.add(stream)
    try:
        if after is not None:
            await catch_up(
                stream, feed.store, after, module_build_id=module_build_id, name=name
            )
    except DatabaseUnavailable as e:
        stream.drop(f"catching up failed: {e.message}")
    stream.release()
    reason = await stream.closed
    log.debug("Event stream closed: {reason}", reason=reason)
    return b""
