"""Benchmark: ``POST /rida/module-builds/`` to its 201 for a 10-component module.

Serves a module repository and ten component repositories with a real
``git daemon`` on loopback, starts the real service tree (``makeService``,
which migrates the empty database) and submits new commits of the module
one after another: one warm-up, then ``SUBMISSIONS`` timed ones (each a new
commit with a later commit date, so a new version). Prints each time and
min / median / max. ``python -m tests.bench.run --only submit``.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import treq

from tests.bench.on_reactor import run_on_reactor
from tests.gitrepos import start_git_daemon
from tests.integration.support import (
    GitWorld,
    daemon_config,
    modulemd_text,
    start_daemon,
)

COMPONENTS = 10
SUBMISSIONS = 5
JSON = {b"Content-Type": [b"application/json"]}


async def submit_times(reactor: Any, dsn: str) -> dict[str, Any]:
    """Start git and ridad, time the submissions, stop both."""
    scratch = Path(tempfile.mkdtemp(prefix="submitbench-"))
    (scratch / "git").mkdir()
    git_server = start_git_daemon(scratch / "git")
    world = GitWorld(server=git_server, prefix="bench", root=scratch / "git" / "bench")
    components = {
        f"pkg{n}": {"rationale": f"package {n}", "buildorder": n % 3}
        for n in range(COMPONENTS)
    }
    for name in components:
        world.rpm(name)
    daemon = await start_daemon(
        daemon_config(dsn, world, scratch / "state"), scratch / "ridad.yaml"
    )
    timings = []
    try:
        for n in range(1 + SUBMISSIONS):
            commit = world.module(
                "bench",
                modulemd_text(components),
                date=f"2026-01-{n + 1:02d}T00:00:00+00:00",
            )
            body = json.dumps(
                {"scmurl": world.scmurl("bench", commit), "branch": "main"}
            )
            started = time.perf_counter()
            response = await treq.post(
                daemon.url("/rida/module-builds/"), data=body.encode(), headers=JSON
            )
            answer = await response.content()
            elapsed = time.perf_counter() - started
            if response.code != 201:
                raise RuntimeError(f"POST answered {response.code}: {answer[:300]!r}")
            if n:
                timings.append(elapsed)
    finally:
        await daemon.service.stopService()
        git_server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return {"seconds": timings}


def main(dsn: str) -> dict[str, Any]:
    """Time the submissions on the empty database at ``dsn``; print them."""
    figures = run_on_reactor(lambda reactor: submit_times(reactor, dsn))
    ms = [round(s * 1000, 1) for s in figures["seconds"]]
    print(
        f"\nPOST -> 201, {COMPONENTS}-component module over loopback git"
        f" ({SUBMISSIONS} new commits): {', '.join(map(str, ms))} ms"
    )
    print(f"  ms min / median / max   {min(ms)} / {statistics.median(ms)} / {max(ms)}")
    figures["ms"] = ms
    return figures
