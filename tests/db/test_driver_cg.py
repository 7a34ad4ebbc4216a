"""The driver's import of a built module into Koji, against kojisim and
PostgreSQL: the module is ``done`` (then ``ready``) only once its Koji build
of type module is COMPLETE with the final modulemd's archives; a lost
answer, a crash between Koji's answer and its record, a refused import and a
missing grant each end with one module build in Koji at most."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_twisted

from ridad.db.cg import CgStore
from ridad.db.pool import Pool
from ridad.domain.module_import import IMPORTED, build_log
from ridad.domain.states import ModuleState
from ridad.modulemd.final import document_artifacts
from tests.db.cg_rig import (
    CG_TAG,
    CONFIG,
    MODULE_NVR,
    CrashingTransitions,
    ProcessKilled,
    SpecInspector,
    make_driver,
    module_build,
    module_builds,
    sent,
)
from tests.db.test_driver import EPOCH, Rig
from tests.db.test_driver_lost_answers import run_to_end
from tests.unit.koji.simworld import SimWorld, make_sim_world
from tests.unit.kojisim.support import HubClient


def _world(tmp_path: Path, **options: object) -> SimWorld:
    made = make_sim_world(
        str(tmp_path / "uploads"), inspector=SpecInspector(), **options
    )
    made.clock.advance(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    admin = made.admin()
    admin.call("createTag", "f40-build", arches="x86_64")
    admin.call("createTag", CG_TAG)
    return made


@pytest.fixture
def world(tmp_path: Path) -> Iterator[SimWorld]:
    """kojisim ready for imports (btype module, the content generator granted)."""
    made = _world(tmp_path)
    yield made
    made.sim.stop()


def _rig(pool: Pool, world: SimWorld, **options: object) -> Rig:
    transitions = CrashingTransitions(pool=pool, clock=world.clock, **options)
    return Rig(pool, world, transitions, make_driver(pool, world, transitions), [])


@pytest.fixture
def rig(pool: Pool, world: SimWorld) -> Rig:
    """A driver whose transitions crash nowhere (yet)."""
    return _rig(pool, world)


def _rpms_minus_filters(world: SimWorld) -> set[str]:
    """The NEVRAs of a's and b's Koji builds, a-devel left out."""
    hub = HubClient(world.sim)
    found = set()
    for nvr in ("a-1.0-1", "b-1.0-1"):
        for rpm in hub.call("listBuildRPMs", nvr):
            if rpm["name"] != "a-devel":
                epoch = rpm["epoch"] or 0
                found.add(
                    f"{rpm['name']}-{epoch}:{rpm['version']}-{rpm['release']}"
                    f".{rpm['arch']}"
                )
    return found


@pytest_twisted.ensureDeferred
async def test_ready_only_once_the_module_build_is_complete_in_koji(rig: Rig) -> None:
    """The module's Koji build is COMPLETE with modulemd.txt and
    modulemd.x86_64.txt, byte for byte the documents ridad stored, whose
    artifacts are the components' RPMs minus the filtered; the done message
    carries its id, and the uploaded log is the build's trace."""
    module_build_id, _ = await rig.transitions.create_module_build(module_build())
    done = await run_to_end(rig, module_build_id)
    assert done.build.state is ModuleState.READY, done.build.state_reason
    (koji_build,) = module_builds(rig.world)
    assert (koji_build["nvr"], koji_build["state"]) == (MODULE_NVR, 1)
    listed = HubClient(rig.world.sim).call("listBuilds", type="module")
    assert [b["build_id"] for b in listed] == [koji_build["build_id"]]
    assert (done.build.cg_state, done.build.koji_build_id) == (
        IMPORTED,
        koji_build["build_id"],
    )
    hub = HubClient(rig.world.sim)
    archives = hub.call("listArchives", buildID=koji_build["build_id"])
    stored = {
        d.filename: d for d in await CgStore(pool=rig.pool).documents(module_build_id)
    }
    assert (
        {a["filename"] for a in archives}
        == set(stored)
        == {
            "modulemd.txt",
            "modulemd.x86_64.txt",
        }
    )
    for archive in archives:
        content = rig.world.sim.state.archives[archive["id"]].content
        assert content == stored[archive["filename"]].content.encode()
    whole = document_artifacts(stored["modulemd.txt"].content)
    assert set(whole) == _rpms_minus_filters(rig.world)
    assert done.build.artifact_count == len(whole)
    x86 = next(a for a in archives if a["filename"] == "modulemd.x86_64.txt")
    linked = {(r["name"], r["arch"]) for r in hub.call("listRPMs", imageID=x86["id"])}
    assert linked == {("a", "x86_64"), ("a-doc", "noarch"), ("b", "noarch")}
    messages = [b for t, b in await rig.messages() if t.startswith("module")]
    assert [(m["state"], m["koji_build_id"]) for m in messages[-2:]] == [
        ("done", koji_build["build_id"]),
        ("ready", koji_build["build_id"]),
    ]
    assert {m["koji_build_id"] for m in messages[:-2]} == {None}
    (log,) = [
        entry
        for entry in rig.world.sim.state.build_logs[koji_build["build_id"]]
        if entry.name == "build.log"
    ]
    assert log.content.decode().startswith(f"ridad module build {module_build_id}: ")
    assert "component a building -> complete" in log.content.decode()


