"""ridad's instruments (ridad/metrics/) and where they are observed: one
registry per Metrics object, the database gauges of a scrape, state changes
counted once committed, the Koji event to change latency, Koji calls and
faults, leader cycles and git commands. Everything on task.Clock."""

from __future__ import annotations

from typing import Any

import koji
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.task import Clock

from ridad.errors import KojiFault, KojiUnavailable
from ridad.koji.client import KojiCall
from ridad.koji.retry import RetryPolicy
from ridad.leader.poll import CyclePoller
from ridad.metrics.events import MAX_PENDING
from ridad.metrics.instruments import DatabaseReadings, Metrics
from ridad.process import ProcessResult
from ridad.scm.gitprocess import outcome, subcommand
from tests.helpers import failure_of, result_of
from tests.unit.koji.fakehub import make_world


def samples(metrics: Metrics, readings: DatabaseReadings | None = None) -> dict:
    """(name, sorted labels) -> value of every sample of the exposition."""
    text = metrics.exposition(readings).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def get(found: dict, name: str, **labels: str) -> Any:
    return found.get((name, tuple(sorted(labels.items()))))


def test_each_metrics_object_has_its_own_registry() -> None:
    """Two objects in one process count apart; the global registry holds
    none of ridad's metrics."""
    one, two = Metrics(), Metrics()
    one.cycle_tasks.observe(3)
    assert get(samples(one), "ridad_builds_cycle_tasks_count") == 1
    assert get(samples(two), "ridad_builds_cycle_tasks_count") == 0
    assert REGISTRY.get_sample_value("ridad_builds_cycle_tasks_count") is None


def test_database_gauges_only_with_readings() -> None:
    """A scrape with readings has them and ridad_database_up 1; without,
    ridad_database_up 0 and no build gauges."""
    metrics = Metrics()
    readings = DatabaseReadings({"build": 2, "ready": 0}, 3, 4, 5.0)
    found = samples(metrics, readings)
    assert get(found, "ridad_database_up") == 1
    assert get(found, "ridad_module_builds", state="build") == 2
    assert get(found, "ridad_module_builds", state="ready") == 0
    assert get(found, "ridad_component_builds_in_koji") == 3
    assert get(found, "ridad_outbox_unsent_messages") == 4
    assert get(found, "ridad_outbox_oldest_unsent_age_seconds") == 5.0
    found = samples(metrics, None)
    assert get(found, "ridad_database_up") == 0
    assert get(found, "ridad_module_builds", state="build") is None


def test_state_changes_count_once_committed() -> None:
    """A committed transaction's changes count by from/to (creation from
    none, a write that keeps the state not at all); a rolled back one's
    never."""
    metrics = Metrics()

    async def transaction(fn: Any, *args: Any) -> Any:
        return await fn(object(), *args)

    async def writes(cursor: object, fail: bool) -> str:
        metrics.changes.note(cursor, "module", None, "init")
        metrics.changes.note(cursor, "module", "done", "done")
        metrics.changes.note(cursor, "component", "waiting", "building")
        if fail:
            raise RuntimeError("rolled back")
        return "written"

    d = Deferred.fromCoroutine(metrics.changes.run(transaction, writes, True))
    failure_of(d).trap(RuntimeError)
    assert (
        get(
            samples(metrics),
            "ridad_module_state_changes_total",
            **{"from": "none", "to": "init"},
        )
        is None
    )
    run = metrics.changes.run(transaction, writes, False)
    assert result_of(Deferred.fromCoroutine(run)) == "written"
    found = samples(metrics)
    moves = "ridad_module_state_changes_total"
    assert get(found, moves, **{"from": "none", "to": "init"}) == 1
    assert get(found, moves, **{"from": "done", "to": "done"}) is None
    component = "ridad_component_state_changes_total"
    assert get(found, component, **{"from": "waiting", "to": "building"}) == 1


def test_event_latency_from_arrival_to_the_change() -> None:
    """An event's first arrival counts to the change of its task; an event
    answered by a poll without a change is forgotten, not matched later."""
    metrics = Metrics()
    events = metrics.events
    events.arrived(7, 10.0)
    events.arrived(7, 11.0)  # the earlier one keeps its time
    events.arrived(8, 10.5)
    events.changed(7, 12.5)
    events.answered_before(13.0)  # 8's poll saw no change
    assert events.pending == 0
    events.changed(8, 20.0)
    events.changed(None, 20.0)
    found = samples(metrics)
    assert get(found, "ridad_koji_event_to_change_seconds_count") == 1
    assert get(found, "ridad_koji_event_to_change_seconds_sum") == 2.5
    events.arrived(9, 30.0)
    events.answered_before(29.0)  # arrived after that poll asked
    assert events.pending == 1
    for task_id in range(MAX_PENDING + 5):
        events.arrived(100 + task_id, 40.0)
    assert events.pending == MAX_PENDING


