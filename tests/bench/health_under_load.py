"""Benchmark: how long ``GET /health`` takes while a 1 MiB modulemd is submitted.

The real service tree (``makeService``) on real PostgreSQL, with the module
and its three components served by a real ``git daemon``; one client polls
``/health`` every 50 ms while another submits the 1 MiB document
(``tests/integration/health_load.py``). Reports the slowest and median
health answers (target: none over 200 ms), how long the submission took, and
how long ``load_modulemd`` takes on that document in this process.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from ridad.modulemd.parse import load_modulemd
from tests.bench.on_reactor import run_on_reactor
from tests.gitrepos import start_git_daemon
from tests.integration.health_load import big_modulemd, submit_while_polling
from tests.integration.support import GitWorld, daemon_config, start_daemon

TARGET_SECONDS = 0.2
PARSE_REPEATS = 3


def parse_seconds(text: str) -> float:
    """The best of a few timings of ``load_modulemd`` on ``text``."""
    timings = []
    for _ in range(PARSE_REPEATS):
        started = time.perf_counter()
        load_modulemd(text)
        timings.append(time.perf_counter() - started)
    return min(timings)


async def run(reactor: Any, dsn: str) -> dict[str, Any]:
    """Start git and ridad, submit while polling, tear everything down."""
    scratch = Path(tempfile.mkdtemp(prefix="healthbench-"))
    (scratch / "git").mkdir()
    server = start_git_daemon(scratch / "git")
    try:
        world = GitWorld(server=server, prefix="health", root=server.base / "health")
        for name in ("alpha", "beta", "gamma"):
            world.commits[name] = world.rpm(name)
        text = big_modulemd()
        commit = world.module("big", text)
        config = daemon_config(dsn, world, scratch / "state")
        daemon = await start_daemon(config, scratch / "ridad.yaml")
        try:
            started = time.monotonic()
            health = await submit_while_polling(
                reactor, daemon, world.scmurl("big", commit)
            )
            submit_seconds = time.monotonic() - started
        finally:
            await daemon.service.stopService()
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    if health.submit_code != 201:
        raise RuntimeError(f"the submission failed: {health.submit_body}")
    times = [seconds for _, seconds in health.answers]
    return {
        "modulemd_bytes": len(text.encode()),
        "parse_seconds": round(parse_seconds(text), 3),
        "submit_seconds": round(submit_seconds, 3),
        "health_answers": len(times),
        "health_non_200": sum(1 for code, _ in health.answers if code != 200),
        "health_ms_median": round(statistics.median(times) * 1000, 1),
        "health_ms_max": round(max(times) * 1000, 1),
    }


def main(dsn: str) -> dict[str, Any]:
    """Run the benchmark against the database ``dsn`` and print its figures."""
    f = run_on_reactor(lambda reactor: run(reactor, dsn))
    verdict = "ok" if f["health_ms_max"] <= TARGET_SECONDS * 1000 else "OVER TARGET"
    print(f"\n/health during a {f['modulemd_bytes']}-byte modulemd submission:")
    print(f"  load_modulemd on the document     {f['parse_seconds']} s")
    print(f"  submission answered in            {f['submit_seconds']} s")
    print(
        f"  health answers                    {f['health_answers']}"
        f" ({f['health_non_200']} not 200)"
    )
    print(
        f"  health ms median / max (target <= {TARGET_SECONDS * 1000:.0f})"
        f"  {f['health_ms_median']} / {f['health_ms_max']}  {verdict}"
    )
    return f
