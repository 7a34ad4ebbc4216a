"""Tests for ridad.db.pool against real PostgreSQL."""

from __future__ import annotations

from typing import Any

import psycopg2
import psycopg2.extensions
import pytest
import pytest_twisted
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.defer import CancelledError, Deferred, gatherResults

from ridad.db.pool import (
    Cursor,
    Pool,
    backoff_seconds,
    connection_dsn,
    strip_dsn_password,
)
from ridad.errors import ConfigError, DatabaseUnavailable
from tests.helpers import PrivateCluster, free_port, wait_for
from tests.netproxy import FreezableProxy


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


def _new_delayed_calls(before: list[Any]) -> list[Any]:
    return [call for call in _reactor().getDelayedCalls() if call not in before]


# Pure parts


def test_backoff_doubles_until_the_cap() -> None:
    """Without jitter the delays double from 0.05 s and stop at half the cap."""
    delays = [backoff_seconds(n, jitter=0.0) for n in range(10)]
    assert delays[:4] == pytest.approx([0.05, 0.1, 0.2, 0.4])
    assert delays[-1] == pytest.approx(5.0)


@given(st.integers(min_value=0, max_value=10_000), st.floats(0, 1, exclude_max=True))
def test_backoff_stays_between_half_and_all_of_the_capped_delay(
    attempt: int, jitter: float
) -> None:
    """Jitter keeps every delay within [delay/2, delay) of the capped delay."""
    delay = min(10.0, 0.1 * 2 ** min(attempt, 64))
    assert delay / 2 <= backoff_seconds(attempt, jitter=jitter) < delay + 1e-9


def test_strip_dsn_password_removes_only_the_password() -> None:
    """The password disappears from key=value and URI DSNs; the rest stays."""
    stripped = strip_dsn_password("host=db user=ridad password=s3cret dbname=x")
    assert "s3cret" not in stripped
    assert psycopg2.extensions.parse_dsn(stripped) == {
        "host": "db",
        "user": "ridad",
        "dbname": "x",
    }
    assert "s3cret" not in strip_dsn_password("postgresql://ridad:s3cret@db/x")


def test_connection_dsn_adds_keepalives_and_time_limits_without_overriding() -> None:
    """Keepalives and time limits are added; settings in the DSN win."""
    dsn = connection_dsn(
        "host=db keepalives_idle=60 options='-c search_path=x'",
        connect_timeout_seconds=5,
        statement_timeout_seconds=1.5,
    )
    params = psycopg2.extensions.parse_dsn(dsn)
    assert params["keepalives"] == "1"
    assert params["keepalives_idle"] == "60"
    assert params["connect_timeout"] == "5"
    assert params["options"] == "-c statement_timeout=1500 -c search_path=x"


def test_unparseable_dsn_is_a_config_error() -> None:
    """A DSN psycopg2 cannot parse is reported when the pool is built."""
    with pytest.raises(ConfigError):
        Pool(dsn="host=db dbname", reactor=_reactor())


# Queries and transactions


@pytest_twisted.ensureDeferred
async def test_run_query_returns_rows_as_dicts(pool: Pool) -> None:
    """Rows come back as dicts keyed by column name."""
    rows = await pool.run_query(
        "SELECT n, n * 2 AS double FROM generate_series(1, %s) AS n", (2,)
    )
    assert rows == [{"n": 1, "double": 2}, {"n": 2, "double": 4}]


@pytest_twisted.ensureDeferred
async def test_run_operation_changes_data_and_returns_none(pool: Pool) -> None:
    """An operation's change is committed and it returns None."""
    await pool.run_operation("CREATE TABLE things (name TEXT)")
    assert await pool.run_operation("INSERT INTO things VALUES (%s)", ("a",)) is None
    assert await pool.run_query("SELECT name FROM things") == [{"name": "a"}]