def test_koji_round_trips_faults_and_multicall_calls() -> None:
    """Each round trip is timed by method (a multicall as multiCall), its
    entries counted by method, a fault by method and faultCode, a refused
    connection as a transport error."""
    metrics = Metrics()
    world = make_world(retry=RetryPolicy(give_up_after_seconds=5), metrics=metrics)

    def get_tag(name: str) -> Any:
        if name == "missing":
            raise koji.GenericError("No such tag")
        return {"name": name}

    world.hub.methods["getTag"] = get_tag
    calls = [KojiCall("getTag", ("a",)), KojiCall("getTag", ("missing",))]
    result_of(Deferred.fromCoroutine(world.client.multicall(calls)))
    d = Deferred.fromCoroutine(world.client.call("getTag", "missing"))
    failure_of(d).trap(KojiFault)
    world.agent.refusals = [ConnectionRefusedError()] * 10
    d = Deferred.fromCoroutine(world.client.call("getTag", "a"))
    world.clock.advance(10)
    failure_of(d).trap(KojiUnavailable)
    found = samples(metrics)
    request = "ridad_koji_request_seconds_count"
    assert get(found, request, method="multiCall") == 1
    assert get(found, request, method="getTag") >= 2
    assert get(found, "ridad_koji_multicall_calls_total", method="getTag") == 2
    fault = {"method": "getTag", "fault_code": "1000", "fault_name": "GenericError"}
    assert get(found, "ridad_koji_faults_total", **fault) == 2
    transport = get(found, "ridad_koji_transport_errors_total", method="getTag")
    assert transport == get(found, request, method="getTag") - 1


def test_cycles_are_timed_and_failures_counted_by_job() -> None:
    """A cycle of 0.3 s of the clock is observed as 0.3 s under its job;
    a failed one counts as a failure too."""
    clock, metrics = Clock(), Metrics()
    runs = [0.3, KojiUnavailable("down")]

    async def run() -> None:
        step = runs.pop(0)
        if isinstance(step, Exception):
            raise step
        clock.advance(step)

    poller = CyclePoller(
        clock=clock, interval_seconds=1.0, run=run, name="builds", metrics=metrics
    )
    poller.start()
    clock.advance(0.7)
    result_of(Deferred.fromCoroutine(poller.stop()))
    found = samples(metrics)
    assert get(found, "ridad_leader_cycle_seconds_count", job="builds") == 2
    assert get(found, "ridad_leader_cycle_seconds_sum", job="builds") == pytest.approx(
        0.3
    )
    assert get(found, "ridad_leader_cycle_failures_total", job="builds") == 1


def test_leader_state_and_epoch() -> None:
    """1 and the epoch while leading, 0 and 0 after."""
    metrics = Metrics()
    metrics.set_leader(42)
    assert (
        get(samples(metrics), "ridad_leader"),
        get(samples(metrics), "ridad_lease_epoch"),
    ) == (1, 42)
    metrics.set_leader(None)
    assert (
        get(samples(metrics), "ridad_leader"),
        get(samples(metrics), "ridad_lease_epoch"),
    ) == (0, 0)


def _result(**fields: Any) -> ProcessResult:
    base: dict[str, Any] = dict(
        exit_code=0, signal=None, stdout=b"", stderr=b"", timed_out=False,
        stdout_overflowed=False, duration_seconds=0.1,
    )  # fmt: skip
    return ProcessResult(**{**base, **fields})


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({}, "ok"),
        ({"exit_code": 128}, "failed"),
        ({"timed_out": True, "exit_code": None}, "timeout"),
        ({"stopped": "too-large", "exit_code": None}, "too-large"),
        ({"silent": True, "exit_code": None}, "slow"),
        ({"stdout_overflowed": True}, "too-large"),
    ],
)
def test_git_outcome_labels(fields: dict[str, Any], expected: str) -> None:
    """How a git command ended, as one label of a small set."""
    assert outcome(_result(**fields)) == expected


def test_git_subcommand_is_the_first_argument_that_is_no_option() -> None:
    """The label is the subcommand, never a URL or a path."""
    assert (
        subcommand(["--git-dir=/tmp/x", "--literal-pathspecs", "ls-tree", "-z"])
        == "ls-tree"
    )
    assert subcommand(["fetch", "--", "git://h/r.git"]) == "fetch"
    assert subcommand(["-c", "core.x=y", "-C", "/tmp", "cat-file", "-e"]) == "cat-file"
    assert subcommand(["--version"]) == "none"
