"""The outbox as a change feed against real PostgreSQL: ids in commit order,
a NOTIFY per committing transaction, and the feed handing each change to
the event streams it belongs to (catch-up, filters, slow readers)."""

from __future__ import annotations

import json
from typing import Any

import psycopg2
import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock, deferLater

from ridad.api.change_feed import ChangeFeed, change_feed
from ridad.api.event_stream import EventStream, catch_up, filtered
from ridad.config.model import ApiConfig
from ridad.db.changes import ChangeListener, ChangeStore
from ridad.db.pool import Pool
from ridad.domain.states import ModuleState
from ridad.errors import Unavailable
from ridad.transitions import Transitions
from tests.db.test_transitions import new_build


class FakeTransport:
    """Just enough of a TCP transport: closing."""

    closed = False

    def loseConnection(self) -> None:
        self.closed = True


class StreamRequest:
    """Just enough of an ``IRequest`` for an event stream."""

    def __init__(self, headers: dict[bytes, str] | None = None) -> None:
        self.written: list[bytes] = []
        self.headers: dict[bytes, bytes] = {}
        self._in = headers or {}
        self.producer: Any = None
        self.transport = FakeTransport()
        self._finished: Deferred[None] = Deferred()

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def setHeader(self, name: bytes, value: bytes) -> None:
        self.headers[name] = value

    def getHeader(self, name: bytes) -> str | None:
        return self._in.get(name.lower())

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        self.producer = producer

    def unregisterProducer(self) -> None:
        self.producer = None

    def notifyFinish(self) -> Deferred[None]:
        return self._finished

    def events(self) -> list[tuple[int, str, dict[str, Any]]]:
        """The (id, event, data) of every event frame written."""
        found = []
        for frame in b"".join(self.written).decode().split("\n\n"):
            fields = dict(
                line.split(": ", 1) for line in frame.split("\n") if ": " in line
            )
            if "id" in fields:
                found.append(
                    (int(fields["id"]), fields["event"], json.loads(fields["data"]))
                )
        return found


@pytest.fixture
def transitions(pool: Pool) -> Transitions:
    """Transitions on the test database (a fake clock for their times)."""
    return Transitions(pool=pool, clock=Clock())


async def submitted(transitions: Transitions, name: str) -> int:
    """A new build of ``name`` moved on to wait: two outbox rows."""
    module_build_id, _ = await transitions.create_module_build(new_build(name))
    await transitions.change_module_state(module_build_id, ModuleState.WAIT, None)
    return module_build_id


@pytest_twisted.ensureDeferred
async def test_outbox_ids_follow_commit_order(
    database_dsn: str, transitions: Transitions
) -> None:
    """A second transaction cannot draw outbox ids while the first, which
    already wrote a row, is open: ids are in commit order."""
    build_id = await submitted(transitions, "one")
    first = psycopg2.connect(database_dsn)
    second = psycopg2.connect(database_dsn)
    try:
        insert = (
            "INSERT INTO outbox (msg_id, topic, body, module_build_id, created)"
            " VALUES (gen_random_uuid(), 'module.state.change', '{}', %s, now())"
        )
        with first.cursor() as c:
            c.execute(insert, (build_id,))
        with second.cursor() as c:
            c.execute("SET lock_timeout = '200ms'")
            with pytest.raises(psycopg2.errors.LockNotAvailable):
                c.execute(insert, (build_id,))
        second.rollback()
        first.commit()
        with second.cursor() as c:
            c.execute(insert, (build_id,))
        second.commit()
    finally:
        first.close()
        second.close()


@pytest_twisted.ensureDeferred
async def test_listener_hears_commits_not_rollbacks(
    pool: Pool, transitions: Transitions
) -> None:
    """The listener calls back once LISTENing, then once per committed
    change; a transaction that rolls back notifies nobody."""
    heard: list[int] = []
    listener = ChangeListener(
        pool=pool, clock=reactor, on_change=lambda: heard.append(1), check_seconds=60
    )
    listener.start()
    try:
        await until(lambda: len(heard) == 1)
        await submitted(transitions, "one")
        await until(lambda: len(heard) == 3)

        async def written_then_failed(cursor: Any) -> None:
            await cursor.execute(
                "INSERT INTO outbox (msg_id, topic, body, module_build_id, created)"
                " SELECT gen_random_uuid(), 'module.state.change', '{}', id, now()"
                " FROM module_builds"
            )
            raise RuntimeError("roll back")

        with pytest.raises(RuntimeError):
            await pool.run_interaction(written_then_failed)
        await submitted(transitions, "two")
        await until(lambda: len(heard) == 5)
        assert listener.listening
    finally:
        await listener.stop()


