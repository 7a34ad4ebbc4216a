"""Light passes (issue 14 §3): between full cycles the driver visits only
the builds a Koji event was about or that changed since it last saw them;
the full cycle comes back once a poll interval has passed. On kojisim, a
fake clock and real PostgreSQL."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest_twisted

from ridad.domain.states import ComponentState, ModuleState
from ridad.scheduler.events import KojiEventListener
from tests.db.test_driver import EPOCH, Rig, platform_build, rig, world

__all__ = ["rig", "world"]


def _listener(rig: Rig, pokes: list[int]) -> KojiEventListener:
    return KojiEventListener(
        format="koji",
        tracked_tasks=lambda: rig.driver.tracked_tasks,
        tracked_tags=lambda: rig.driver.tracked_tags,
        poke=lambda: pokes.append(1),
        noted=rig.driver.note_event,
        hint=rig.driver.hint,
    )


def _closed(task_id: int) -> tuple[dict[str, str], bytes]:
    body = {"info": {"id": task_id, "method": "build"}, "old": "OPEN", "new": "CLOSED"}
    return {"id": str(task_id), "new": "CLOSED"}, json.dumps(body).encode()


async def _building(rig: Rig) -> tuple[int, int]:
    """A build with its macros task open in kojisim (not yet run)."""
    module_build_id, _ = await rig.transitions.create_module_build(platform_build())
    building = await rig.step_until(
        module_build_id,
        lambda s: any(c.state is ComponentState.BUILDING for c in s.components),
    )
    (task_id,) = [c.task_id for c in building.components if c.task_id]
    await rig.driver.cycle(EPOCH)  # a full cycle that has seen it all
    return module_build_id, task_id


def _macros_state(snapshot: object, task_id: int) -> ComponentState:
    return next(c.state for c in snapshot.components if c.task_id == task_id)  # type: ignore[attr-defined]


@pytest_twisted.ensureDeferred
async def test_a_light_pass_skips_an_unchanged_build_no_event_was_about(
    rig: Rig,
) -> None:
    """The task ended in Koji, but no event said so and the build did not
    change: the light pass leaves it; the full cycle, once due, finds it."""
    module_build_id, task_id = await _building(rig)
    rig.world.run_until_idle()
    await rig.driver.run(EPOCH)
    snapshot = await rig.read(module_build_id)
    assert _macros_state(snapshot, task_id) is ComponentState.BUILDING
    assert rig.driver.last_polled_tasks == 0
    rig.world.clock.advance(rig.driver._config.poll_interval_seconds)
    await rig.driver.run(EPOCH)
    snapshot = await rig.read(module_build_id)
    assert _macros_state(snapshot, task_id) is ComponentState.COMPLETE


@pytest_twisted.ensureDeferred
async def test_an_event_makes_the_light_pass_visit_its_build(rig: Rig) -> None:
    """An event about the task pokes, and the next light pass polls that
    task and records its end, without waiting for a full cycle."""
    pokes: list[int] = []
    listener = _listener(rig, pokes)
    module_build_id, task_id = await _building(rig)
    rig.world.run_until_idle()
    headers, body = _closed(task_id)
    listener.handle("/topic/koji.task.closed", headers, body)
    assert pokes == [1]
    await rig.driver.run(EPOCH)
    assert rig.driver.last_polled_tasks == 1
    snapshot = await rig.read(module_build_id)
    assert _macros_state(snapshot, task_id) is ComponentState.COMPLETE


@pytest_twisted.ensureDeferred
async def test_a_changed_build_takes_its_next_step_in_a_light_pass(
    rig: Rig,
) -> None:
    """After the pass that recorded the end, the build changed: the next
    light pass (poked by that commit) tags the component at once."""
    listener = _listener(rig, [])
    module_build_id, task_id = await _building(rig)
    rig.world.run_until_idle()
    listener.handle("/topic/koji.task.closed", *_closed(task_id))
    await rig.driver.run(EPOCH)
    for _ in range(3):
        await rig.driver.run(EPOCH)
    snapshot = await rig.read(module_build_id)
    macros = next(c for c in snapshot.components if c.task_id == task_id)
    assert macros.tagged


@pytest_twisted.ensureDeferred
async def test_hints_of_a_failed_pass_are_kept_for_the_next(rig: Rig) -> None:
    """A pass that fails (Koji unreachable, say) gives its hints back."""
    listener = _listener(rig, [])
    module_build_id, task_id = await _building(rig)
    rig.world.run_until_idle()
    listener.handle("/topic/koji.task.closed", *_closed(task_id))
    store = rig.driver._store
    real = store.active_builds

    async def broken() -> None:
        raise RuntimeError("database went away")

    store.active_builds = broken  # type: ignore[method-assign]
    try:
        await rig.driver.run(EPOCH)
    except RuntimeError:
        pass
    store.active_builds = real  # type: ignore[method-assign]
    await rig.driver.run(EPOCH)
    snapshot = await rig.read(module_build_id)
    assert _macros_state(snapshot, task_id) is ComponentState.COMPLETE


@pytest_twisted.ensureDeferred
async def test_an_event_during_a_pass_is_polled_before_the_pass_ends(
    rig: Rig,
) -> None:
    """An event about another build arrives while the pass advances the
    first: that build is polled right after (its end recorded), and left for
    the next pass to advance."""
    listener = _listener(rig, [])
    one, one_task = await _building(rig)
    two_id, _ = await rig.transitions.create_module_build(platform_build("two"))
    two = await rig.step_until(
        two_id, lambda s: any(c.state is ComponentState.BUILDING for c in s.components)
    )
    (two_task,) = [c.task_id for c in two.components if c.task_id]
    await rig.driver.cycle(EPOCH)
    rig.world.run_until_idle()
    listener.handle("/topic/koji.task.closed", *_closed(one_task))
    advance, fired = rig.driver._advance_guarded, []

    async def advancing(build, components, epoch, budget):  # type: ignore[no-untyped-def]
        if build.id == one and not fired:
            fired.append(1)
            listener.handle("/topic/koji.task.closed", *_closed(two_task))
        return await advance(build, components, epoch, budget)

    rig.driver._advance_guarded = advancing  # type: ignore[method-assign]
    await rig.driver.run(EPOCH)
    snapshot = await rig.read(two_id)
    # Its macros task ended (kojisim refuses the second build of the same
    # NVR: it failed): recorded, the build itself not yet moved.
    macros = next(c for c in snapshot.components if c.task_id == two_task)
    assert macros.state is ComponentState.FAILED
    assert snapshot.build.state is ModuleState.BUILD
    await rig.driver.run(EPOCH)
    snapshot = await rig.read(two_id)
    assert snapshot.build.state is ModuleState.FAILED


@pytest_twisted.ensureDeferred
async def test_a_build_the_importer_has_is_visited_though_unchanged(
    rig: Rig,
) -> None:
    """Every component of the build ended: the importer's steps write what
    the build's read does not show, so a light pass visits it anyway; a
    build still building that did not change is left."""
    one, _ = await _building(rig)
    active = await rig.driver._store.active_builds()
    passes = rig.driver._passes
    passes.visited(active, full=True)
    assert passes.choose(active, frozenset(), budget=0) == []
    finished = [
        (b, [replace(c, state=ComponentState.COMPLETE, tagged=True) for c in cs])
        for b, cs in active
        if b.id == one
    ]
    passes.visited(finished, full=True)
    assert passes.choose(finished, frozenset(), budget=0) == finished
