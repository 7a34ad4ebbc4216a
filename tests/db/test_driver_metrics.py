"""What the build driver reports to its metrics, cycle by cycle on a fake
clock against kojisim and real PostgreSQL: the latency from a Koji bus event
to the change it caused, tasks per cycle, and committed state changes."""

from __future__ import annotations

import json

import pytest
import pytest_twisted

from ridad.db.pool import Pool
from ridad.domain.states import ComponentState, ModuleState
from ridad.metrics.instruments import Metrics
from ridad.scheduler.events import KojiEventListener
from ridad.transitions import Transitions
from tests.db.test_driver import EPOCH, Rig, _driver, platform_build, world
from tests.unit.koji.simworld import SimWorld

__all__ = ["world"]


@pytest.fixture
def metered(pool: Pool, world: SimWorld) -> tuple[Rig, Metrics]:
    """A driver and transitions reporting to one Metrics."""
    metrics = Metrics()
    transitions = Transitions(pool=pool, clock=world.clock, metrics=metrics)
    driver = _driver(pool, world, transitions, [], metrics)
    return Rig(pool, world, transitions, driver, []), metrics


@pytest_twisted.ensureDeferred
async def test_an_event_is_timed_to_the_change_it_caused(
    metered: tuple[Rig, Metrics],
) -> None:
    """The listener notes an event about the macros task; the cycle that
    records the task's end observes the time since; an event whose poll
    changed nothing is forgotten."""
    rig, metrics = metered
    get = metrics.registry.get_sample_value
    module_build_id, _ = await rig.transitions.create_module_build(platform_build())
    building = await rig.step_until(
        module_build_id,
        lambda s: any(c.state is ComponentState.BUILDING for c in s.components),
    )
    (task_id,) = [c.task_id for c in building.components if c.task_id]
    listener = KojiEventListener(
        format="koji",
        tracked_tasks=lambda: rig.driver.tracked_tasks,
        tracked_tags=lambda: rig.driver.tracked_tags,
        poke=lambda: None,
        noted=rig.driver.note_event,
    )
    await rig.driver.cycle(EPOCH)  # tracks the task; kojisim has not run it yet
    assert task_id in rig.driver.tracked_tasks
    body = {"info": {"id": task_id, "method": "build"}, "old": "FREE", "new": "OPEN"}
    headers = {"id": str(task_id), "new": "OPEN"}
    listener.handle("/topic/koji.task.open", headers, json.dumps(body).encode())
    assert metrics.events.pending == 1
    rig.world.run_until_idle()
    await rig.driver.cycle(EPOCH)
    assert get("ridad_koji_event_to_change_seconds_count") == 1
    assert get("ridad_koji_event_to_change_seconds_sum") > 0
    rig.driver.note_event(task_id)  # answered by a poll that finds nothing new
    await rig.cycle_until(module_build_id, ModuleState.READY, ModuleState.FAILED)
    assert metrics.events.pending == 0
    assert get("ridad_koji_event_to_change_seconds_count") == 1
    assert get("ridad_builds_cycle_tasks_sum") >= 3
    moves = "ridad_module_state_changes_total"
    assert get(moves, {"from": "none", "to": "init"}) == 1
    assert get(moves, {"from": "done", "to": "ready"}) == 1
    component = "ridad_component_state_changes_total"
    assert get(component, {"from": "building", "to": "complete"}) == 3
