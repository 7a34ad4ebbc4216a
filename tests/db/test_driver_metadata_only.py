"""A metadata-only module (a modulemd without components), against kojisim
and PostgreSQL: as MBS's ``wait`` handler does, it gets its tags, inheritance,
groups and target, builds nothing (no module-build-macros, no newRepo), and
goes straight to the import of its modulemd; every state is announced, and a
process killed before or after any of its records, or a lost answer to any
of its Koji writes, still ends ready with one of each thing in Koji."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import yaml

from ridad.db.builds import SchedulingStore
from ridad.db.cg import CgStore
from ridad.db.pool import Pool
from ridad.domain.builds import ModuleBuild, NewModuleBuild
from ridad.domain.module_import import IMPORTED
from ridad.domain.states import ModuleState
from ridad.modulemd.final import document_artifacts
from ridad.modulemd.parse import load_modulemd
from ridad.scheduler.cgimport import make_importer
from ridad.scheduler.driver import BuildDriver
from ridad.scheduler.macros import MacrosSrpm
from ridad.scheduler.sweeps import BuildSweeps
from ridad.transitions import Transitions
from tests.db.cg_rig import module_builds, sent
from tests.db.sweeps_rig import CONFIG, make_sweeps
from tests.db.test_driver import EPOCH, MODULE_TAG, Rig, platform_build
from tests.db.test_driver_lost_answers import run_to_end
from tests.helpers import run_inline
from tests.unit.koji.simworld import SimWorld, make_sim_world
from tests.unit.kojisim.support import HubClient

#: A module of metadata only: profiles and api naming RPMs of other modules.
MODULEMD = """\
document: modulemd
version: 2
data:
  summary: A module of metadata only
  description: It lists no components; its profiles name RPMs built elsewhere.
  license: {module: [MIT]}
  dependencies:
  - buildrequires: {platform: [f40]}
    requires: {platform: [f40]}
  profiles:
    default: {rpms: [bash]}
  api:
    rpms: [bash]
