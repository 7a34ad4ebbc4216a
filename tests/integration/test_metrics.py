"""``GET /metrics`` of a real daemon while a module builds through kojisim
(HTTP on loopback, real PostgreSQL and git daemon): the text parses with
prometheus_client's parser, and the values move as the build goes from
submission to ready."""

from __future__ import annotations

import json

import pytest
import pytest_twisted
import treq
from prometheus_client.parser import text_string_to_metric_families
from twisted.internet import reactor
from twisted.internet.task import deferLater

from ridad.metrics.instruments import CONTENT_TYPE
from tests.integration import test_koji_builds
from tests.integration.support import GitWorld, RunningDaemon, json_of, modulemd_text

pytestmark = pytest.mark.integration
koji_built = test_koji_builds.koji_built

UNFINISHED = ("init", "wait", "build", "done")
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(daemon: RunningDaemon) -> Samples:
    """Every sample of ``GET /metrics``: (name, sorted labels) -> value."""
    response = await treq.get(daemon.url("/metrics"))
    assert response.code == 200
    assert response.headers.getRawHeaders(b"content-type") == [CONTENT_TYPE.encode()]
    text = (await response.content()).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def get(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value, 0 when absent."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


async def build_while_scraping(
    daemon: RunningDaemon, git_world: GitWorld
) -> list[float]:
    """Submit a one-component module and scrape until it is ready: the
    builds not yet finished (init, wait, build, done) at each scrape."""
    git_world.module("demo", modulemd_text({"alpha": {"rationale": "one"}}))
    response = await treq.post(
        daemon.url("/rida/module-builds/"),
        data=json.dumps({"scmurl": git_world.scmurl("demo")}).encode(),
        headers={b"Content-Type": [b"application/json"]},
    )
    assert response.code == 201
    build_id = (await response.json())["id"]
    unfinished = []
    for _ in range(600):
        during = await scrape(daemon)
        unfinished.append(
            sum(get(during, "ridad_module_builds", state=s) for s in UNFINISHED)
        )
        shown = await json_of(
            await treq.get(daemon.url(f"/rida/module-builds/{build_id}"))
        )
        if shown["state"] in ("ready", "failed"):
            break
        await deferLater(reactor, 0.1, lambda: None)
    assert shown["state"] == "ready", shown
    return unfinished


@pytest_twisted.ensureDeferred
async def test_metrics_move_as_a_module_builds(
    koji_built: RunningDaemon, git_world: GitWorld
) -> None:
    """Before, during and after one module build: builds by state, state
    change counters, Koji calls, poll cycles, git, outbox and API latency."""
    before = await scrape(koji_built)
    assert get(before, "ridad_database_up") == 1
    assert get(before, "ridad_module_builds", state="init") == 0
    unfinished = await build_while_scraping(koji_built, git_world)
    after = await scrape(koji_built)
    assert unfinished[0] == 1, unfinished
    assert sum(get(after, "ridad_module_builds", state=s) for s in UNFINISHED) == 0
    builds = "ridad_module_builds"
    assert get(after, builds, state="ready") == get(before, builds, state="ready") + 1
    assert get(after, "ridad_component_builds_in_koji") == 0
    moves = "ridad_module_state_changes_total"
    for old, new in (("none", "init"), ("init", "wait"), ("wait", "build"),
                     ("build", "done"), ("done", "ready")):  # fmt: skip
        assert get(after, moves, **{"from": old, "to": new}) >= 1, (old, new)
    component_moves = "ridad_component_state_changes_total"
    assert get(after, component_moves, **{"from": "waiting", "to": "building"}) >= 2
    assert get(after, component_moves, **{"from": "building", "to": "complete"}) >= 2
    koji = "ridad_koji_request_seconds_count"
    grown = total(after, koji, method="multiCall") - total(
        before, koji, method="multiCall"
    )
    assert grown > 0
    assert total(after, "ridad_koji_multicall_calls_total", method="getTaskInfo") >= 1
    cycles = "ridad_leader_cycle_seconds_count"
    assert get(after, cycles, job="builds") > get(before, cycles, job="builds")
    assert get(after, "ridad_builds_cycle_tasks_sum") >= 2
    assert total(after, "ridad_git_command_seconds_count", command="fetch") >= 1
    unsent = "ridad_outbox_unsent_messages"
    assert get(after, unsent) > get(before, unsent)  # no messaging section
    assert get(after, "ridad_outbox_oldest_unsent_age_seconds") >= 0
    api = "ridad_api_request_seconds_count"
    show = "/rida/module-builds/<number:module_build_id>"
    assert get(after, api, method="GET", route=show, status="200") >= 1
    assert total(after, api, method="POST", status="201") == 1
    assert get(after, api, method="GET", route="/metrics", status="200") >= 2
    assert get(after, "ridad_leader") == 1
    assert get(after, "ridad_lease_epoch") >= 1
    assert ("ridad_db_pool_wait_seconds_count", ()) in after
    assert ("ridad_koji_event_to_change_seconds_count", ()) in after
