"""The build driver when Koji's answer to a write is lost after the hub ran it.

kojisim commits the request, answers 502 as a failing proxy would, and
refuses the client's resend (same call number) with RetryError 1009, as a
real hub does. For each write method ridad uses, the module must still reach
``ready`` and Koji must hold no duplicate: one tag of each name, one target,
one task per component and one newRepo task, each build tagged once.

The client waits on the fake clock before resending, so these cycles advance
it while they wait (for PostgreSQL, on the real reactor, too).
"""

from __future__ import annotations

from collections import Counter

import koji
import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.task import deferLater

from ridad.domain.builds import BuildSnapshot
from ridad.domain.states import ComponentState, ModuleState
from ridad.kojisim.hub import LOSE_BY_CLOSING
from tests.db import test_driver
from tests.db.test_driver import EPOCH, MODULE_TAG, Rig, platform_build

world = test_driver.world
rig = test_driver.rig

#: Every hub method through which ridad changes Koji while building a module.
WRITES = (
    "createTag",
    "setInheritanceData",
    "groupListAdd",
    "groupPackageListAdd",
    "packageListAdd",
    "createBuildTarget",
    "rawUpload",
    "build",
    "tagBuildBypass",
    "newRepo",
)


async def pumped(rig: Rig) -> None:
    """One driver cycle, the fake clock moving while it waits."""
    cycle = Deferred.fromCoroutine(rig.driver.cycle(EPOCH))
    while not cycle.called:
        rig.world.clock.advance(0.25)
        await deferLater(reactor, 0, lambda: None)
    await cycle


async def pumped_cycle(rig: Rig) -> None:
    """One driver cycle with the fake clock moving, then kojisim's work."""
    await pumped(rig)
    rig.world.run_until_idle()


async def run_to_end(rig: Rig, module_build_id: int) -> BuildSnapshot:
    """Cycle until the build is ready or failed (at most 40 cycles)."""
    for _ in range(40):
        snapshot = await rig.read(module_build_id)
        if snapshot.build.state in (ModuleState.READY, ModuleState.FAILED):
            return snapshot
        await pumped_cycle(rig)
    raise AssertionError(f"build {module_build_id} is {snapshot.build.state}")


def assert_nothing_twice(rig: Rig) -> None:
    """One of each tag and of the target, one task per component and one
    newRepo task, every build tagged once into each of its tags."""
    state = rig.world.sim.state
    tags = Counter(t.name for t in state.tags.values())
    assert tags == {"f40-build": 1, MODULE_TAG: 1, f"{MODULE_TAG}-build": 1}
    assert [t.name for t in state.targets.values()] == [MODULE_TAG]
    assert Counter(t.method for t in state.tasks.values()) == {"build": 3, "newRepo": 2}
    taggings = Counter((g.tag_id, g.build_id) for g in state.taggings)
    assert len(taggings) == 5 and set(taggings.values()) == {1}
    assert len(state.inheritance) == 1


@pytest.mark.parametrize("method", WRITES)
@pytest_twisted.ensureDeferred
async def test_module_reaches_ready_when_the_answer_to_a_write_is_lost(
    rig: Rig, method: str
) -> None:
    """The first request calling ``method`` commits and loses its answer;
    ridad reads back what Koji did and the module still ends ready."""
    rig.world.sim.lose_answer(method)
    module_build_id, _ = await rig.transitions.create_module_build(platform_build())
    done = await run_to_end(rig, module_build_id)
    assert done.build.state is ModuleState.READY, done.build.state_reason
    assert [c.attempt for c in done.components] == [1, 1, 1]
    assert rig.world.sim.answers_to_lose == 0
    assert sum(r.count(method) for r in rig.world.agent.sent) >= 2
    assert_nothing_twice(rig)


@pytest_twisted.ensureDeferred
async def test_answers_lost_by_closed_connections_on_every_write(rig: Rig) -> None:
    """Each write loses its first answer to a closed connection: still one
    of everything and a ready module."""
    for method in WRITES:
        rig.world.sim.lose_answer(method, how=LOSE_BY_CLOSING)
    module_build_id, _ = await rig.transitions.create_module_build(platform_build())
    done = await run_to_end(rig, module_build_id)
    assert done.build.state is ModuleState.READY, done.build.state_reason
    assert rig.world.sim.answers_to_lose == 0
    assert_nothing_twice(rig)