"""
MODULE_NVR = "one-main-1.c0ffee00"
#: The intents a metadata-only build goes through, in order.
INTENTS = (
    "change_module_state",  # init -> wait
    "record_environment",  # wait -> build
    "record_cg_intent",
    "record_cg_reserved",
    "record_cg_imported",
)
#: Every hub method through which ridad changes Koji for such a build.
WRITES = (
    "createTag",
    "setInheritanceData",
    "groupListAdd",
    "createBuildTarget",
    "CGInitBuild",
    "rawUpload",
    "CGImport",
)


def metadata_only_build() -> NewModuleBuild:
    """The verified submission of module ``one`` without components."""
    return replace(platform_build(), modulemd=MODULEMD, components=())


class KilledTransitions(Transitions):
    """Transitions whose process is killed once, at the ``nth`` call of
    ``intent``: ``before`` it writes (nothing committed) or ``after``."""

    def __init__(
        self, *, intent: str = "", nth: int = 1, when: str = "before", **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.intent, self.left, self.when = intent, nth, when

    async def _call(self, intent: str, *args: Any, **kwargs: Any) -> Any:
        killed = False
        if intent == self.intent:
            self.left -= 1
            killed = self.left == 0
        if killed and self.when == "before":
            raise Killed(intent)
        result = await getattr(super(), intent)(*args, **kwargs)
        if killed:
            raise Killed(intent)
        return result

    async def change_module_state(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("change_module_state", *args, **kwargs)

    async def record_environment(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("record_environment", *args, **kwargs)

    async def record_cg_intent(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("record_cg_intent", *args, **kwargs)

    async def record_cg_reserved(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("record_cg_reserved", *args, **kwargs)

    async def record_cg_imported(self, *args: Any, **kwargs: Any) -> Any:
        return await self._call("record_cg_imported", *args, **kwargs)


class Killed(Exception):
    """Stands for a kill -9 at that point."""


@pytest.fixture
def world(tmp_path: Path) -> Iterator[SimWorld]:
    """kojisim with the platform's build tag, ready for imports."""
    made = make_sim_world(str(tmp_path / "uploads"))
    made.clock.advance(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    made.admin().call("createTag", "f40-build", arches="x86_64")
    yield made
    made.sim.stop()


def _rig(
    pool: Pool, world: SimWorld, sweeps: BuildSweeps | None = None, **killing: Any
) -> Rig:
    """A process: its transitions (killed as ``killing`` says) and a driver
    running the sweeps (``sweeps``, else its own) from its cycle, noting any
    module-build-macros made."""
    transitions = KilledTransitions(pool=pool, clock=world.clock, **killing)
    made: list[ModuleBuild] = []

    async def build_macros(build: ModuleBuild, dist: str) -> MacrosSrpm:
        made.append(build)
        name = "module-build-macros-0.1-1.src.rpm"
        return MacrosSrpm(name, b"srpm bytes", "module-build-macros-0.1-1", ".m")

    driver = BuildDriver(
        store=SchedulingStore(pool=pool),
        koji=world.koji,
        transitions=transitions,
        config=CONFIG,
        clock=world.clock,
        build_macros=build_macros,
        importer=make_importer(
            pool=pool,
            koji=world.koji,
            transitions=transitions,
            config=CONFIG,
            clock=world.clock,
            run_blocking=run_inline,
        ),
        sweeps=sweeps or make_sweeps(pool, world, transitions),
    )
    return Rig(pool, world, transitions, driver, made)


async def _module_states(rig: Rig) -> list[str]:
    return [b["state"] for t, b in await rig.messages() if t.startswith("module")]


async def _assert_ready_once(rig: Rig, module_build_id: int) -> None:
    """Ready, announced once per state; Koji: the two tags and the target
    once, no task at all, one COMPLETE module build."""
    done = await rig.read(module_build_id)
    assert done.build.state is ModuleState.READY, done.build.state_reason
    assert done.components == ()
    assert await _module_states(rig) == ["init", "wait", "build", "done", "ready"]
    state = rig.world.sim.state
    tags = Counter(t.name for t in state.tags.values())
    assert tags == {"f40-build": 1, MODULE_TAG: 1, f"{MODULE_TAG}-build": 1}
    assert [t.name for t in state.targets.values()] == [MODULE_TAG]
    assert [t.method for t in state.tasks.values()] == []
    (koji_build,) = module_builds(rig.world)
    assert (koji_build["nvr"], koji_build["state"]) == (MODULE_NVR, 1)
    assert done.build.koji_build_id == koji_build["build_id"]
    assert rig.macros_built == []


@pytest_twisted.ensureDeferred
async def test_a_module_without_components_goes_straight_to_its_import(
    pool: Pool, world: SimWorld
) -> None:
    """init, wait (tags, inheritance, groups, target; no module-build-macros),
    build, done, ready: every state announced; the Koji build of the module
    holds modulemd.txt and modulemd.x86_64.txt, valid, with no artifacts and
    no RPMs linked."""
    rig = _rig(pool, world)
    module_build_id, _ = await rig.transitions.create_module_build(
        metadata_only_build()
    )
    await run_to_end(rig, module_build_id)
    await _assert_ready_once(rig, module_build_id)
    done = await rig.read(module_build_id)
    assert (done.build.cg_state, done.build.artifact_count) == (IMPORTED, 0)
    hub = HubClient(world.sim)
    assert hub.call("getInheritanceData", f"{MODULE_TAG}-build")[0]["name"] == (
        "f40-build"
    )
    groups = hub.call("getTagGroups", f"{MODULE_TAG}-build", inherit=False)
    assert sorted(g["name"] for g in groups) == ["build", "srpm-build"]
    assert hub.call("listPackages", tagID=MODULE_TAG) == []
    stored = {d.filename: d for d in await CgStore(pool=pool).documents(done.build.id)}
    assert set(stored) == {"modulemd.txt", "modulemd.x86_64.txt"}
    for document in stored.values():
        assert document_artifacts(document.content) == ()
        assert load_modulemd(document.content).rpm_components == ()
        data = yaml.safe_load(document.content)["data"]
        assert "components" not in data and "artifacts" not in data
        assert data["profiles"]["default"]["rpms"] == ["bash"]
    (koji_build,) = module_builds(world)
    archives = hub.call("listArchives", buildID=koji_build["build_id"])
    assert {a["filename"] for a in archives} == set(stored)
    for archive in archives:
        assert hub.call("listRPMs", imageID=archive["id"]) == []
    messages = [b for t, b in await rig.messages() if t.startswith("module")]
    assert messages[-1]["koji_build_id"] == koji_build["build_id"]
    assert [b for t, b in await rig.messages() if t.startswith("component")] == []


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("intent", INTENTS)
@pytest_twisted.ensureDeferred
async def test_a_process_killed_at_any_record_is_resumed_by_the_next(
    pool: Pool, world: SimWorld, intent: str, when: str
) -> None:
    """Killed before or after each record of the way (init -> wait, the
    environment, the import's three steps): the restarted process, its
    sweeps running on its first cycle, takes the build on to ready."""
    rig = _rig(pool, world, intent=intent, when=when)
    module_build_id, _ = await rig.transitions.create_module_build(
        metadata_only_build()
    )
    with pytest.raises(Killed):
        await run_to_end(rig, module_build_id)
    restarted = _rig(pool, world)
    await run_to_end(restarted, module_build_id)
    await _assert_ready_once(restarted, module_build_id)
    assert sent(world, "CGImport") == 1


@pytest.mark.parametrize("nth", [2, 3])
@pytest_twisted.ensureDeferred
async def test_a_process_killed_at_done_or_ready_is_resumed_by_the_next(
    pool: Pool, world: SimWorld, nth: int
) -> None:
    """Killed before the move to done (the import recorded) or to ready:
    resumed, without a second import."""
    rig = _rig(pool, world, intent="change_module_state", nth=nth)
    module_build_id, _ = await rig.transitions.create_module_build(
        metadata_only_build()
    )
    with pytest.raises(Killed):
        await run_to_end(rig, module_build_id)
    restarted = _rig(pool, world)
    await run_to_end(restarted, module_build_id)
    await _assert_ready_once(restarted, module_build_id)
    assert sent(world, "CGImport") == 1


@pytest.mark.parametrize("method", WRITES)
@pytest_twisted.ensureDeferred
async def test_a_lost_answer_to_any_koji_write_still_ends_ready(
    pool: Pool, world: SimWorld, method: str
) -> None:
    """The hub ran the write and its answer was lost: one of each thing in
    Koji, the module ready."""
    world.sim.lose_answer(method)
    rig = _rig(pool, world)
    module_build_id, _ = await rig.transitions.create_module_build(
        metadata_only_build()
    )
    await run_to_end(rig, module_build_id)
    assert world.sim.answers_to_lose == 0
    await _assert_ready_once(rig, module_build_id)


@pytest_twisted.ensureDeferred
async def test_the_import_of_a_module_without_rpms_takes_seven_requests(
    pool: Pool, world: SimWorld
) -> None:
    """From the cycle in build to ready: the tag and owner (no RPM lists,
    no licenses), CGInitBuild, three one-chunk uploads, one
    checkUpload multicall, CGImport."""
    rig = _rig(pool, world)
    module_build_id, _ = await rig.transitions.create_module_build(
        metadata_only_build()
    )
    before = await rig.step_until(
        module_build_id, lambda s: s.build.state is ModuleState.BUILD
    )
    assert before.build.cg_state is None
    trips = world.client.round_trips
    await rig.driver.cycle(EPOCH)
    after = await rig.read(module_build_id)
    assert after.build.state is ModuleState.READY, after.build.state_reason
    assert world.client.round_trips - trips == 7, world.agent.sent[-10:]
    assert sent(world, "getRPMHeaders") == sent(world, "listBuildRPMs") == 0


@pytest_twisted.ensureDeferred
async def test_a_refused_import_fails_it_and_a_resubmission_imports_it(
    pool: Pool, world: SimWorld
) -> None:
    """CGImport refused: the module fails with Koji's reason; submitted
    again (the same NSVC, still without components) it is imported under the
    same Koji build id and is ready."""
    world.sim.fail_next("CGImport", 1000, "Something is wrong with the metadata")
    rig = _rig(pool, world)
    module_build_id, _ = await rig.transitions.create_module_build(
        metadata_only_build()
    )
    failed = await run_to_end(rig, module_build_id)
    assert failed.build.state is ModuleState.FAILED
    assert failed.build.state_reason is not None
    assert "Something is wrong with the metadata" in failed.build.state_reason
    (refunded,) = module_builds(world)
    again, new = await rig.transitions.create_module_build(metadata_only_build())
    assert (again, new) == (module_build_id, False)
    done = await run_to_end(rig, module_build_id)
    assert done.build.state is ModuleState.READY, done.build.state_reason
    assert done.components == ()
    (imported,) = module_builds(world)
    assert (imported["build_id"], imported["state"]) == (refunded["build_id"], 1)
    assert rig.macros_built == []


@pytest.mark.parametrize("intent", ["record_environment", "record_cg_intent"])
@pytest_twisted.ensureDeferred
async def test_a_build_left_for_days_after_a_crash_is_resumed_not_swept(
    pool: Pool, world: SimWorld, intent: str
) -> None:
    """Killed in build (after the environment, or after the import's intent)
    and restarted eight days later, past stuck_build_days: the first cycle
    takes the build to ready before its sweeps look for stuck builds."""
    rig = _rig(pool, world, intent=intent, when="after")
    module_build_id, _ = await rig.transitions.create_module_build(
        metadata_only_build()
    )
    with pytest.raises(Killed):
        await run_to_end(rig, module_build_id)
    assert (await rig.read(module_build_id)).build.state is ModuleState.BUILD
    world.clock.advance(timedelta(days=8).total_seconds())
    sweeps = make_sweeps(pool, world, Transitions(pool=pool, clock=world.clock))
    restarted = _rig(pool, world, sweeps)
    await restarted.driver.cycle(EPOCH)
    assert sweeps.last_run_seconds == world.clock.seconds()
    await _assert_ready_once(restarted, module_build_id)
