"""Benchmark: ``GET /metrics`` at 10,000 module builds.

Seeds a fresh database (built by the migrations) with 10,000 module builds
in every state, five components each (50,000; those of builds in ``build``
half in Koji) and ten outbox messages per build (100,000; one in 200
unsent), prints the plan of the one statement a scrape runs (EXPLAIN
ANALYZE), and times 20 scrapes of the real service tree (``makeService``,
which migrated the database first) over HTTP on loopback after 3 warm-up
ones: median and 95th percentile. Also times the text alone for a registry
holding the label sets of a busy daemon (30 Koji methods, 25 routes, ...).
``python -m tests.bench.run --only metrics``.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg2
import treq

from ridad.db.metrics_reads import READINGS_SQL
from ridad.metrics.instruments import DatabaseReadings, Metrics
from tests.bench.on_reactor import run_on_reactor
from tests.integration.support import start_daemon

BUILDS = 10_000
WARM_UP = 3
SCRAPES = 20
STATES = "ARRAY['init','wait','build','done','failed','ready','garbage']"

SEED_BUILDS = (
    "INSERT INTO module_builds (name, stream, version, context, state, owner,"
    " scmurl, scm_commit, modulemd, build_context, runtime_context,"
    " time_submitted, time_modified) SELECT 'mod' || (i %% 500), 's' || (i %% 7),"
    f" i, 'c0ffee00', ({STATES})[1 + (i * 7919) %% 7], 'user' || (i %% 300),"
    " 'git://h/m.git?#main', repeat('0', 40), 'x', 'b', 'r', now(), now()"
    " FROM generate_series(1, %s) AS i"
)
SEED_COMPONENTS = (
    "INSERT INTO component_builds (module_build_id, name, package, repository,"
    " ref, scm_commit, batch, state, task_id, time_modified)"
    " SELECT b.id, 'c' || j, 'c' || j, 'git://h/rpms/c' || j, 'main',"
    " repeat('0', 40), 1 + j % 3,"
    " CASE WHEN b.state = 'build' AND j % 2 = 0 THEN 'building'"
    "  WHEN b.state IN ('done', 'ready', 'garbage') THEN 'complete'"
    "  WHEN b.state = 'failed' AND j = 0 THEN 'failed' ELSE 'waiting' END,"
    " CASE WHEN b.state = 'build' AND j % 2 = 0 THEN b.id * 10 + j END, now()"
    " FROM module_builds b, generate_series(0, 4) AS j"
)
SEED_OUTBOX = (
    "INSERT INTO outbox (msg_id, topic, body, module_build_id, created, sent)"
    " SELECT md5(i::text)::uuid, 'module.state.change', '{}'::jsonb,"
    " (SELECT min(id) FROM module_builds) + i %% %s,"
    " now() - make_interval(secs => i), CASE WHEN i %% 200 = 0 THEN NULL"
    " ELSE now() END FROM generate_series(1, %s) AS i"
)


def seed(cursor: Any, builds: int) -> None:
    """``builds`` module builds, five components each, ten messages each."""
    cursor.execute(SEED_BUILDS, (builds,))
    cursor.execute(SEED_COMPONENTS)
    cursor.execute(SEED_OUTBOX, (builds, builds * 10))


def busy_metrics() -> Metrics:
    """A registry with the label sets of a daemon that has run a while."""
    metrics = Metrics()
    for n in range(30):
        metrics.koji_request_seconds.labels(f"method{n}").observe(0.05)
        metrics.koji_multicall_calls.labels(f"method{n}").inc()
    metrics.koji_faults.labels("getTag", "1000", "GenericError").inc()
    for n in range(25):
        for status in ("200", "404", "503"):
            metrics.api_seconds.labels("GET", f"/route/{n}", status).observe(0.01)
    for command in ("init", "fetch", "ls-remote", "ls-tree", "cat-file", "log"):
        metrics.git_seconds.labels(command, "ok").observe(0.1)
    for job in ("builds", "outbox"):
        metrics.cycle_seconds.labels(job).observe(0.2)
    return metrics


def text_seconds(repeats: int = 200) -> float:
    """The median time to make the text of ``busy_metrics`` with readings."""
    metrics = busy_metrics()
    readings = DatabaseReadings({"init": 1, "build": 2}, 3, 4, 5.0)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        metrics.exposition(readings)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def seed_and_explain(dsn: str, builds: int) -> None:
    """Seed (blocking: nothing else runs meanwhile) and print the plan."""
    connection = psycopg2.connect(dsn)
    connection.autocommit = True
    cursor = connection.cursor()
    started = time.monotonic()
    seed(cursor, builds)
    cursor.execute("VACUUM (ANALYZE)")
    print(f"\nseeded {builds} builds in {time.monotonic() - started:.1f} s")
    cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING ON) " + READINGS_SQL)
    plan = "\n    ".join(row[0] for row in cursor.fetchall())
    print(f"-- the statement of a scrape:\n    {plan}\n")
    connection.close()


async def scrape_times(reactor: Any, dsn: str, builds: int) -> dict[str, Any]:
    """Start ridad on ``dsn`` (it migrates), seed, time the scrapes, stop."""
    scratch = Path(tempfile.mkdtemp(prefix="metricsbench-"))
    config = {
        "listen": "tcp:0:interface=127.0.0.1",
        "database": {"dsn": dsn},
        "state_dir": str(scratch / "state"),
        "scm": {"rpms_default_repository": "git://localhost/rpms/"},
    }
    daemon = await start_daemon(config, scratch / "ridad.yaml")
    try:
        seed_and_explain(dsn, builds)
        timings, size = [], 0
        for n in range(WARM_UP + SCRAPES):
            started = time.perf_counter()
            response = await treq.get(daemon.url("/metrics"))
            body = await response.content()
            if n >= WARM_UP:
                timings.append(time.perf_counter() - started)
            if response.code != 200 or b"ridad_database_up 1.0" not in body:
                raise RuntimeError(f"/metrics answered {response.code}: {body[:200]!r}")
            size = len(body)
    finally:
        await daemon.service.stopService()
        shutil.rmtree(scratch, ignore_errors=True)
    timings.sort()
    return {
        "ms_median": round(statistics.median(timings) * 1000, 1),
        "ms_p95": round(timings[int(0.95 * (len(timings) - 1))] * 1000, 1),
        "ms_max": round(timings[-1] * 1000, 1),
        "bytes": size,
    }


def main(dsn: str, builds: int = BUILDS) -> dict[str, Any]:
    """Seed, print the plan and time the scrapes (``dsn``: an empty database)."""
    figures = run_on_reactor(lambda reactor: scrape_times(reactor, dsn, builds))
    figures["text_ms"] = round(text_seconds() * 1000, 2)
    print(
        f"GET /metrics at {builds} builds ({SCRAPES} scrapes,"
        f" {figures['bytes']} bytes):"
    )
    print(
        f"  ms median / p95 / max   {figures['ms_median']} / {figures['ms_p95']}"
        f" / {figures['ms_max']}"
    )
    print(f"  text of a busy registry alone   {figures['text_ms']} ms")
    return figures
