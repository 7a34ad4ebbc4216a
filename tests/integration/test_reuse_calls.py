"""Measurement, not a check: the Koji requests and calls reuse saves on a
module of 40 components in 4 batches with one component (batch 3) changed.
Builds in one kojisim: the full first build, a rebuild ``only-changed``,
one ``changed-and-after`` (its source is the first build: an only-changed
build does not qualify) and one ``all``. Each build's requests (HTTP
requests kojisim answered, every multicall one) and calls (each call in a
multicall counted) and its Koji builds are printed and written to
``reuse_calls.json`` under the test's tmp directory. Idle polls while
kojisim builds count too, so the figures move a little from run to run.
It is a benchmark: ``make test`` leaves it out (marker ``bench``);
``python -m tests.bench.run --only reuse`` (part of ``make bench``) runs it
with ``-m bench -s``."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted

from ridad.kojisim.hub import KojiHub
from tests.integration.kojiworld import KojiWorld, counted_methods
from tests.integration.reuse_world import build_tasks, built, commit_module
from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    daemon_config,
    koji_config,
    start_daemon,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.bench]

COMPONENTS = {
    f"pkg{index:02d}": {"rationale": "measured", "buildorder": index // 10}
    for index in range(40)
}
CHANGED = "pkg25"


class CallMeter:
    """Counts what kojisim answers: requests, calls, and calls per method."""

    def __init__(self, hub: KojiHub) -> None:
        self.requests = 0
        self.calls = 0
        self.methods: Counter[str] = Counter()
        answer = hub.answer

        def measured(method: bytes, body: bytes, info: Any, content_type: str) -> Any:
            self.requests += 1
            for name in counted_methods(body, content_type):
                self.calls += 1
                self.methods[name] += 1
            return answer(method, body, info, content_type)

        hub.answer = measured  # type: ignore[method-assign]

    def take(self) -> dict[str, Any]:
        """The counts so far, then start again from zero."""
        taken = {
            "requests": self.requests,
            "calls": self.calls,
            "methods": dict(sorted(self.methods.items())),
        }
        self.requests, self.calls, self.methods = 0, 0, Counter()
        return taken


@pytest_twisted.async_yield_fixture
async def measured_daemon(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld, tmp_path: Path
) -> AsyncIterator[RunningDaemon]:
    config = daemon_config(
        database_dsn,
        git_world,
        tmp_path / "state",
        koji=koji_config(koji_world.url, max_concurrent_builds_per_module=40),
    )
    daemon = await start_daemon(config, tmp_path / "ridad.yaml")
    yield daemon
    await daemon.service.stopService()


@pytest_twisted.ensureDeferred
async def test_measure_koji_calls_saved_by_reuse(
    measured_daemon: RunningDaemon,
    git_world: GitWorld,
    koji_world: KojiWorld,
    tmp_path: Path,
) -> None:
    for name in COMPONENTS:
        git_world.rpm(name)
    commit_module(git_world, 2030, COMPONENTS)
    meter = CallMeter(koji_world.hub)
    figures: dict[str, Any] = {}
    first = await built(measured_daemon, git_world)
    figures["full build"] = meter.take()
    git_world.rpm(CHANGED)
    year = 2031
    for strategy in ("only-changed", "changed-and-after", "all"):
        commit_module(git_world, year, COMPONENTS)
        year += 1
        tasks_before = max(koji_world.hub.tasks)
        rebuilt = await built(measured_daemon, git_world, rebuild_strategy=strategy)
        figures[strategy] = meter.take()
        figures[strategy]["koji_builds"] = sum(
            build_tasks(koji_world.hub, after=tasks_before).values()
        )
        figures[strategy]["reused_module_id"] = rebuilt["reused_module_id"]
    figures["full build"]["first_build_id"] = first["id"]
    (tmp_path / "reuse_calls.json").write_text(json.dumps(figures, indent=2))
    for name, counted in figures.items():
        print(
            f"{name}: {counted['requests']} requests, {counted['calls']} calls,"
            f" {counted.get('koji_builds', 41)} Koji builds; {counted['methods']}"
        )
