"""Tests for ridad.db.pool against real PostgreSQL: the pure parts (backoff,
DSN handling), queries and transactions, health and the dedicated connection.

Starting, time limits and outages are in test_pool_lifecycle.py.
"""

from __future__ import annotations

from typing import Any

import psycopg2
import psycopg2.extensions
import pytest
import pytest_twisted
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.defer import Deferred, gatherResults

from ridad.db.pool import (
    Cursor,
    Pool,
    backoff_seconds,
    connection_dsn,
    strip_dsn_password,
)

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
