"""What ``GET /metrics`` reads from PostgreSQL (ridad/db/metrics_reads.py),
against counts made by plain SQL on the benchmark's seed; and the pool's
waits for a free connection (ridad/db/pool.py)."""

from __future__ import annotations

from datetime import timedelta

import psycopg2
import pytest_twisted
from twisted.internet.defer import Deferred, gatherResults

from ridad.db.metrics_reads import MetricsStore
from ridad.db.pool import Pool
from ridad.domain.states import ModuleState
from ridad.metrics.instruments import Metrics
from tests.bench.metrics_scrape import seed


def _reactor():
    from twisted.internet import reactor

    return reactor


@pytest_twisted.ensureDeferred
async def test_readings_of_an_empty_database_name_every_state(pool: Pool) -> None:
    """No builds: every state at 0, nothing in Koji, an empty outbox."""
    (now,) = await pool.run_query("SELECT now() AS now")
    readings = await MetricsStore(pool=pool).readings(now["now"])
    assert readings.builds_by_state == {s.label: 0 for s in ModuleState}
    assert readings.components_in_koji == 0
    assert (readings.outbox_unsent, readings.outbox_oldest_unsent_age_seconds) == (0, 0)


@pytest_twisted.ensureDeferred
async def test_readings_match_plain_counts(pool: Pool, database_dsn: str) -> None:
    """Builds by state, building components with a task, unsent messages
    and the age of the oldest one (from the given now) match plain SQL."""
    connection = psycopg2.connect(database_dsn)
    connection.autocommit = True
    seed(connection.cursor(), 70)
    connection.close()
    (row,) = await pool.run_query(
        "SELECT min(created) AS oldest, count(*) AS n FROM outbox WHERE sent IS NULL"
    )
    now = row["oldest"] + timedelta(seconds=90)
    readings = await MetricsStore(pool=pool).readings(now)
    by_state = await pool.run_query(
        "SELECT state, count(*) AS n FROM module_builds GROUP BY state"
    )
    assert {r["state"]: r["n"] for r in by_state} == {
        s: n for s, n in readings.builds_by_state.items() if n
    }
    (in_koji,) = await pool.run_query(
        "SELECT count(*) AS n FROM component_builds"
        " WHERE state = 'building' AND task_id IS NOT NULL"
    )
    assert readings.components_in_koji == in_koji["n"] > 0
    assert readings.outbox_unsent == row["n"] > 0
    assert readings.outbox_oldest_unsent_age_seconds == 90.0


@pytest_twisted.ensureDeferred
async def test_a_call_that_finds_no_idle_connection_is_a_wait(
    database_dsn: str,
) -> None:
    """Three statements on a pool of one: the two that queued are waits."""
    metrics = Metrics()
    pool = Pool(dsn=database_dsn, reactor=_reactor(), size=1, metrics=metrics)
    await pool.start()
    try:
        queries = [
            Deferred.fromCoroutine(pool.run_query("SELECT pg_sleep(0.01)"))
            for _ in range(3)
        ]
        assert metrics.registry.get_sample_value("ridad_db_pool_waiting") == 2
        await gatherResults(queries)
    finally:
        await pool.close()
    get = metrics.registry.get_sample_value
    assert get("ridad_db_pool_wait_seconds_count") == 2
    assert get("ridad_db_pool_wait_seconds_sum") > 0
    assert get("ridad_db_pool_waiting") == 0
