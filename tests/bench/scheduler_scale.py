"""Benchmark: the scheduler at scale (issue 14 §3), with Koji events.

kojisim (instant builds) runs in this process and hands every bus message
of its commits to the daemon's ``KojiEventListener`` in-process (what the
broker would deliver, without a broker in between), so the scheduler is
driven by events; its poll interval is long (``--poll-interval``).

Phase 1 builds ``--modules`` modules of ``--components`` components end to
end through the API (as ``module_builds`` does) and reports SQL statements
per state change, the Koji event to recorded change latency, and for each
module the time from Koji's last ``build.tag`` of its components to its
``ready`` (and the part of it Koji spent on a repo, when it made one).

Phase 2 opens ``--open-modules`` module builds of ``--components``
components with ``--open-per-module`` FREE tasks each (kojisim's builder
paused; copies of phase 1's modules) and times ``BuildDriver.cycle``
``--cycles`` times with the loops stopped: the whole cycle, kojisim's part,
ridad's own part.

Phase 3 (``--finish``) resumes the builder and the loops: every open task
ends at once, the events arrive, and the latency from each event to its
change and the statements per state change are taken at that scale. kojisim
shares the reactor and inspects every source in a child process, so this
phase measures kojisim more than ridad.

``python -m tests.bench.scheduler_scale [--modules N] [--open-modules M]``
(a database of its own from ``RIDAD_TEST_DSN``); peak RSS is the process's,
kojisim included.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.task import deferLater

from ridad.bus.events import parse_koji_message
from ridad.db.pool import Pool
from ridad.scheduler.events import KojiEventListener
from tests.bench.buildworld import commit_modules, start_kojisim, start_ridad
from tests.bench.module_builds import Meters, since, submit, wait_until_final
from tests.bench.on_reactor import run_on_reactor
from tests.bench.opentasks import lease_epoch, open_tasks
from tests.gitrepos import start_git_daemon


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's command-line options."""
    add = parser.add_argument
    add("--modules", type=int, default=20, help="modules built end to end")
    add("--components", type=int, default=10, help="components per module")
    add("--batches", type=int, default=2, help="batches per module")
    add("--open-modules", type=int, default=1000, help="open module builds")
    add("--open-per-module", type=int, default=1, help="open tasks per module")
    add("--cycles", type=int, default=5, help="cycles to time")
    add("--poll-interval", type=float, default=5.0, help="scheduler poll seconds")
    add("--timeout", type=float, default=600, help="seconds to wait per phase")
    add("--finish", action="store_true", help="run phase 3 (kojisim-bound)")
    add("--profile", metavar="FILE", help="cProfile the timed cycles into FILE")
    add("--json", metavar="FILE", help="also write figures here")


class EventRelay:
    """kojisim's event sink: each message goes to ``listener`` at once; the
    times of tag and repo events are noted (wall clock, as ridad's)."""

    def __init__(self) -> None:
        self.listener: KojiEventListener | None = None
        self.tagged: dict[str, float] = {}
        self.repo_done: dict[str, list[float]] = {}
        self.messages = 0

    def emit(self, destination: str, headers: Mapping[str, str], body: bytes) -> None:
        """Note the message's time, then deliver it."""
        self.messages += 1
        now = time.time()
        event = parse_koji_message(destination, headers, body)
        if event is not None and event.tag is not None:
            if event.kind == "tag":
                self.tagged[event.tag] = now
            elif event.kind == "repo":
                self.repo_done.setdefault(event.tag, []).append(now)
        if self.listener is not None:
            self.listener.handle(destination, headers, body)


class Recorder:
    """Stands in for the event to change histogram: keeps every value."""

    def __init__(self, histogram: Any) -> None:
        self._histogram = histogram
        self.values: list[float] = []

    def observe(self, value: float) -> None:
        self.values.append(value)
        self._histogram.observe(value)


