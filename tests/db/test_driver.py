"""The build driver, cycle by cycle on a fake clock, against kojisim in this
process and real PostgreSQL: the first place a scheduler change is checked
(the integration tests run the same paths with real processes and time)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import koji
import pytest
import pytest_twisted

from ridad.bus.publisher import validate_body
from ridad.config.model import KojiConfig
from ridad.db.builds import ModuleBuildStore, SchedulingStore
from ridad.db.pool import Pool
from ridad.domain.builds import (
    BuildSnapshot,
    ComponentBuild,
    ModuleBuild,
    NewModuleBuild,
)
from ridad.domain.states import ComponentState, ModuleState
from ridad.metrics.instruments import Metrics
from ridad.scheduler.cgimport import make_importer
from ridad.scheduler.driver import BuildDriver
from ridad.scheduler.macros import MacrosSrpm
from ridad.transitions import Transitions
from tests.db.test_api_expansion import ready_build
from tests.db.test_transitions import new_build
from tests.helpers import run_inline
from tests.unit.koji.simworld import SimWorld, make_sim_world
from tests.unit.kojisim.support import HubClient

EPOCH = 0  # a fresh database's lease epoch
MODULE_TAG = "module-one-main-1-c0ffee00"


def platform_build(name: str = "one") -> NewModuleBuild:
    """A submission buildrequiring platform:f40, whose Koji tag exists."""
    base = new_build(name)
    return NewModuleBuild(
        **{
            **base.__dict__,
            "buildrequires": {
                "platform": {
                    "stream": "f40",
                    "koji_tag": "f40-build",
                    "base_module": True,
                }
            },
        }
    )


@dataclass
class Rig:
    """A driver, its Koji world, and the database it writes."""

    pool: Pool
    world: SimWorld
    transitions: Transitions
    driver: BuildDriver
    macros_built: list[ModuleBuild]

    async def cycle(self) -> None:
        """One driver cycle, then let kojisim run what it was given."""
        await self.driver.cycle(EPOCH)
        self.world.run_until_idle()

    async def cycle_until(
        self, module_build_id: int, *states: ModuleState
    ) -> BuildSnapshot:
        """Cycle until the build reaches one of ``states`` (at most 40 cycles)."""
        for _ in range(40):
            snapshot = await self.read(module_build_id)
            if snapshot.build.state in states:
                return snapshot
            await self.cycle()
        raise AssertionError(f"build {module_build_id} is {snapshot.build.state}")

    async def step_until(
        self, module_build_id: int, wanted: Callable[[BuildSnapshot], bool]
    ) -> BuildSnapshot:
        """Cycle, letting kojisim run between cycles, until the build just
        written is ``wanted`` (checked before kojisim runs; at most 40 cycles)."""
        for _ in range(40):
            await self.driver.cycle(EPOCH)
            snapshot = await self.read(module_build_id)
            if wanted(snapshot):
                return snapshot
            self.world.run_until_idle()
        raise AssertionError(f"build {module_build_id} never got there")

    async def read(self, module_build_id: int) -> BuildSnapshot:
        """The build as the database has it."""
        store = ModuleBuildStore(pool=self.pool)
        build, components = await store.get_with_components(module_build_id)
        return BuildSnapshot(build, tuple(components))

    async def messages(self) -> list[tuple[str, dict[str, Any]]]:
        """The outbox, each message checked against its schema."""
        rows = await self.pool.run_query("SELECT topic, body FROM outbox ORDER BY id")
        found = []
        for row in rows:
            body = (
                row["body"]
                if isinstance(row["body"], dict)
                else json.loads(row["body"])
            )
            validate_body(row["topic"], body)
            found.append((row["topic"], body))
        return found

    def new_driver(self) -> BuildDriver:
        """Another driver on the same database and hub (a restarted process)."""
        return _driver(self.pool, self.world, self.transitions, self.macros_built)


def _driver(
    pool: Pool,
    world: SimWorld,
    transitions: Transitions,
    built: list[ModuleBuild],
    metrics: Metrics | None = None,
) -> BuildDriver:
    async def build_macros(build: ModuleBuild, dist: str) -> MacrosSrpm:
        built.append(build)
        name = "module-build-macros-0.1-1.src.rpm"
        return MacrosSrpm(name, b"srpm bytes", "module-build-macros-0.1-1", ".m")

    return BuildDriver(
        store=SchedulingStore(pool=pool),
        koji=world.koji,
        transitions=transitions,
        config=KojiConfig(hub="http://kojihub.test/kojihub"),
        clock=world.clock,
        build_macros=build_macros,
        importer=make_importer(
            pool=pool,
            koji=world.koji,
            transitions=transitions,
            config=KojiConfig(hub="http://kojihub.test/kojihub"),
            clock=world.clock,
            run_blocking=run_inline,
        ),
        metrics=metrics,
    )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[SimWorld]:
    """kojisim with the platform's build tag, on a fake clock at 2026-12-01."""
    made = make_sim_world(str(tmp_path / "uploads"))
    made.clock.advance(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    admin = HubClient(made.sim)
    admin.login()
    admin.call("createTag", "f40-build", arches="x86_64")
    yield made
    made.sim.stop()


@pytest.fixture
def rig(pool: Pool, world: SimWorld) -> Rig:
    """A driver on the test database and the simulated hub."""
    transitions = Transitions(pool=pool, clock=world.clock)
    built: list[ModuleBuild] = []
    return Rig(
        pool, world, transitions, _driver(pool, world, transitions, built), built
    )


@pytest_twisted.ensureDeferred
async def test_module_goes_from_init_through_batches_to_ready(rig: Rig) -> None:
    """module-build-macros, then the batch of a and b, each tagged and in a
    new repo before the next; the build ends ready, every message valid."""
    module_build_id, _ = await rig.transitions.create_module_build(platform_build())
    done = await rig.cycle_until(module_build_id, ModuleState.READY, ModuleState.FAILED)
    assert done.build.state is ModuleState.READY, done.build.state_reason
    assert [(c.name, c.state, c.tagged) for c in done.components] == [
        ("module-build-macros", ComponentState.COMPLETE, True),
        ("a", ComponentState.COMPLETE, True),
        ("b", ComponentState.COMPLETE, True),
    ]
    assert rig.macros_built[0].rpm_macros == "%demo 1\n"
    module_states = [
        body["state"]
        for topic, body in await rig.messages()
        if topic.startswith("module")
    ]
    assert module_states == ["init", "wait", "build", "done", "ready"]
    tagged = HubClient(rig.world.sim).call("listTagged", MODULE_TAG)
    assert {b["nvr"] for b in tagged} == {"a-1.0-1", "b-1.0-1"}


@pytest_twisted.ensureDeferred
async def test_failed_component_fails_the_module_with_koji_reason(rig: Rig) -> None:
    """A build task that fails makes its component and then the module failed,
    with the reason Koji gave (the module with its first line only: the
    component's goes on with its log, see test_driver_failure_logs.py)."""
    rig.world.sim.fail_packages.add("b")
    module_build_id, _ = await rig.transitions.create_module_build(platform_build())
    done = await rig.cycle_until(module_build_id, ModuleState.READY, ModuleState.FAILED)
    assert done.build.state is ModuleState.FAILED
    b = next(c for c in done.components if c.name == "b")
    assert b.state is ComponentState.FAILED
    assert b.state_reason and b.state_reason != "the Koji task failed"
    assert done.build.state_reason == (
        f"Component b failed in Koji task {b.task_id}: {b.state_reason.splitlines()[0]}"
    )
    component_messages = [
        body for topic, body in await rig.messages() if topic.startswith("component")
    ]
    assert ("b", "failed") in {(m["component"], m["state"]) for m in component_messages}


def _named(snapshot: BuildSnapshot, name: str) -> ComponentBuild:
    return next(c for c in snapshot.components if c.name == name)


@pytest_twisted.ensureDeferred
async def test_cancel_cancels_the_open_koji_tasks(rig: Rig) -> None:
    """A build canceled while its batch builds gets its Koji tasks canceled,
    and its building components end canceled."""
    module_build_id, _ = await rig.transitions.create_module_build(platform_build())
    snapshot = await rig.step_until(
        module_build_id, lambda s: _named(s, "a").task_id is not None
    )
    a = _named(snapshot, "a")
    assert a.state is ComponentState.BUILDING
    canceled, _ = await rig.transitions.cancel(
        module_build_id, "Canceled by alice", allowed_from=(ModuleState.BUILD,)
    )
    assert canceled.build.state is ModuleState.FAILED
    await rig.driver.cycle(EPOCH)
    assert rig.world.sim.tasks[a.task_id].state == koji.TASK_STATES["CANCELED"]
    await rig.driver.cycle(EPOCH)
    after = await rig.read(module_build_id)
    assert after.component(a.id).state is ComponentState.CANCELED
    assert after.component(_named(snapshot, "b").id).state is ComponentState.CANCELED


@pytest_twisted.ensureDeferred
async def test_restart_adopts_or_forgets_submissions_recorded_before_a_crash(
    rig: Rig,
) -> None:
    """A submission intent whose build Koji got is adopted (its task tracked);
    one Koji never got is forgotten and submitted again."""
    module_build_id, _ = await rig.transitions.create_module_build(platform_build())
    snapshot = await rig.step_until(
        module_build_id, lambda s: s.build.repo_task_id is not None
    )
    rig.world.run_until_idle()  # the buildroot of batch 2 is ready in Koji
    a, b = _named(snapshot, "a"), _named(snapshot, "b")
    assert a.submitted_at is None and b.submitted_at is None
    # The crashed process wrote both intents; Koji got a's build only.
    await rig.transitions.record_submission_intent(
        module_build_id, [a.id, b.id], epoch=EPOCH
    )
    [task] = await rig.world.koji.submit_builds([(a.source or "", MODULE_TAG)])
    restarted = rig.new_driver()
    await restarted.cycle(EPOCH)
    after = await rig.read(module_build_id)
    assert after.component(a.id).state is ComponentState.BUILDING
    assert after.component(a.id).task_id == task.task_id
    assert after.component(b.id).submitted_at is None
    rig.driver = restarted
    rig.world.run_until_idle()
    done = await rig.cycle_until(module_build_id, ModuleState.READY, ModuleState.FAILED)
    assert done.build.state is ModuleState.READY, done.build.state_reason
    assert done.component(a.id).task_id == task.task_id
    assert done.component(b.id).attempt == 2


@pytest_twisted.ensureDeferred
async def test_filtered_rpms_of_a_buildrequired_module_are_recorded(
    rig: Rig, world: SimWorld
) -> None:
    """The RPMs a buildrequired module filters are read from its Koji tag
    when the build is prepared: recorded in the buildrequires (so in
    xmd.mbs) and given to module-build-macros as Conflicts."""
    admin = HubClient(world.sim)
    admin.login()
    admin.call("createTag", "py")
    admin.call("createTag", "py-build", arches="x86_64")
    admin.call("createBuildTarget", "py", "py-build", "py")
    admin.call("packageListAdd", "py", "alpha", owner="admin")
    world.sim.kojira_repo("py-build")
    source = "git+https://src.example.org/rpms/alpha.git?#0123456789abcdef"
    await world.koji.submit_builds([(source, "py")])
    world.run_until_idle()
    await world.koji.tag_builds([("py", "alpha-1.0-1")])
    world.run_until_idle()
    python = await ready_build(
        rig.pool, "python", "3.12", 1, koji_tag="py",
        modulemd="document: modulemd\nversion: 2\ndata:\n"
        "  name: python\n  stream: '3.12'\n  filter: {rpms: [alpha]}\n",
    )  # fmt: skip
    base = platform_build()
    python_entry = {"stream": "3.12", "koji_tag": "py", "module_build_id": python}
    submitted = NewModuleBuild(
        **{
            **base.__dict__,
            "buildrequires": {**base.buildrequires, "python": python_entry},
        }
    )
    module_build_id, _ = await rig.transitions.create_module_build(submitted)
    built = await rig.cycle_until(module_build_id, ModuleState.BUILD)
    recorded = built.build.buildrequires
    assert recorded["python"]["filtered_rpms"] == ["alpha-0:1.0-1"]
    assert recorded["platform"]["filtered_rpms"] == []
    assert rig.macros_built[0].buildrequires == recorded


@pytest_twisted.ensureDeferred
async def test_a_resubmitted_build_whose_macros_failed_makes_them_again(
    rig: Rig,
) -> None:
    """module-build-macros failed, so the build failed; submitted again, the
    resubmission resets the macros component and the wait step makes and
    uploads its SRPM again (it was once submitted with no source at all)."""
    macros_package = "module"  # the name kojisim reads from this rig's SRPM
    rig.world.sim.fail_packages.add(macros_package)
    module_build_id, _ = await rig.transitions.create_module_build(platform_build())
    failed = await rig.cycle_until(
        module_build_id, ModuleState.READY, ModuleState.FAILED
    )
    assert failed.build.state is ModuleState.FAILED
    assert "module-build-macros" in (failed.build.state_reason or "")
    rig.world.sim.fail_packages.discard(macros_package)
    _, new = await rig.transitions.create_module_build(platform_build())
    assert new is False
    done = await rig.cycle_until(module_build_id, ModuleState.READY, ModuleState.FAILED)
    assert done.build.state is ModuleState.READY, done.build.state_reason
    assert len(rig.macros_built) == 2
    [macros] = [c for c in done.components if c.name == "module-build-macros"]
    assert macros.source and macros.state is ComponentState.COMPLETE
