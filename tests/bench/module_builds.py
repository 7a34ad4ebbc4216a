"""Benchmark: module builds end to end, and one poll cycle with many open tasks.

Phase 1 submits N modules of M components each (``--modules``,
``--components``) through the HTTP API of the real service tree
(``makeService``) on real PostgreSQL, with component repositories served by
a real ``git daemon`` and kojisim (instant builds, many build slots) over
HTTP on loopback, and waits until every module is ready. It reports Koji
round trips per component build (the scheduler's ``KojiClient.round_trips``),
SQL statements per state change (statements of the daemon's pool over
``state_trace`` rows), the wall time and the peak memory of the process.

Phase 2 pauses kojisim's builder, creates ``--open-tasks`` build tasks in
kojisim and as many ``building`` components in the database (in modules
copied from phase 1), stops the scheduler's loops and times
``BuildDriver.cycle`` ``--cycles`` times. kojisim runs in this process, so
the time it spends answering is reported too (it is part of the cycle).
The driver is found through the service tree, or as the one
``BuildDriver`` in the process.

Everything is counted from outside ridad: the pool's and the hub's entry
points are wrapped on their instances.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import shutil
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import treq
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.task import deferLater
from twisted.web.http_headers import Headers

from ridad.db.pool import Pool
from ridad.scheduler.driver import BuildDriver
from tests.bench.buildworld import (
    HubMeter,
    SqlMeter,
    commit_modules,
    start_kojisim,
    start_ridad,
)
from tests.bench.on_reactor import run_on_reactor
from tests.bench.opentasks import lease_epoch, open_tasks
from tests.bench.report import print_table
from tests.gitrepos import start_git_daemon
from tests.integration.support import GitWorld, RunningDaemon

JSON_HEADERS = Headers({b"Content-Type": [b"application/json"]})
MAX_FAILED_CYCLES = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's command-line options."""
    parser.add_argument("--modules", type=int, default=20, help="modules (N)")
    parser.add_argument(
        "--components", type=int, default=10, help="components per module (M)"
    )
    parser.add_argument("--batches", type=int, default=2, help="batches per module")
    parser.add_argument(
        "--open-tasks", type=int, default=1000, help="open tasks in the cycle test"
    )
    parser.add_argument("--cycles", type=int, default=5, help="cycles to time")
    parser.add_argument(
        "--timeout", type=float, default=240, help="seconds to wait for ready"
    )
    parser.add_argument("--json", metavar="FILE", help="also write figures here")