def main(dsn: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark on the (empty) database ``dsn``; print it."""
    figures = run_on_reactor(lambda reactor: run(reactor, dsn, args))
    figures["peak_rss_mib"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    for key, value in figures.items():
        if not key.endswith("_by_kind"):
            print(f"{key:50} {value}")
    line = json.dumps(figures, sort_keys=True)
    if args.json:
        Path(args.json).write_text(line + "\n")
    print(line)
    return figures


async def run(reactor: Any, dsn: str, args: argparse.Namespace) -> dict[str, Any]:
    """Set everything up, run the three phases, tear everything down."""
    scratch = Path(tempfile.mkdtemp(prefix="schedbench-"))
    (scratch / "git").mkdir()
    git_server = start_git_daemon(scratch / "git")
    bench_pool = Pool(dsn=dsn, reactor=reactor, size=2)
    relay = EventRelay()
    try:
        world = commit_modules(
            git_server,
            modules=args.modules,
            components=args.components,
            batches=args.batches,
        )
        capacity = max(args.open_modules * args.open_per_module, 1000)
        koji = await start_kojisim(
            reactor, capacity=capacity, upload_dir=scratch / "kojisim", sink=relay
        )
        await bench_pool.start()
        figures: dict[str, Any] = {
            "modules": args.modules,
            "components": args.components,
        }
        try:
            daemon = await start_ridad(
                dsn, world, koji.url, scratch, poll_interval=args.poll_interval
            )
            try:
                meters = Meters(daemon, koji.hub)
                recorder = listen(meters, relay)
                figures |= await build_phase(
                    reactor, daemon, world, bench_pool, meters, args
                )
                figures |= await ready_after_tagging(bench_pool, relay)
                figures |= latencies("phase1_event_ms", recorder.values)
                figures |= await cycle_phase(koji, bench_pool, meters, args)
                if args.finish:
                    recorder.values.clear()
                    figures |= await finish_phase(
                        reactor, koji, bench_pool, meters, args
                    )
                    figures |= latencies("phase3_event_ms", recorder.values)
            finally:
                await daemon.service.stopService()
        finally:
            await koji.close()
    finally:
        await bench_pool.close()
        git_server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return figures


def listen(meters: Meters, relay: EventRelay) -> Recorder:
    """Give the relay a listener wired as the daemon's bus would be, and
    record the driver's event to change latencies."""
    driver = meters.driver
    builds = next(job for job in meters.scheduler.jobs if job.name == "builds")
    relay.listener = KojiEventListener(
        format="koji",
        tracked_tasks=lambda: driver.tracked_tasks,
        tracked_tags=lambda: driver.tracked_tags,
        poke=builds.poke,
        noted=driver.note_event,
        hint=driver.hint,
    )
    events = driver._metrics.events
    recorder = Recorder(events._histogram)
    events._histogram = recorder
    return recorder


def latencies(prefix: str, seconds: list[float]) -> dict[str, Any]:
    """Count, p50, p99 and max of ``seconds``, in milliseconds."""
    if not seconds:
        return {f"{prefix}_count": 0}
    ms = sorted(s * 1000 for s in seconds)
    return {
        f"{prefix}_count": len(ms),
        f"{prefix}_p50": round(statistics.median(ms), 1),
        f"{prefix}_p99": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 1),
        f"{prefix}_max": round(ms[-1], 1),
    }


def per_change(prefix: str, moved: Mapping[str, Any], changes: int) -> dict[str, Any]:
    """Statements and transactions per state change, and the kinds."""
    changes = max(changes, 1)
    return {
        f"{prefix}_state_changes": changes,
        f"{prefix}_sql_statements_per_state_change": round(
            moved["statements"] / changes, 2
        ),
        f"{prefix}_sql_transactions_per_state_change": round(
            moved["transactions"] / changes, 2
        ),
        f"{prefix}_sql_statements_by_kind": dict(moved["sql_kinds"].most_common()),
    }


async def trace_rows(bench_pool: Pool) -> int:
    rows = await bench_pool.run_query("SELECT count(*) AS n FROM state_trace")
    return int(rows[0]["n"])


async def build_phase(
    reactor: Any, daemon: Any, world: Any, bench_pool: Pool, meters: Meters, args: Any
) -> dict[str, Any]:
    """Phase 1: submit every module, wait until all are ready."""
    names = [f"bench{index:03d}" for index in range(args.modules)]
    before, traces = meters.read(), await trace_rows(bench_pool)
    started = time.monotonic()
    await gatherResults(
        [Deferred.fromCoroutine(submit(daemon, world.scmurl(name))) for name in names]
    )
    states = await wait_until_final(
        reactor, bench_pool, meters, args.modules, args.timeout
    )
    if states.get("ready", 0) != args.modules:
        raise RuntimeError(f"not every module build is ready: {states}")
    moved = since(before, meters.read())
    changes = await trace_rows(bench_pool) - traces
    return {
        "phase1_wall_seconds": round(time.monotonic() - started, 2),
        "phase1_cycles": moved["cycles"],
        "phase1_kojisim_seconds": round(moved["hub_seconds"], 2),
    } | per_change("phase1", moved, changes)


