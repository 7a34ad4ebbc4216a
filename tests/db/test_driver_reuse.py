"""Component reuse in the build driver, cycle by cycle against kojisim in
this process and real PostgreSQL: a second build of a module with nothing
changed reuses every component and module-build-macros (nothing is built
or uploaded), the reuse is recorded before the tagging, and a driver
restarted after the reuse was recorded, before or after Koji tagged the
NVRs, finishes the build without building anything."""

from __future__ import annotations

from dataclasses import replace

import pytest
import pytest_twisted

from ridad.domain.builds import BuildSnapshot
from ridad.domain.rebuild import ALL, REUSED_REASON
from ridad.domain.states import ComponentState, ModuleState
from tests.db.test_driver import Rig, platform_build
from tests.db.test_driver import rig as rig  # noqa: F401 - fixtures
from tests.db.test_driver import world as world  # noqa: F401
from tests.unit.kojisim.support import HubClient

SECOND_TAG = "module-one-main-2-c0ffee00"


def build_tasks(rig: Rig) -> int:
    return sum(1 for t in rig.world.sim.tasks.values() if t.method == "build")


async def first_ready(rig: Rig) -> BuildSnapshot:
    first_id, _ = await rig.transitions.create_module_build(platform_build())
    done = await rig.cycle_until(first_id, ModuleState.READY, ModuleState.FAILED)
    assert done.build.state is ModuleState.READY, done.build.state_reason
    return done


def reused_untagged(snapshot: BuildSnapshot) -> bool:
    return any(
        c.reused_component_id is not None and not c.tagged for c in snapshot.components
    )


@pytest_twisted.ensureDeferred
async def test_nothing_changed_reuses_everything_and_builds_nothing(rig: Rig) -> None:
    """The second version reuses a, b and module-build-macros from the
    first: no Koji build, no macros SRPM made; each component is complete
    with the first build's NVR, Koji build and task and the reuse reason,
    tagged into the new tags; every message is valid."""
    first = await first_ready(rig)
    tasks = build_tasks(rig)
    second_id, _ = await rig.transitions.create_module_build(
        replace(platform_build(), version=2)
    )
    done = await rig.cycle_until(second_id, ModuleState.READY, ModuleState.FAILED)
    assert done.build.state is ModuleState.READY, done.build.state_reason
    assert done.build.reused_module_id == first.build.id
    assert build_tasks(rig) == tasks
    assert len(rig.macros_built) == 1
    old = {c.name: c for c in first.components}
    for c in done.components:
        previous = old[c.name]
        assert (c.state, c.tagged, c.state_reason) == (
            ComponentState.COMPLETE,
            True,
            REUSED_REASON,
        )
        assert (c.nvr, c.koji_build_id, c.task_id) == (
            previous.nvr,
            previous.koji_build_id,
            previous.task_id,
        )
        assert c.reused_component_id == previous.id
    hub = HubClient(rig.world.sim)
    assert {b["nvr"] for b in hub.call("listTagged", SECOND_TAG)} == {
        "a-1.0-1",
        "b-1.0-1",
    }
    # The rig's fake macros SRPM makes a build of package "module", which no
    # package list holds, so Koji's listTagged leaves it out.
    in_build_tag = {b["nvr"] for b in hub.call("listTagged", SECOND_TAG + "-build")}
    assert in_build_tag == {"a-1.0-1", "b-1.0-1"}
    reused_messages = [
        body
        for topic, body in await rig.messages()
        if topic.startswith("component") and body["state_reason"] == REUSED_REASON
    ]
    assert len(reused_messages) == 3


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("tagged_before_crash", [False, True])
async def test_a_restart_after_recording_reuse_tags_and_finishes(
    rig: Rig, tagged_before_crash: bool
) -> None:
    """The driver stops right after recording reuse (components complete,
    untagged); with Koji having tagged the NVRs meanwhile or not, a new
    driver tags what is missing and the build becomes ready."""
    await first_ready(rig)
    tasks = build_tasks(rig)
    second_id, _ = await rig.transitions.create_module_build(
        replace(platform_build(), version=2)
    )
    stopped = await rig.step_until(second_id, reused_untagged)
    hub = HubClient(rig.world.sim)
    hub.login()
    if tagged_before_crash:
        for c in stopped.components:
            if c.reused_component_id is not None and not c.tagged:
                hub.call("tagBuildBypass", SECOND_TAG + "-build", c.nvr)
    restarted = replace(rig, driver=rig.new_driver())
    done = await restarted.cycle_until(second_id, ModuleState.READY, ModuleState.FAILED)
    assert done.build.state is ModuleState.READY, done.build.state_reason
    assert all(c.tagged and c.reused_component_id for c in done.components)
    assert build_tasks(rig) == tasks


@pytest_twisted.ensureDeferred
async def test_all_builds_everything_again(rig: Rig) -> None:
    """Under ``all`` no build is chosen to reuse from and every component
    (the macros too) is submitted to Koji."""
    await first_ready(rig)
    second = replace(platform_build(), version=2, rebuild_strategy=ALL)
    second_id, _ = await rig.transitions.create_module_build(second)
    snapshot = await rig.step_until(
        second_id,
        lambda s: any(c.state is ComponentState.BUILDING for c in s.components),
    )
    assert snapshot.build.reused_module_id is None
    assert all(c.reused_component_id is None for c in snapshot.components)
    assert len(rig.macros_built) == 2