@pytest_twisted.ensureDeferred
async def test_run_query_of_a_statement_without_rows_returns_no_rows(
    pool: Pool,
) -> None:
    """A statement that returns no rows (no RETURNING) gives an empty list."""
    assert await pool.run_query("CREATE TABLE things (name TEXT)") == []


@pytest_twisted.ensureDeferred
async def test_interaction_commits_and_returns_its_result(pool: Pool) -> None:
    """An interaction's statements commit together and its value is returned."""
    await pool.run_operation("CREATE TABLE things (name TEXT)")

    async def insert(cursor: Cursor, names: list[str]) -> int:
        for name in names:
            await cursor.execute("INSERT INTO things VALUES (%s)", (name,))
        await cursor.execute("SELECT count(*) AS n FROM things")
        row = cursor.fetchone()
        assert row is not None
        return int(row["n"])

    assert await pool.run_interaction(insert, ["a", "b"]) == 2
    assert len(await pool.run_query("SELECT * FROM things")) == 2


@pytest_twisted.ensureDeferred
async def test_interaction_rolls_back_and_reraises_on_exception(pool: Pool) -> None:
    """An exception inside an interaction undoes its writes and propagates."""
    await pool.run_operation("CREATE TABLE things (name TEXT)")

    async def insert_then_fail(cursor: Cursor) -> None:
        await cursor.execute("INSERT INTO things VALUES ('a')")
        raise KeyError("boom")

    with pytest.raises(KeyError):
        await pool.run_interaction(insert_then_fail)
    assert await pool.run_query("SELECT * FROM things") == []


@pytest_twisted.ensureDeferred
async def test_sql_errors_propagate_and_the_connection_stays_usable(
    pool: Pool,
) -> None:
    """psycopg2's non-operational errors reach the caller; the pool carries on."""
    with pytest.raises(psycopg2.errors.UndefinedTable):
        await pool.run_query("SELECT * FROM no_such_table")

    async def fail_in_sql(cursor: Cursor) -> None:
        await cursor.execute("SELECT 1/0")

    with pytest.raises(psycopg2.errors.DivisionByZero):
        await pool.run_interaction(fail_in_sql)
    results = await gatherResults(
        [Deferred.fromCoroutine(pool.run_query("SELECT 1 AS one")) for _ in range(8)]
    )
    assert results == [[{"one": 1}]] * 8


# Starting


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
async def test_cancelled_call_drops_its_connection_and_the_pool_recovers(
    database_dsn: str,
) -> None:
    """Cancelling a running call raises CancelledError; a new connection follows."""
    pool = Pool(dsn=database_dsn, reactor=_reactor(), size=1)
    await pool.start()
    try:
        call = Deferred.fromCoroutine(pool.run_query("SELECT pg_sleep(30)"))
        call.cancel()
        with pytest.raises(CancelledError):
            await call
        assert await pool.run_query("SELECT 1 AS one") == [{"one": 1}]
    finally:
        await pool.close()


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


# Health and the dedicated connection


@pytest_twisted.ensureDeferred
async def test_ping_is_true_on_a_healthy_pool_and_false_once_closed(pool: Pool) -> None:
    """ping() answers True while the database answers, False after close()."""
    assert pool.healthy
    assert await pool.ping()
    await pool.close()
    assert not await pool.ping()


@pytest_twisted.ensureDeferred
async def test_dedicated_connection_is_separate_and_reports_its_loss(
    pool: Pool, postgres_server: Any
) -> None:
    """The dedicated connection holds session state and says when it is lost."""
    conn = await pool.dedicated_connection()
    lost = conn.when_lost()
    [(locked,)] = await conn.runQuery("SELECT pg_try_advisory_lock(42)")
    assert locked
    [row] = await pool.run_query("SELECT pg_try_advisory_lock(42) AS again")
    assert row == {"again": False}
    [(pid,)] = await conn.runQuery("SELECT pg_backend_pid()")
    await pool.run_query("SELECT pg_terminate_backend(%s)", (pid,))
    await lost
    assert conn.dead
    conn.close()