def main(dsn: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark on the (migrated, empty) database ``dsn``; print it."""
    figures = run_on_reactor(lambda reactor: run(reactor, dsn, args))
    figures["peak_rss_mib"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    print_table(figures)
    line = json.dumps(figures, sort_keys=True)
    if args.json:
        Path(args.json).write_text(line + "\n")
    print(line)
    return figures


async def run(reactor: Any, dsn: str, args: argparse.Namespace) -> dict[str, Any]:
    """Set everything up, run both phases, tear everything down."""
    scratch = Path(tempfile.mkdtemp(prefix="modbench-"))
    (scratch / "git").mkdir()
    git_server = start_git_daemon(scratch / "git")
    bench_pool = Pool(dsn=dsn, reactor=reactor, size=2)
    try:
        started = time.monotonic()
        world = commit_modules(
            git_server,
            modules=args.modules,
            components=args.components,
            batches=args.batches,
        )
        capacity = max(args.open_tasks, args.modules * (args.components + 1))
        koji = await start_kojisim(
            reactor, capacity=capacity, upload_dir=scratch / "kojisim"
        )
        await bench_pool.start()
        figures: dict[str, Any] = {
            "modules": args.modules,
            "components": args.components,
            "batches": args.batches,
            "setup_seconds": round(time.monotonic() - started, 1),
        }
        try:
            daemon = await start_ridad(dsn, world, koji.url, scratch)
            try:
                meters = Meters(daemon, koji.hub)
                figures |= await build_modules(
                    reactor, daemon, world, bench_pool, meters, args
                )
                figures |= await time_cycles(daemon, koji, bench_pool, meters, args)
            finally:
                await daemon.service.stopService()
        finally:
            await koji.close()
    finally:
        await bench_pool.close()
        git_server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return figures


class Meters:
    """The counters read around each phase."""

    def __init__(self, daemon: RunningDaemon, hub: Any) -> None:
        scheduler = daemon.service.getServiceNamed("leader")
        self.pollers = [job.poller for job in scheduler.jobs]
        self.scheduler = scheduler
        self.driver = find_driver(scheduler)
        self.koji = self.driver._koji
        self.sql = SqlMeter()
        self.sql.install(daemon.service._pool)
        self.hub = HubMeter()
        self.hub.install(hub)

    def read(self) -> dict[str, Any]:
        """The counters now."""
        statements, uses, kinds = self.sql.snapshot()
        return {
            "round_trips": self.koji.round_trips,
            "cycles": sum(poller.cycles for poller in self.pollers),
            "statements": statements,
            "transactions": uses,
            "sql_kinds": kinds,
            "hub_seconds": self.hub.seconds,
            "hub_kinds": Counter(self.hub.kinds),
        }


def find_driver(scheduler: Any) -> BuildDriver:
    """The scheduler's driver: through the service tree, else the one
    ``BuildDriver`` in the process (the tree's shape may change)."""
    driver = getattr(scheduler, "_driver", None)
    if isinstance(driver, BuildDriver):
        return driver
    found = [o for o in gc.get_objects() if isinstance(o, BuildDriver)]
    if len(found) != 1:
        raise RuntimeError(f"expected one BuildDriver, found {len(found)}")
    return found[0]


def since(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What the counters moved between two readings."""
    return {key: after[key] - before[key] for key in before}


async def build_modules(
    reactor: Any,
    daemon: RunningDaemon,
    world: GitWorld,
    bench_pool: Pool,
    meters: Meters,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Phase 1: submit every module, wait until all are ready, count."""
    names = [f"bench{index:03d}" for index in range(args.modules)]
    before = meters.read()
    started = time.monotonic()
    await gatherResults(
        [Deferred.fromCoroutine(submit(daemon, world.scmurl(name))) for name in names]
    )
    submitted = time.monotonic() - started
    states = await wait_until_final(
        reactor, bench_pool, meters, args.modules, args.timeout
    )
    wall = time.monotonic() - started
    moved = since(before, meters.read())
    if states.get("ready", 0) != args.modules:
        raise RuntimeError(f"not every module build is ready: {states}")
    rows = await bench_pool.run_query(
        "SELECT (SELECT count(*) FROM state_trace) AS traces,"
        " (SELECT count(*) FROM component_builds) AS components,"
        " (SELECT count(*) FROM outbox) AS messages"
    )
    traces, components = int(rows[0]["traces"]), int(rows[0]["components"])
    return {
        "component_builds": components,
        "koji_round_trips": moved["round_trips"],
        "koji_round_trips_per_component": round(moved["round_trips"] / components, 2),
        "koji_requests_by_kind": dict(moved["hub_kinds"].most_common()),
        "trace_rows": traces,
        "outbox_rows": int(rows[0]["messages"]),
        "sql_statements": moved["statements"],
        "sql_transactions": moved["transactions"],
        "sql_statements_per_state_change": round(moved["statements"] / traces, 2),
        "sql_statements_by_kind": dict(moved["sql_kinds"].most_common()),
        "scheduler_cycles": moved["cycles"],
        "submit_seconds": round(submitted, 2),
        "wall_seconds_to_ready": round(wall, 2),
        "kojisim_seconds_phase1": round(moved["hub_seconds"], 2),
    }


async def submit(daemon: RunningDaemon, scmurl: str) -> int:
    """Submit one module build through the API; return its id."""
    response = await treq.post(
        daemon.url("/rida/module-builds/"),
        data=json.dumps({"scmurl": scmurl}).encode(),
        headers=JSON_HEADERS,
    )
    body = await response.json()
    if response.code != 201:
        raise RuntimeError(f"submitting {scmurl} gave {response.code}: {body}")
    return int(body["id"])


async def wait_until_final(
    reactor: Any, bench_pool: Pool, meters: Meters, count: int, timeout_seconds: float
) -> dict[str, int]:
    """Wait until ``count`` module builds are ready or failed; their states
    (of the builds made, not imported: the platform module is ready from the
    start, and counting it ended the wait one module early).

    Gives up early when the scheduler's cycles keep failing (see the log).
    """
    deadline = time.monotonic() + timeout_seconds
    while True:
        rows = await bench_pool.run_query(
            "SELECT state, count(*) AS n FROM module_builds WHERE NOT imported"
            " GROUP BY state"
        )
        states = {row["state"]: int(row["n"]) for row in rows}
        if states.get("ready", 0) + states.get("failed", 0) >= count:
            return states
        failures = max(poller.failures for poller in meters.pollers)
        if failures >= MAX_FAILED_CYCLES:
            raise RuntimeError(
                f"{failures} scheduler cycles failed in a row (logged above): {states}"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(f"builds not final after {timeout_seconds} s: {states}")
        await deferLater(reactor, 0.05, lambda: None)


async def time_cycles(
    daemon: RunningDaemon,
    koji: Any,
    bench_pool: Pool,
    meters: Meters,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Phase 2: open tasks, building components, then timed cycles."""
    koji.hub.pause_builder()
    started = time.monotonic()
    await open_tasks(koji, bench_pool, args.open_tasks)
    setup_seconds = time.monotonic() - started
    # Stopped only now: losing and retaking the lock restarts the loops.
    for poller in meters.pollers:
        await poller.stop()
    epoch = await lease_epoch(bench_pool)
    if meters.scheduler.role != "active":
        raise RuntimeError(f"the scheduler is {meters.scheduler.role}, not active")
    cycles = []
    for _ in range(args.cycles):
        before = meters.read()
        started = time.perf_counter()
        await meters.driver.cycle(epoch)
        elapsed = time.perf_counter() - started
        moved = since(before, meters.read())
        cycles.append(
            {
                "seconds": elapsed,
                "last_cycle_seconds": meters.driver.last_cycle_seconds,
                "polled_tasks": meters.driver.last_polled_tasks,
                "round_trips": moved["round_trips"],
                "statements": moved["statements"],
                "kojisim_seconds": moved["hub_seconds"],
            }
        )
    if await lease_epoch(bench_pool) != epoch or meters.scheduler.role != "active":
        raise RuntimeError("the scheduler lost its lock during the timed cycles")
    polled = {c["polled_tasks"] for c in cycles}
    if polled != {args.open_tasks}:
        raise RuntimeError(f"cycles polled {polled} tasks, not {args.open_tasks}")
    seconds = [c["seconds"] for c in cycles]
    own = [c["seconds"] - c["kojisim_seconds"] for c in cycles]
    return {
        "open_tasks": args.open_tasks,
        "open_tasks_setup_seconds": round(setup_seconds, 1),
        "cycle_seconds": [round(s, 3) for s in seconds],
        "cycle_seconds_min": round(min(seconds), 3),
        "cycle_seconds_median": round(statistics.median(seconds), 3),
        "cycle_seconds_max": round(max(seconds), 3),
        "cycle_last_cycle_seconds": [round(c["last_cycle_seconds"], 3) for c in cycles],
        "cycle_kojisim_seconds_median": round(
            statistics.median(c["kojisim_seconds"] for c in cycles), 3
        ),
        "cycle_ridad_seconds_median": round(statistics.median(own), 3),
        "cycle_round_trips": [c["round_trips"] for c in cycles],
        "cycle_sql_statements": [c["statements"] for c in cycles],
    }
