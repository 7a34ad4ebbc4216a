"""Tests for ridad.db.pool against real PostgreSQL: building and starting a
pool, time limits and waiting, the server going away and coming back, and
closing.

The pure parts, queries and health are in test_pool_queries.py.
"""

from __future__ import annotations

from typing import Any

import psycopg2.extensions
import pytest
import pytest_twisted
from twisted.internet.defer import CancelledError, Deferred, gatherResults
from twisted.internet.task import Clock
from twisted.logger import formatEvent, globalLogPublisher

from ridad.db.pool import Cursor, Pool
from ridad.errors import ConfigError, DatabaseUnavailable
from tests.helpers import PrivateCluster, free_port, wait_for
from tests.netproxy import FreezableProxy


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


def _new_delayed_calls(before: list[Any]) -> list[Any]:
    return [call for call in _reactor().getDelayedCalls() if call not in before]


# Building and starting


def test_unparseable_dsn_is_a_config_error() -> None:
    """A DSN psycopg2 cannot parse is reported when the pool is built."""
    with pytest.raises(ConfigError):
        Pool(dsn="host=db dbname", reactor=_reactor())


@pytest_twisted.ensureDeferred
async def test_start_without_a_server_raises_database_unavailable() -> None:
    """Nothing listening on the port is retryable: DatabaseUnavailable."""
    pool = Pool(
        dsn=f"host=127.0.0.1 port={free_port()} user=postgres", reactor=_reactor()
    )
    with pytest.raises(DatabaseUnavailable):
        await pool.start()
    assert not pool.healthy


@pytest_twisted.ensureDeferred
async def test_start_with_unknown_database_or_role_raises_config_error(
    database_dsn: str,
) -> None:
    """The server refusing the database or role is not retryable: ConfigError."""
    for setting in ({"dbname": "no_such_db"}, {"user": "no_such_role"}):
        dsn = psycopg2.extensions.make_dsn(database_dsn, **setting)
        with pytest.raises(ConfigError):
            await Pool(dsn=dsn, reactor=_reactor()).start()


@pytest_twisted.ensureDeferred
async def test_start_needs_a_dsn(database_dsn: str) -> None:
    """A pool built without a DSN starts once its dsn is set."""
    pool = Pool(dsn=None, reactor=_reactor(), size=1)
    with pytest.raises(RuntimeError):
        await pool.start()
    pool.dsn = database_dsn
    await pool.start()
    try:
        assert await pool.ping()
    finally:
        await pool.close()


@pytest_twisted.ensureDeferred
async def test_a_closed_pool_can_start_again(database_dsn: str) -> None:
    """close() then start() gives a working pool again (the daemon's retry loop)."""
    pool = Pool(dsn=database_dsn, reactor=_reactor(), size=2)
    await pool.start()
    await pool.close()
    with pytest.raises(DatabaseUnavailable):
        await pool.run_query("SELECT 1")
    await pool.start()
    try:
        assert await pool.run_query("SELECT 1 AS one") == [{"one": 1}]
    finally:
        await pool.close()


# Time limits and waiting


@pytest_twisted.ensureDeferred
async def test_statement_timeout_raises_database_unavailable(database_dsn: str) -> None:
    """The server's statement_timeout becomes DatabaseUnavailable; the pool lives."""
    pool = Pool(
        dsn=database_dsn, reactor=_reactor(), size=1, statement_timeout_seconds=0.2
    )
    await pool.start()
    try:
        with pytest.raises(DatabaseUnavailable):
            await pool.run_query("SELECT pg_sleep(2)")
        assert await pool.run_query("SELECT 1 AS one") == [{"one": 1}]
    finally:
        await pool.close()


@pytest_twisted.ensureDeferred
async def test_calls_wait_for_a_free_connection_in_fifo_order(
    database_dsn: str,
) -> None:
    """With every connection busy, waiting calls are served in arrival order."""
    pool = Pool(dsn=database_dsn, reactor=_reactor(), size=1)
    await pool.start()
    release: Deferred[None] = Deferred()
    order: list[int] = []

    async def hold(cursor: Cursor) -> None:
        await cursor.execute("SELECT 1")
        await release

    async def numbered(n: int) -> None:
        await pool.run_query("SELECT %s AS n", (n,))
        order.append(n)

    try:
        holder = Deferred.fromCoroutine(pool.run_interaction(hold))
        waiting = [Deferred.fromCoroutine(numbered(n)) for n in range(5)]
        assert order == []
        release.callback(None)
        await gatherResults([holder, *waiting])
        assert order == [0, 1, 2, 3, 4]
    finally:
        await pool.close()


@pytest_twisted.ensureDeferred
async def test_cancelled_call_cancels_its_statement_and_keeps_the_connection(
    database_dsn: str,
) -> None:
    """Cancelling a running call (a client gone) raises CancelledError once
    the server cancelled the statement; the same connection, with the same
    backend, answers the next call, and nothing reconnects."""
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    pool = Pool(dsn=database_dsn, reactor=_reactor(), size=1)
    await pool.start()
    try:
        (before,) = pool._idle
        pid = await pool.run_query("SELECT pg_backend_pid() AS pid")
        call = Deferred.fromCoroutine(pool.run_query("SELECT pg_sleep(30)"))
        call.cancel()
        with pytest.raises(CancelledError):
            await call
        assert list(pool._idle) == [before] and not before.dead
        assert await pool.run_query("SELECT pg_backend_pid() AS pid") == pid
    finally:
        await pool.close()
        globalLogPublisher.removeObserver(events.append)
    texts = [formatEvent(e) for e in events]
    (cancelled,) = [t for t in texts if t.startswith("Cancelled the statement")]
    assert cancelled.endswith("the server cancelled it")  # not pg_sleep's end
    assert not [t for t in texts if "Reconnect" in t]