@pytest_twisted.ensureDeferred
async def test_feed_hands_each_stream_its_changes(
    pool: Pool, transitions: Transitions
) -> None:
    """Streams of one build, of one name and of all builds each get their
    events, in order, once, with the bus bodies."""
    feed = change_feed(reactor, ApiConfig, pool)
    feed.startService()
    try:
        await until(lambda: feed.last_id is not None)
        one = await submitted(transitions, "one")
        newest = await feed.store.last_id()
        await until(lambda: feed.last_id == newest)
        requests = [StreamRequest() for _ in range(3)]
        streams = [
            EventStream(requests[0], matches=filtered(one, None), max_queued=10),
            EventStream(requests[1], matches=filtered(None, "two"), max_queued=10),
            EventStream(requests[2], matches=filtered(None, None), max_queued=10),
        ]
        for stream in streams:
            feed.add(stream)
            stream.release()
        two = await submitted(transitions, "two")
        await transitions.change_module_state(one, ModuleState.FAILED, "stop")
        await until(lambda: len(requests[2].events()) == 3)
        by_build = requests[0].events()
        assert [(e, d["state"]) for _, e, d in by_build] == [
            ("module.state.change", "failed")
        ]
        assert [d["id"] for _, _, d in requests[1].events()] == [two, two]
        ids = [i for i, _, _ in requests[2].events()]
        assert ids == sorted(ids) and len(set(ids)) == 3
        assert feed.stream_count == 3
    finally:
        await feed.stopService()
    assert all(r.transport.closed for r in requests)


@pytest_twisted.ensureDeferred
async def test_catch_up_then_live_without_gap_or_repeat(
    pool: Pool, transitions: Transitions
) -> None:
    """A stream resuming after an id gets the stored rows after it, then
    the live ones; a row both read and delivered live is sent once."""
    store = ChangeStore(pool=pool)
    one = await submitted(transitions, "one")
    rows = await store.after(0, limit=10)
    request = StreamRequest()
    stream = EventStream(
        request, matches=filtered(one, None), max_queued=10, last_sent=rows[0].id
    )
    for row in rows:  # the live feed had already read these
        stream.deliver(row)
    await catch_up(stream, store, rows[0].id, module_build_id=one)
    stream.release()
    assert [i for i, _, _ in request.events()] == [rows[1].id]


def test_slow_reader_is_dropped(pool: Pool) -> None:
    """Events wait while the client is paused, are sent when it reads
    again, and past ``max_queued`` the stream is closed."""
    from ridad.db.changes import Change

    request = StreamRequest()
    stream = EventStream(request, matches=filtered(None, None), max_queued=2)
    stream.release()
    changes = [Change(i, "t", {"n": i}, 1, "x") for i in range(1, 6)]
    stream.pauseProducing()
    stream.deliver(changes[0])
    stream.deliver(changes[1])
    assert request.events() == []
    stream.resumeProducing()
    assert [i for i, _, _ in request.events()] == [1, 2]
    stream.pauseProducing()
    for change in changes[2:]:
        stream.deliver(change)
    assert not stream.open and request.transport.closed
    assert request.producer is None


def test_stream_cap(pool: Pool) -> None:
    """Past ``api.max_event_streams`` the feed refuses with 503's error."""
    feed = ChangeFeed(
        store=ChangeStore(pool=pool),
        clock=Clock(),
        api=lambda: ApiConfig(max_event_streams=1),
        listener=lambda on_change: ChangeListener(
            pool=pool, clock=Clock(), on_change=on_change
        ),
    )
    feed.check_room()
    feed.add(EventStream(StreamRequest(), matches=filtered(None, None), max_queued=1))
    with pytest.raises(Unavailable, match="max_event_streams"):
        feed.check_room()


async def until(condition: Any, seconds: float = 10.0) -> None:
    """Wait (on the real reactor) until ``condition()`` holds."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await deferLater(reactor, 0.02, lambda: None)
    raise AssertionError("timed out waiting")


@pytest_twisted.ensureDeferred
async def test_stream_routes_refuse_bad_requests_in_json(pool: Pool) -> None:
    """A bad Last-Event-ID or an unknown parameter is a 400, an unknown
    build a 404, a ridad without a feed a 404 saying so."""
    from tests.db.test_api_handlers import call
    from tests.unit.api.support import make_apps

    apps = make_apps(pool, clock=reactor)
    events = "http://ridad/rida/module-builds/{}/events{}"
    cases = [
        (events.format(1, "?last_event_id=x"), 400, "Last-Event-ID"),
        (events.format(1, "?since=3"), 400, "unknown parameters: since"),
        (events.format(999, ""), 404, "999"),
        ("http://ridad/rida/events?name=a&name=b", 400, "name once"),
        ("http://ridad/rida/events?name=a", 404, "serves no event streams"),
    ]
    for url, status, message in cases:
        code, body, _ = await call(apps.rida, "GET", url)
        assert (code, message in body["message"]) == (status, True), (url, body)


@pytest_twisted.ensureDeferred
async def test_resuming_after_pruned_rows_is_told_of_the_gap(
    pool: Pool, transitions: Transitions
) -> None:
    """Rows after the client's last id that the relay pruned already: a
    ``gap`` event (without an id) comes before the rows still kept."""
    store = ChangeStore(pool=pool)
    one = await submitted(transitions, "one")
    rows = await store.after(0, limit=10)
    await pool.run_operation("DELETE FROM outbox WHERE id = %s", (rows[0].id,))
    request = StreamRequest()
    stream = EventStream(request, matches=filtered(one, None), max_queued=10)
    await catch_up(stream, store, 0, module_build_id=one)
    text = b"".join(request.written).decode()
    assert text.startswith(f'event: gap\ndata: {{"after":0,"oldest":{rows[1].id}}}\n\n')
    assert [i for i, _, _ in request.events()] == [rows[1].id]
    request = StreamRequest()
    stream = EventStream(request, matches=filtered(one, None), max_queued=10)
    await catch_up(stream, store, rows[0].id, module_build_id=one)
    assert b"gap" not in b"".join(request.written)