@pytest_twisted.ensureDeferred
async def test_lost_answer_to_cancel_still_cancels(rig: Rig) -> None:
    """cancelTask ran but its answer was lost: the open tasks are canceled
    once and the components end canceled."""
    module_build_id, _ = await rig.transitions.create_module_build(platform_build())
    snapshot = await rig.step_until(
        module_build_id, lambda s: all(c.task_id for c in s.components[1:])
    )
    rig.world.sim.pause_builder()  # a and b wait, free
    building = [c for c in snapshot.components if c.state is ComponentState.BUILDING]
    await rig.transitions.cancel(
        module_build_id, "Canceled by alice", allowed_from=(ModuleState.BUILD,)
    )
    rig.world.sim.lose_answer("cancelTask")
    await pumped(rig)
    canceled = koji.TASK_STATES["CANCELED"]
    assert [rig.world.sim.tasks[c.task_id].state for c in building] == [canceled] * 2
    await pumped(rig)
    after = await rig.read(module_build_id)
    assert [after.component(c.id).state for c in building] == [
        ComponentState.CANCELED
    ] * 2
    assert sum(request.count("cancelTask") for request in rig.world.agent.sent) == 4


async def _macros_tagged(rig: Rig) -> int:
    """A build whose macros are built and tagged, no newRepo asked for yet."""
    module_build_id, _ = await rig.transitions.create_module_build(platform_build())
    await rig.step_until(
        module_build_id, lambda s: bool(s.components) and s.components[0].tagged
    )
    snapshot = await rig.read(module_build_id)
    assert snapshot.build.repo_task_id is None
    assert snapshot.build.repo_requested_at is None
    return module_build_id


@pytest_twisted.ensureDeferred
async def test_restart_adopts_the_new_repo_task_of_a_written_intent(
    rig: Rig,
) -> None:
    """A process wrote the newRepo intent, Koji made the task, the process
    died before recording it: the restarted driver adopts that task."""
    module_build_id = await _macros_tagged(rig)
    await rig.transitions.record_repo_task(module_build_id, None, epoch=EPOCH)
    task_id = await rig.world.client.call("newRepo", f"{MODULE_TAG}-build")
    restarted = rig.new_driver()
    await restarted.cycle(EPOCH)
    after = await rig.read(module_build_id)
    assert (after.build.repo_task_id, after.build.repo_requested_at) == (task_id, None)
    rig.driver = restarted
    rig.world.run_until_idle()
    done = await run_to_end(rig, module_build_id)
    assert done.build.state is ModuleState.READY, done.build.state_reason
    assert_nothing_twice(rig)


@pytest_twisted.ensureDeferred
async def test_intent_whose_new_repo_never_reached_koji_starts_one(
    rig: Rig,
) -> None:
    """An intent with no newRepo task in Koji behind it: one is started."""
    module_build_id = await _macros_tagged(rig)
    before = {t.id for t in rig.world.sim.tasks.values() if t.method == "newRepo"}
    await rig.transitions.record_repo_task(module_build_id, None, epoch=EPOCH)
    await rig.new_driver().cycle(EPOCH)
    after = await rig.read(module_build_id)
    tasks = [
        t.id
        for t in rig.world.sim.tasks.values()
        if t.method == "newRepo" and t.id not in before
    ]
    assert tasks == [after.build.repo_task_id]
    assert after.build.repo_requested_at is None


@pytest_twisted.ensureDeferred
async def test_close_logs_out_of_koji_and_the_next_cycle_logs_in(rig: Rig) -> None:
    """The driver's close() (when the scheduler stops) closes its Koji
    session; a later cycle opens a new one; a hub that does not answer is
    only logged."""
    module_build_id, _ = await rig.transitions.create_module_build(platform_build())
    await rig.cycle_until(module_build_id, ModuleState.BUILD)
    sim = rig.world.sim
    opened = sim.open_sessions()
    assert opened == 2  # the fixture's admin client, and ridad
    await rig.driver.close()
    assert sim.open_sessions() == opened - 1
    await rig.driver.close()
    assert sim.open_sessions() == opened - 1
    await rig.cycle()
    assert sim.open_sessions() == opened
    rig.world.agent.refusals.append(ConnectionRefusedError())
    await rig.driver.close()
    assert (await rig.read(module_build_id)).build.state is not ModuleState.FAILED