@pytest_twisted.ensureDeferred
async def test_silent_server_times_out_and_the_connection_is_replaced(
    postgres_server: Any, database_dsn: str
) -> None:
    """A server that goes silent mid-call gives DatabaseUnavailable, then recovery."""
    params = psycopg2.extensions.parse_dsn(database_dsn)
    host, port = params.get("host", "127.0.0.1"), int(params.get("port", 5432))
    proxy = FreezableProxy(host, port)
    listening = _reactor().listenTCP(0, proxy, interface="127.0.0.1")
    dsn = psycopg2.extensions.make_dsn(
        database_dsn, host="127.0.0.1", port=listening.getHost().port
    )
    pool = Pool(
        dsn=dsn,
        reactor=_reactor(),
        size=1,
        connect_timeout_seconds=0.5,
        statement_timeout_seconds=0.5,
    )
    await pool.start()
    try:
        proxy.freeze()
        with pytest.raises(DatabaseUnavailable):
            await pool.run_query("SELECT 1")
        assert await pool.run_query("SELECT 1 AS one") == [{"one": 1}]
    finally:
        await pool.close()
        await listening.stopListening()
        for server in proxy.servers:
            server.transport.abortConnection()


# The server going away and coming back


@pytest_twisted.ensureDeferred
async def test_killed_server_gives_database_unavailable_then_recovers(
    killable_postgres: PrivateCluster,
) -> None:
    """Calls fail while the server is down and succeed once it is back, same pool."""
    pool = Pool(
        dsn=killable_postgres.dsn,
        reactor=_reactor(),
        size=2,
        connect_timeout_seconds=1,
    )
    await pool.start()
    try:
        await pool.run_operation("CREATE TABLE survivors (n INTEGER)")
        killable_postgres.stop("immediate")
        with pytest.raises(DatabaseUnavailable):
            await pool.run_query("SELECT 1")
        await wait_for(lambda: not pool.healthy, 5, _reactor())
        assert not await pool.ping()
        with pytest.raises(DatabaseUnavailable):
            await pool.run_query("SELECT 1")
        killable_postgres.start()
        await wait_for(lambda: pool.healthy, 15, _reactor())
        assert await pool.run_query("SELECT count(*) AS n FROM survivors") == [{"n": 0}]
        assert await pool.ping()
    finally:
        await pool.close()


@pytest_twisted.ensureDeferred
async def test_waiting_call_is_served_when_the_server_returns_in_time(
    killable_postgres: PrivateCluster,
) -> None:
    """A call made while all connections are down succeeds if one comes back in time."""
    pool = Pool(
        dsn=killable_postgres.dsn,
        reactor=_reactor(),
        size=1,
        connect_timeout_seconds=10,
    )
    await pool.start()
    try:
        killable_postgres.stop("immediate")
        await wait_for(lambda: not pool.healthy, 5, _reactor())
        call = Deferred.fromCoroutine(pool.run_query("SELECT 1 AS one"))
        killable_postgres.start()
        assert await call == [{"one": 1}]
    finally:
        await pool.close()


@pytest_twisted.ensureDeferred
async def test_close_leaves_no_delayed_calls_even_while_reconnecting(
    killable_postgres: PrivateCluster,
) -> None:
    """Closing cancels reconnection timers, waiters and time limits alike."""
    before = list(_reactor().getDelayedCalls())
    pool = Pool(dsn=killable_postgres.dsn, reactor=_reactor(), size=2)
    await pool.start()
    await pool.run_query("SELECT 1")
    killable_postgres.stop("immediate")
    await wait_for(lambda: not pool.healthy, 5, _reactor())
    waiting = Deferred.fromCoroutine(pool.run_query("SELECT 1"))
    await pool.close()
    with pytest.raises(DatabaseUnavailable):
        await waiting
    assert _new_delayed_calls(before) == []


@pytest_twisted.ensureDeferred
async def test_close_of_an_idle_pool_leaves_no_delayed_calls(database_dsn: str) -> None:
    """A pool that ran queries leaves nothing scheduled once closed."""
    before = list(_reactor().getDelayedCalls())
    pool = Pool(dsn=database_dsn, reactor=_reactor())
    await pool.start()
    await gatherResults(
        [Deferred.fromCoroutine(pool.run_query("SELECT 1")) for _ in range(10)]
    )
    await pool.close()
    assert _new_delayed_calls(before) == []
    assert not pool.healthy


def test_abort_never_raises_when_the_reactor_lost_track_of_the_socket() -> None:
    """An abort on a failure path (a connect cut by its time limit) closes
    the socket and reports the loss even when the reactor no longer knows
    the descriptor (epoll's KeyError), instead of raising over the cause."""
    from ridad.db.connection import WatchedConnection

    class ForgetfulReactor(Clock):
        def removeReader(self, selectable: object) -> None:
            raise KeyError(26)

        removeWriter = removeReader

    class RawConnection:
        closed = False

        def close(self) -> None:
            self.closed = True

    conn = WatchedConnection(reactor=ForgetfulReactor())
    raw = RawConnection()
    conn._connection = raw
    lost = conn.when_lost()
    conn.abort(DatabaseUnavailable("connect failed"))
    assert raw.closed and lost.called and conn.dead
