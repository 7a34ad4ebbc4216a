"""The leader's sweeps on a fake clock, against kojisim in this process and
real PostgreSQL: a build's Koji target deleted hours after it ended (once,
tags left), a stuck build failed with where it stopped, an old failed build
untagged and collected as garbage, every change announced, nothing written
under a stale lease epoch."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import koji
import pytest
import pytest_twisted
from twisted.internet.task import Clock, deferLater

from ridad.db.leases import take_lease
from ridad.db.pool import Pool
from ridad.domain.builds import NewModuleBuild
from ridad.domain.states import ComponentState, ModuleState
from ridad.errors import NotLeader
from ridad.leader.lock import SchedulerLock
from ridad.leader.service import LeaderJob, LeaderService
from ridad.scheduler.sweeps import SWEEP_INTERVAL_SECONDS
from tests.db.sweeps_rig import BUILD_TAG, EPOCH, Rig, make_driver, make_sweeps
from tests.db.test_driver import MODULE_TAG, platform_build
from tests.helpers import wait_for
from tests.unit.koji.simworld import SimWorld, make_sim_world


@pytest.fixture
def world(tmp_path: Path) -> Any:
    """kojisim with the platform's build tag, on a fake clock at 2026-12-01."""
    made = make_sim_world(str(tmp_path / "uploads"))
    made.clock.advance(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    made.admin().call("createTag", "f40-build", arches="x86_64")
    yield made
    made.sim.stop()


@pytest.fixture
def rig(pool: Pool, world: SimWorld) -> Rig:
    return Rig(pool, world)


def _nvrs(world: SimWorld, tag: str) -> set[str]:
    """The NVRs Koji has in ``tag``."""
    return {b["nvr"] for b in world.admin().call("listTagged", tag)}


def _now(world: SimWorld) -> datetime:
    return datetime.fromtimestamp(world.clock.seconds(), tz=UTC)


async def _target_deleted_at(pool: Pool, module_build_id: int) -> datetime | None:
    rows = await pool.run_query(
        "SELECT target_deleted_at FROM module_builds WHERE id = %s",
        (module_build_id,),
    )
    return rows[0]["target_deleted_at"]


@pytest_twisted.ensureDeferred
async def test_target_is_deleted_24_hours_after_the_build_ended_and_only_once(
    rig: Rig,
) -> None:
    """A ready build keeps its target for 24 hours after done; then the sweep
    deletes it (tags stay) and records it, and no later sweep asks again."""
    module_build_id, _ = await rig.transitions.create_module_build(platform_build())
    await rig.cycle_until(module_build_id, ModuleState.READY)
    assert (
        rig.world.admin().call("getBuildTarget", MODULE_TAG)["dest_tag_name"]
        == MODULE_TAG
    )
    rig.later(hours=23, minutes=59)
    assert await rig.sweeps.delete_targets(EPOCH, _now(rig.world)) == []
    assert rig.world.admin().call("getBuildTarget", MODULE_TAG) is not None
    rig.later(minutes=2)
    deleted = await rig.sweeps.delete_targets(EPOCH, _now(rig.world))
    assert deleted == [module_build_id]
    assert rig.world.admin().call("getBuildTarget", MODULE_TAG) is None
    assert {
        rig.world.admin().call("getTag", t)["name"] for t in (MODULE_TAG, BUILD_TAG)
    } == {
        MODULE_TAG,
        BUILD_TAG,
    }
    assert await _target_deleted_at(rig.pool, module_build_id) == _now(rig.world)
    assert rig.sent("deleteBuildTarget") == 1
    reads = rig.sent("getBuildTarget")
    rig.later(days=3)
    await rig.sweeps.run(EPOCH)
    assert (rig.sent("deleteBuildTarget"), rig.sent("getBuildTarget")) == (1, reads)
    build = (await rig.read(module_build_id)).build
    assert build.state is ModuleState.READY


@pytest_twisted.ensureDeferred
async def test_target_of_a_resubmitted_build_is_deleted_again(rig: Rig) -> None:
    """A failed build whose target was deleted is submitted again: the target
    is made again, and deleted again 24 hours after the new end."""
    rig.world.sim.fail_packages.add("b")
    module_build_id, _ = await rig.transitions.create_module_build(platform_build())
    await rig.cycle_until(module_build_id, ModuleState.FAILED)
    rig.later(hours=25)
    assert await rig.sweeps.delete_targets(EPOCH, _now(rig.world)) == [module_build_id]
    rig.world.sim.fail_packages.discard("b")
    _, new = await rig.transitions.create_module_build(platform_build())
    assert new is False
    assert await _target_deleted_at(rig.pool, module_build_id) is None
    await rig.cycle_until(module_build_id, ModuleState.READY)
    assert rig.world.admin().call("getBuildTarget", MODULE_TAG) is not None
    rig.later(hours=25)
    assert await rig.sweeps.delete_targets(EPOCH, _now(rig.world)) == [module_build_id]
    assert rig.world.admin().call("getBuildTarget", MODULE_TAG) is None
    assert rig.sent("deleteBuildTarget") == 2


async def _stuck_in_batch_1(rig: Rig) -> tuple[int, int]:
    """A build whose module-build-macros task never starts (the builder is
    paused); answer the build's id and the task's."""
    rig.world.sim.pause_builder()
    module_build_id, _ = await rig.transitions.create_module_build(platform_build())
    for _ in range(6):
        await rig.driver.cycle(EPOCH)
    snapshot = await rig.read(module_build_id)
    macros = snapshot.components[0]
    assert (snapshot.build.state, macros.state) == (
        ModuleState.BUILD,
        ComponentState.BUILDING,
    )
    assert macros.task_id is not None
    return module_build_id, macros.task_id


@pytest_twisted.ensureDeferred
async def test_stuck_build_fails_after_7_days_saying_where_it_stopped(
    rig: Rig,
) -> None:
    """No state change for 6 days: nothing; for 7 days: the build fails with
    its state, batch and building task, announced on the bus; the next cycle
    cancels the task in Koji."""
    module_build_id, task_id = await _stuck_in_batch_1(rig)
    rig.later(days=6)
    assert await rig.sweeps.fail_stuck(EPOCH, _now(rig.world)) == []
    rig.later(days=1, seconds=1)
    assert await rig.sweeps.fail_stuck(EPOCH, _now(rig.world)) == [module_build_id]
    failed = (await rig.read(module_build_id)).build
    # module-build-macros waits for the repo ridad asked for right after it.
    reason = (
        "No progress for 7 days: the build stopped in state build, batch 1,"
        f" building module-build-macros (task {task_id}),"
        f" waiting for newRepo task {failed.repo_task_id}"
    )
    assert (failed.state, failed.state_reason) == (ModuleState.FAILED, reason)
    last = (await rig.module_messages())[-1]
    assert (last["old_state"], last["state"], last["state_reason"]) == (
        "build",
        "failed",
        reason,
    )
    await rig.driver.cycle(EPOCH)
    assert rig.world.sim.tasks[task_id].state == koji.TASK_STATES["CANCELED"]


@pytest_twisted.ensureDeferred
async def test_the_driver_cycle_runs_the_sweeps_every_300_seconds(rig: Rig) -> None:
    """The first cycle runs the sweeps, a cycle within 300 s does not, the
    first cycle after does; a stuck build is failed by a cycle."""
    module_build_id, _ = await _stuck_in_batch_1(rig)
    first = rig.sweeps.last_run_seconds
    assert first is not None
    rig.later(seconds=SWEEP_INTERVAL_SECONDS - 1)
    await rig.driver.cycle(EPOCH)
    assert rig.sweeps.last_run_seconds == first
    rig.later(days=7)
    await rig.driver.cycle(EPOCH)
    assert rig.sweeps.last_run_seconds == rig.world.clock.seconds()
    assert (await rig.read(module_build_id)).build.state is ModuleState.FAILED


def _two_batches() -> NewModuleBuild:
    """a in batch 2, b in batch 3: a is tagged before b builds."""
    base = platform_build()
    a, b = base.components
    return replace(base, components=(a, replace(b, batch=3)))


@pytest_twisted.ensureDeferred
async def test_failed_build_is_untagged_and_garbage_after_180_days(rig: Rig) -> None:
    """b fails after a was tagged: at 179 days nothing; after 180 days every
    complete component is untagged from the module tag and the -build tag in
    Koji and noted untagged, and the build is garbage, announced."""
    rig.world.sim.fail_packages.add("b")
    module_build_id, _ = await rig.transitions.create_module_build(_two_batches())
    await rig.cycle_until(module_build_id, ModuleState.FAILED)
    built = (await rig.read(module_build_id)).components
    a = built[1].nvr
    assert [c.tagged for c in built] == [True, True, False]
    assert _nvrs(rig.world, MODULE_TAG) == _nvrs(rig.world, BUILD_TAG) == {a}
    rig.later(days=179)
    assert await rig.sweeps.collect_garbage(EPOCH, _now(rig.world)) == []
    rig.later(days=1, seconds=1)
    assert await rig.sweeps.collect_garbage(EPOCH, _now(rig.world)) == [module_build_id]
    assert _nvrs(rig.world, MODULE_TAG) == _nvrs(rig.world, BUILD_TAG) == set()
    snapshot = await rig.read(module_build_id)
    reason = "Garbage collected: the build failed more than 180 days ago"
    assert (snapshot.build.state, snapshot.build.state_reason) == (
        ModuleState.GARBAGE,
        reason,
    )
    assert [(c.name, c.state, c.tagged) for c in snapshot.components] == [
        ("module-build-macros", ComponentState.COMPLETE, False),
        ("a", ComponentState.COMPLETE, False),
        ("b", ComponentState.FAILED, False),
    ]
    last = (await rig.module_messages())[-1]
    assert (last["old_state"], last["state"], last["state_reason"]) == (
        "failed",
        "garbage",
        reason,
    )
    assert await rig.sweeps.collect_garbage(EPOCH, _now(rig.world)) == []


@pytest_twisted.ensureDeferred
async def test_sweeps_under_a_stale_epoch_write_nothing(rig: Rig) -> None:
    """Another process took the lease: the stuck build's sweep raises
    NotLeader and the build stays as it was, with no message."""
    module_build_id, _ = await _stuck_in_batch_1(rig)
    await rig.pool.run_interaction(take_lease, "other:1", _now(rig.world))
    messages = len(await rig.module_messages())
    rig.later(days=8)
    with pytest.raises(NotLeader):
        await rig.sweeps.run(EPOCH)
    assert (await rig.read(module_build_id)).build.state is ModuleState.BUILD
    assert len(await rig.module_messages()) == messages


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


def _leader(pool: Pool, holder: str, job: LeaderJob) -> LeaderService:
    """A leader service competing for the real scheduler lock."""
    return LeaderService(
        jobs=[job],
        lock_factory=lambda **callbacks: SchedulerLock(
            pool=pool, clock=_reactor(), holder=holder, retry_seconds=0.1, **callbacks
        ),
    )


@pytest_twisted.ensureDeferred
async def test_sweeps_run_only_on_the_active_scheduler(rig: Rig) -> None:
    """While another process holds the lock, the standby's builds job (whose
    cycle runs the sweeps) never runs and the stuck build stays; once the
    lock passes to it, its first cycle fails the build."""
    module_build_id, _ = await _stuck_in_batch_1(rig)
    rig.later(days=8)
    standby_driver = make_driver(
        rig.pool,
        rig.world,
        rig.transitions,
        make_sweeps(rig.pool, rig.world, rig.transitions),
    )
    cycles: list[int] = []

    async def builds(epoch: int) -> None:
        cycles.append(epoch)
        await standby_driver.cycle(epoch)

    async def idle(epoch: int) -> None:
        return None

    job_clock = Clock()
    active = _leader(
        rig.pool,
        "host-a:1",
        LeaderJob(name="builds", interval_seconds=60.0, run=idle, clock=job_clock),
    )
    job = LeaderJob(name="builds", interval_seconds=60.0, run=builds, clock=job_clock)
    standby = _leader(rig.pool, "host-b:2", job)
    active.startService()
    try:
        await wait_for(lambda: active.role == "active", 5, _reactor())
        standby.startService()
        await wait_for(lambda: standby.role == "standby", 5, _reactor())
        job.poke()
        job_clock.advance(120.0)
        await deferLater(_reactor(), 0.3, lambda: None)
        assert cycles == []
        assert (await rig.read(module_build_id)).build.state is ModuleState.BUILD
        await active.stopService()
        await wait_for(lambda: standby.role == "active", 5, _reactor())

        async def failed() -> bool:
            return (await rig.read(module_build_id)).build.state is ModuleState.FAILED

        await wait_for(failed, 5, _reactor())
        assert len(cycles) >= 1 and cycles[0] >= 2
    finally:
        await standby.stopService()
        if active.running:
            await active.stopService()
