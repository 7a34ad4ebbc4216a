"""Benchmark: Koji round trips of one module build, per component and per step.

Builds one module of 4, 10 and 20 components (``--sizes``), in two batches
each, one after the other, through the real service tree on real PostgreSQL,
loopback ``git daemon`` and kojisim (instant builds) over HTTP. Every HTTP
request kojisim answers between the submission and ``ready`` is a round trip
(a multicall is one, its entries are counted apart as calls); idle polls while
kojisim builds count too, so figures move a little from run to run.

Each request is put in one step by the methods it carries (first match):
``cg_import`` (the RPM reads before it, CGInitBuild, its uploads, CGImport), ``macros`` (uploads before the CG
import's CGInitBuild, and the build naming module-build-macros), ``environment`` (tags, inheritance,
groups, package lists, the target), ``tagging`` (tagBuildBypass,
listTagged, getLastEvent), ``repos`` (newRepo, getRepo), ``builds`` (build,
listTasks), ``session`` (logins) and ``polling`` (the rest: task states,
builds of tasks, RPMs, outputs).

``python -m tests.bench.koji_round_trips [--sizes 4,10,20] [--json FILE]``
makes a throwaway database itself (``RIDAD_TEST_DSN`` or the default
server); ``main(dsn, args)`` runs on an empty database ``dsn``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater

from ridad.db.pool import Pool
from tests.bench.buildworld import start_kojisim, start_ridad
from tests.bench.module_builds import submit
from tests.bench.on_reactor import run_on_reactor
from tests.gitrepos import start_git_daemon
from tests.integration.kojiworld import counted_methods
from tests.integration.support import GitWorld, modulemd_text

#: (step, methods that put a request in it), the first match wins.
STEPS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "cg_import",
        frozenset(
            {
                "CGInitBuild",
                "CGImport",
                "CGRefundBuild",
                "listBuildRPMs",
                "getRPMHeaders",
            }
        ),
    ),
    ("macros", frozenset({"rawUpload", "checkUpload", "uploadFile"})),
    (
        "environment",
        frozenset(
            {
                "createTag",
                "editTag",
                "getTag",
                "setInheritanceData",
                "getInheritanceData",
                "groupListAdd",
                "groupPackageListAdd",
                "getTagGroups",
                "packageListAdd",
                "listPackages",
                "createBuildTarget",
                "getBuildTarget",
            }
        ),
    ),
    ("tagging", frozenset({"tagBuildBypass", "listTagged", "getLastEvent"})),
    ("repos", frozenset({"newRepo", "getRepo"})),
    ("builds", frozenset({"build", "listTasks"})),
    ("session", frozenset({"login", "sslLogin", "getLoggedInUser", "logout"})),
)
ORDER = [step for step, _ in STEPS] + ["polling"]
_MACROS = b"module-build-macros"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's command-line options."""
    parser.add_argument("--sizes", default="4,10,20", help="components per module")
    parser.add_argument(
        "--timeout", type=float, default=180, help="seconds to wait for ready"
    )
    parser.add_argument("--json", metavar="FILE", help="also write figures here")


class StepMeter:
    """Counts kojisim's requests and calls per step and per method."""

    def __init__(self, hub: Any) -> None:
        self.requests: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.methods: Counter[str] = Counter()
        self.importing = False
        answer = hub.answer

        def measured(method: bytes, body: bytes, info: Any, content_type: str) -> Any:
            names = counted_methods(body, content_type)
            step = _step(names, body)
            if "CGInitBuild" in names:
                self.importing = True
            elif step == "macros" and self.importing:
                step = "cg_import"
            self.requests[step] += 1
            self.calls[step] += len(names)
            self.methods.update(names)
            return answer(method, body, info, content_type)

        hub.answer = measured

    def take(self) -> dict[str, Any]:
        """The counts so far, then start again from zero."""
        taken = {
            "requests": dict(self.requests),
            "calls": dict(self.calls),
            "methods": dict(self.methods.most_common()),
        }
        self.requests, self.calls, self.methods = Counter(), Counter(), Counter()
        self.importing = False
        return taken


def _step(names: list[str], body: bytes) -> str:
    if "build" in names and _MACROS in body:
        return "macros"
    for step, methods in STEPS:
        if methods.intersection(names):
            return step
    return "polling"


