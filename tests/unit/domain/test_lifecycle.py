"""Pure rules of a build's life after it was built: the garbage state's
moves, progress, the reason a stuck build fails with, retiring."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from ridad.domain.builds import BuildSnapshot
from ridad.domain.lifecycle import (
    RETIRABLE,
    STUCK_STATES,
    check_stalled,
    current_batch,
    garbage_reason,
    last_progress,
    stuck_reason,
)
from ridad.domain.states import (
    ComponentState,
    ModuleState,
    module_transition_allowed,
)
from ridad.errors import InvalidRequest
from tests.unit.domain.test_scheduling import NOW, component, module

BUILDING = ComponentState.BUILDING
COMPLETE = ComponentState.COMPLETE


def test_garbage_is_mbs_state_6_reached_from_failed_and_ready_only() -> None:
    """garbage is number 6 as in MBS; failed and ready move there, nothing leaves it."""
    assert (ModuleState.GARBAGE.label, ModuleState.GARBAGE.number) == ("garbage", 6)
    assert ModuleState.from_label("garbage") is ModuleState.GARBAGE
    sources = {
        s for s in ModuleState if module_transition_allowed(s, ModuleState.GARBAGE)
    }
    assert sources == {ModuleState.FAILED, ModuleState.READY}
    assert not any(
        module_transition_allowed(ModuleState.GARBAGE, s) for s in ModuleState
    )
    assert module_transition_allowed(ModuleState.FAILED, ModuleState.INIT)


def test_stuck_and_retirable_states() -> None:
    """Builds stick in init, wait and build (not done: gating may take long);
    ready and failed builds may be retired."""
    assert STUCK_STATES == (ModuleState.INIT, ModuleState.WAIT, ModuleState.BUILD)
    assert RETIRABLE == (ModuleState.READY, ModuleState.FAILED)


def test_last_progress_is_the_newest_state_change_of_build_or_component() -> None:
    """The build's time_modified, or a component's when later."""
    later = NOW + timedelta(hours=3)
    build = module()
    components = [component(1, "a", 2), component(2, "b", 2, time_modified=later)]
    assert last_progress(build, components) == later
    assert last_progress(build, []) == NOW


def test_check_stalled_refuses_a_build_that_moved_since() -> None:
    """A component changed at the cut-off counts as progress."""
    snapshot = BuildSnapshot(module(), (component(1, "a", 2),))
    check_stalled(snapshot, NOW + timedelta(seconds=1))
    with pytest.raises(InvalidRequest, match="Module build 1 made progress after"):
        check_stalled(snapshot, NOW)


def test_stuck_reason_names_state_batch_and_building_tasks() -> None:
    """In build: the lowest batch not complete and each building component
    with its Koji task."""
    components = [
        component(1, "module-build-macros", 1, state=COMPLETE),
        component(2, "a", 2, state=BUILDING, task_id=101),
        component(3, "b", 2, state=BUILDING, task_id=102),
        component(4, "c", 3),
    ]
    assert stuck_reason(module(), components, 7) == (
        "No progress for 7 days: the build stopped in state build, batch 2,"
        " building a (task 101), b (task 102)"
    )


def test_stuck_reason_with_nothing_building_and_a_repo_pending() -> None:
    """Nothing building, a newRepo task pending: both are said."""
    components = [component(1, "a", 2, state=COMPLETE), component(2, "b", 3)]
    build = module(repo_task_id=77)
    assert stuck_reason(build, components, 7.5) == (
        "No progress for 7.5 days: the build stopped in state build, batch 3,"
        " nothing building, waiting for newRepo task 77"
    )


def test_stuck_reason_of_a_build_that_never_started() -> None:
    """In init without components, only the state is known."""
    build = replace(module(), state=ModuleState.INIT)
    assert stuck_reason(build, [], 7) == (
        "No progress for 7 days: the build stopped in state init"
    )


def test_current_batch_is_the_lowest_not_complete() -> None:
    """All complete: None."""
    assert current_batch([component(1, "a", 2, state=COMPLETE)]) is None
    assert current_batch([component(1, "a", 4), component(2, "b", 3)]) == 3


def test_garbage_reason_says_how_long_ago() -> None:
    """The reason of a collected build names the days."""
    assert garbage_reason(180) == (
        "Garbage collected: the build failed more than 180 days ago"
    )