async def ready_after_tagging(bench_pool: Pool, relay: EventRelay) -> dict[str, Any]:
    """Per module: Koji's last tag event of it to its ``ready`` trace row,
    and the repo Koji made in between (if any) to ``ready``."""
    rows = await bench_pool.run_query(
        "SELECT m.koji_tag, extract(epoch FROM t.time) AS ready FROM module_builds m"
        " JOIN state_trace t ON t.module_build_id = m.id"
        " AND t.component_build_id IS NULL AND t.new_state = 'ready'"
    )
    to_ready, after_repo = [], []
    for row in rows:
        tags = (row["koji_tag"], f"{row['koji_tag']}-build")
        last = max((relay.tagged[t] for t in tags if t in relay.tagged), default=None)
        if last is None:
            continue
        ready = float(row["ready"])
        to_ready.append(ready - last)
        repos = [r for r in relay.repo_done.get(tags[1], []) if last <= r <= ready]
        if repos:
            after_repo.append(ready - repos[0])
    figures = latencies("tagged_to_ready_ms", to_ready)
    return figures | latencies("repo_done_to_ready_ms", after_repo)


async def cycle_phase(
    koji: Any, bench_pool: Pool, meters: Meters, args: Any
) -> dict[str, Any]:
    """Phase 2: open module builds with FREE tasks, timed cycles."""
    koji.hub.pause_builder()
    count = args.open_modules * args.open_per_module
    started = time.monotonic()
    await open_tasks(koji, bench_pool, count, per_module=args.open_per_module)
    setup = time.monotonic() - started
    for poller in meters.pollers:
        await poller.stop()
    epoch = await lease_epoch(bench_pool)
    cycles = []
    profile = cProfile.Profile() if args.profile else None
    for _ in range(args.cycles):
        if profile is not None:
            profile.enable()
        before = meters.read()
        started = time.perf_counter()
        await meters.driver.cycle(epoch)
        elapsed = time.perf_counter() - started
        if profile is not None:
            profile.disable()
        moved = since(before, meters.read())
        cycles.append((elapsed, moved))
    if profile is not None:
        profile.dump_stats(args.profile)
    if await lease_epoch(bench_pool) != epoch or meters.scheduler.role != "active":
        raise RuntimeError("the scheduler lost its lock during the timed cycles")
    polled = meters.driver.last_polled_tasks
    if polled != count:
        raise RuntimeError(f"cycles polled {polled} tasks, not {count}")
    whole = [seconds for seconds, _ in cycles]
    own = [seconds - moved["hub_seconds"] for seconds, moved in cycles]
    return {
        "open_modules": args.open_modules,
        "open_tasks": count,
        "open_setup_seconds": round(setup, 1),
        "cycle_seconds": [round(s, 3) for s in whole],
        "cycle_ridad_seconds": [round(s, 3) for s in own],
        "cycle_ridad_seconds_min": round(min(own), 3),
        "cycle_ridad_seconds_median": round(statistics.median(own), 3),
        "cycle_ridad_seconds_max": round(max(own), 3),
        "cycle_sql_statements": [moved["statements"] for _, moved in cycles],
        "cycle_round_trips": [moved["round_trips"] for _, moved in cycles],
    }


async def finish_phase(
    reactor: Any, koji: Any, bench_pool: Pool, meters: Meters, args: Any
) -> dict[str, Any]:
    """Phase 3: every open task ends at once; wait for their components."""
    before, traces = meters.read(), await trace_rows(bench_pool)
    started = time.monotonic()
    for poller in meters.pollers:
        poller.start()
    koji.hub.resume_builder()
    deadline = started + args.timeout
    while True:
        rows = await bench_pool.run_query(
            "SELECT count(*) AS n FROM component_builds WHERE name LIKE 'open%%'"
            " AND state IN ('building', 'waiting')"
        )
        if int(rows[0]["n"]) == 0:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"{rows[0]['n']} open components after the timeout")
        await deferLater(reactor, 0.05, lambda: None)
    wall = time.monotonic() - started
    moved = since(before, meters.read())
    changes = await trace_rows(bench_pool) - traces
    return {"phase3_wall_seconds": round(wall, 2)} | per_change(
        "phase3", moved, changes
    )


def cli() -> None:
    """Measure on a throwaway database and print the figures."""
    from tests.bench.run import DEFAULT_DSN, migrated_database

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_arguments(parser)
    args = parser.parse_args()
    server = os.environ.get("RIDAD_TEST_DSN", DEFAULT_DSN)
    name = f"ridad_bench_{os.getpid()}_sched"
    with migrated_database(server, name, migrate=False) as dsn:
        main(dsn, args)


if __name__ == "__main__":
    cli()