def main(dsn: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark on the empty database ``dsn``; print and answer it."""
    sizes = [int(size) for size in str(args.sizes).split(",")]
    figures = run_on_reactor(lambda reactor: run(reactor, dsn, sizes, args.timeout))
    print_figures(figures)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, sort_keys=True) + "\n")
    return figures


async def run(
    reactor: Any, dsn: str, sizes: list[int], timeout: float
) -> dict[str, Any]:
    """Build one module of each size, one after the other; their counts."""
    scratch = Path(tempfile.mkdtemp(prefix="kojirt-"))
    (scratch / "git").mkdir()
    git_server = start_git_daemon(scratch / "git")
    pool = Pool(dsn=dsn, reactor=reactor, size=1)
    koji = await start_kojisim(reactor, capacity=64, upload_dir=scratch / "kojisim")
    figures: dict[str, Any] = {}
    try:
        world = commit_sized_modules(git_server, sizes)
        daemon = await start_ridad(dsn, world, koji.url, scratch)
        await pool.start()
        try:
            meter = StepMeter(koji.hub)
            for size in sizes:
                meter.take()
                started = time.monotonic()
                await submit(daemon, world.scmurl(f"rt{size:03d}"))
                await wait_ready(reactor, pool, f"rt{size:03d}", timeout)
                counted = meter.take()
                counted["seconds"] = round(time.monotonic() - started, 2)
                figures[str(size)] = counted
        finally:
            await daemon.service.stopService()
            await pool.close()
    finally:
        await koji.close()
        git_server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return figures


def commit_sized_modules(server: Any, sizes: list[int]) -> GitWorld:
    """One module ``rtNNN`` of each size, each component in one of two batches."""
    world = GitWorld(server=server, prefix="kojirt", root=server.base / "kojirt")
    for index in range(max(sizes)):
        name = f"pkg{index:03d}"
        world.commits[name] = world.rpm(name)
    for size in sizes:
        rpms = {
            f"pkg{index:03d}": {"rationale": "bench", "buildorder": index * 2 // size}
            for index in range(size)
        }
        world.module(f"rt{size:03d}", modulemd_text(rpms))
    return world


async def wait_ready(reactor: Any, pool: Pool, name: str, timeout: float) -> None:
    """Wait until the module build of ``name`` is ready; raise if it fails."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = await pool.run_query(
            "SELECT state FROM module_builds WHERE name = %s", (name,)
        )
        state = rows[0]["state"] if rows else None
        if state == "ready":
            return
        if state == "failed":
            raise RuntimeError(f"module {name} failed")
        await Deferred.fromCoroutine(_sleep(reactor, 0.05))
    raise RuntimeError(f"module {name} not ready after {timeout} s")


async def _sleep(reactor: Any, seconds: float) -> None:
    await deferLater(reactor, seconds, lambda: None)


def print_figures(figures: dict[str, Any]) -> None:
    """A table: round trips (calls) per step, the total, per component."""
    sizes = list(figures)
    print("koji round trips per module (multicall entries in brackets)")
    print(f"{'step':<14}" + "".join(f"{size + ' comp.':>16}" for size in sizes))
    for step in ORDER:
        cells = [
            f"{figures[s]['requests'].get(step, 0)} ({figures[s]['calls'].get(step, 0)})"
            for s in sizes
        ]
        print(f"{step:<14}" + "".join(f"{cell:>16}" for cell in cells))
    totals = [sum(figures[s]["requests"].values()) for s in sizes]
    print(f"{'total':<14}" + "".join(f"{total:>16}" for total in totals))
    per = [f"{total / int(s):.2f}" for total, s in zip(totals, sizes, strict=True)]
    print(f"{'per component':<14}" + "".join(f"{cell:>16}" for cell in per))
    print(json.dumps(figures, sort_keys=True))


def _standalone() -> None:
    from tests.bench.run import DEFAULT_DSN, migrated_database

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_arguments(parser)
    args = parser.parse_args()
    server = os.environ.get("RIDAD_TEST_DSN", DEFAULT_DSN)
    with migrated_database(
        server, f"ridad_bench_{os.getpid()}_kojirt", migrate=False
    ) as dsn:
        main(dsn, args)


if __name__ == "__main__":
    _standalone()