@pytest.mark.parametrize(("cg_tag", "requests"), [(None, 8), (CG_TAG, 10)])
@pytest_twisted.ensureDeferred
async def test_the_import_takes_eight_requests_and_two_more_to_tag(
    pool: Pool, world: SimWorld, cg_tag: str | None, requests: int
) -> None:
    """From the cycle after the last tagging to done: the RPM lists with the
    tag and owner, the licenses, CGInitBuild, three one-chunk uploads and
    one multicall checking them, CGImport; with koji.cg_tag also packageListAdd and the tagging."""
    rig = _rig(pool, world)
    # The owner of the cg tag's package entry is configured: otherwise the
    # first tagging of a process asks Koji who ridad is (one request more).
    config = replace(CONFIG, cg_tag=cg_tag, package_owner="admin")
    rig.driver = make_driver(pool, world, rig.transitions, config)
    module_build_id, _ = await rig.transitions.create_module_build(module_build())
    before = await rig.step_until(
        module_build_id,
        lambda s: len(s.components) == 3 and all(c.tagged for c in s.components),
    )
    assert before.build.state is ModuleState.BUILD
    trips = world.client.round_trips
    await rig.driver.cycle(EPOCH)
    after = await rig.read(module_build_id)
    assert after.build.state is ModuleState.READY, after.build.state_reason
    assert world.client.round_trips - trips == requests, world.agent.sent[-14:]
    if cg_tag is not None:
        tagged = HubClient(world.sim).call("listTagged", CG_TAG)
        assert [b["nvr"] for b in tagged] == [MODULE_NVR]


@pytest_twisted.ensureDeferred
async def test_metadata_too_big_to_send_inline_is_uploaded_as_a_file(
    pool: Pool, world: SimWorld
) -> None:
    """Over the limit (lowered here: the recorded module's metadata is a few
    KiB), the metadata is uploaded as metadata.json next to the outputs
    (one request more: its chunk; its checkUpload joins the others) and CGImport names the file: the module is ready."""
    rig = _rig(pool, world)
    rig.driver = make_driver(pool, world, rig.transitions, inline_metadata_bytes=100)
    module_build_id, _ = await rig.transitions.create_module_build(module_build())
    before = await rig.step_until(
        module_build_id,
        lambda s: len(s.components) == 3 and all(c.tagged for c in s.components),
    )
    trips = world.client.round_trips
    await rig.driver.cycle(EPOCH)
    after = await rig.read(module_build_id)
    assert after.build.state is ModuleState.READY, after.build.state_reason
    assert world.client.round_trips - trips == 9, world.agent.sent[-14:]
    assert sent(world, "CGImport") == 1
    (uploaded,) = Path(world.sim.upload_dir).glob("cg-import/*/metadata.json")
    assert json.loads(uploaded.read_text())["build"]["name"] == "one"
    (koji_build,) = module_builds(world)
    assert koji_build["state"] == 1
    assert before.build.koji_build_id is None
    assert after.build.koji_build_id == koji_build["build_id"]


@pytest.mark.parametrize("method", ["CGInitBuild", "rawUpload", "CGImport"])
@pytest_twisted.ensureDeferred
async def test_a_lost_answer_during_the_import_leaves_one_module_build(
    rig: Rig, method: str
) -> None:
    """CGInitBuild ran and its answer was lost (the token with it: the
    reservation is canceled and made again), an upload's, or CGImport's
    (the build is found COMPLETE): one module build, complete, the module
    ready."""
    rig.world.sim.lose_answer(method)
    module_build_id, _ = await rig.transitions.create_module_build(module_build())
    done = await run_to_end(rig, module_build_id)
    assert done.build.state is ModuleState.READY, done.build.state_reason
    assert rig.world.sim.answers_to_lose == 0
    (koji_build,) = module_builds(rig.world)
    assert koji_build["state"] == 1
    assert done.build.koji_build_id == koji_build["build_id"]
    assert sent(rig.world, "CGImport") == (2 if method == "CGImport" else 1)
    assert sent(rig.world, "cancelBuild") == (1 if method == "CGInitBuild" else 0)


@pytest.mark.parametrize("intent", ["record_cg_reserved", "record_cg_imported"])
@pytest_twisted.ensureDeferred
async def test_a_crash_between_koji_and_the_record_leaves_one_module_build(
    pool: Pool, world: SimWorld, intent: str
) -> None:
    """Killed after Koji reserved the build but before the reservation was
    recorded (the token is lost: the restarted process cancels it and
    reserves again), or after CGImport completed it but before that was
    recorded (the restarted process finds it COMPLETE): one module build."""
    rig = _rig(pool, world, crash_at=[intent])
    module_build_id, _ = await rig.transitions.create_module_build(module_build())
    with pytest.raises(ProcessKilled):
        await run_to_end(rig, module_build_id)
    assert len(module_builds(world)) == 1
    restarted = CrashingTransitions(pool=pool, clock=world.clock)
    rig = Rig(pool, world, restarted, make_driver(pool, world, restarted), [])
    done = await run_to_end(rig, module_build_id)
    assert done.build.state is ModuleState.READY, done.build.state_reason
    (koji_build,) = module_builds(world)
    assert koji_build["state"] == 1
    assert done.build.koji_build_id == koji_build["build_id"]
    imports = 1
    assert sent(world, "CGImport") == imports
    assert sent(world, "cancelBuild") == (1 if intent == "record_cg_reserved" else 0)


@pytest_twisted.ensureDeferred
async def test_a_refused_import_is_refunded_and_fails_the_module(rig: Rig) -> None:
    """CGImport refused: the reservation is refunded (FAILED in Koji) and
    the module fails with Koji's reason; submitted again it is imported
    under the same Koji build id."""
    rig.world.sim.fail_next("CGImport", 1000, "Something is wrong with the metadata")
    module_build_id, _ = await rig.transitions.create_module_build(module_build())
    failed = await run_to_end(rig, module_build_id)
    assert failed.build.state is ModuleState.FAILED
    assert failed.build.state_reason == (
        f"Koji refused to import {MODULE_NVR} as content generator"
        " module-build-service: Something is wrong with the metadata"
    )
    (koji_build,) = module_builds(rig.world)
    assert koji_build["state"] == 3  # FAILED: refunded
    await rig.transitions.create_module_build(module_build())
    done = await run_to_end(rig, module_build_id)
    assert done.build.state is ModuleState.READY, done.build.state_reason
    (again,) = module_builds(rig.world)
    assert (again["build_id"], again["state"]) == (koji_build["build_id"], 1)


@pytest.mark.parametrize(
    ("options", "command"),
    [
        ({"cg_users": ()}, "`koji grant-cg-access admin module-build-service`"),
        (
            {"content_generator": None},
            "`koji grant-cg-access admin module-build-service --new`",
        ),
    ],
)
@pytest_twisted.ensureDeferred
async def test_a_missing_grant_fails_the_module_with_the_admins_command(
    pool: Pool, tmp_path: Path, options: dict[str, object], command: str
) -> None:
    """ridad's Koji user without access to the content generator, or a hub
    without it: the module fails, its reason the command to run once."""
    world = _world(tmp_path, **options)
    try:
        rig = _rig(pool, world)
        module_build_id, _ = await rig.transitions.create_module_build(module_build())
        failed = await run_to_end(rig, module_build_id)
    finally:
        world.sim.stop()
    assert failed.build.state is ModuleState.FAILED
    assert failed.build.state_reason is not None
    assert command in failed.build.state_reason
    assert "Traceback" not in failed.build.state_reason
    assert module_builds(world) == []


@pytest_twisted.ensureDeferred
async def test_the_build_log_is_the_trace_as_text(rig: Rig) -> None:
    """build.log in Koji is ``build_log`` of the build's trace up to the import."""
    module_build_id, _ = await rig.transitions.create_module_build(module_build())
    done = await run_to_end(rig, module_build_id)
    trace = await CgStore(pool=rig.pool).trace(module_build_id)
    before_done = [t for t in trace if t.new_state not in ("done", "ready")]
    assert done.build.koji_build_id is not None
    logs = rig.world.sim.state.build_logs[done.build.koji_build_id]
    (log,) = [entry for entry in logs if entry.name == "build.log"]
    expected = build_log(done.build, done.components, before_done)
    assert log.content.decode() == expected
