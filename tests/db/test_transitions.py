"""Named transitions against real PostgreSQL: one transaction per intent,
fenced by the lease epoch, outbox row with the state, and answers equal to
what a fresh read gives."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from ridad.db.builds import ModuleBuildStore
from ridad.db.leases import take_lease
from ridad.db.pool import Pool
from ridad.domain.builds import BuildSnapshot, NewComponent, NewModuleBuild
from ridad.domain.koji import KojiBuild
from ridad.domain.states import ComponentState, ModuleState
from ridad.errors import InvalidRequest, NotLeader
from ridad.transitions import Transitions
from tests.db.statements import StatementLog

MACROS = NewComponent(
    name="module-build-macros",
    package="module-build-macros",
    repository="ridad/1-x/m.src.rpm",
    ref="srpm",
    scm_commit="",
    batch=1,
    buildonly=True,
    source="ridad/1-x/m.src.rpm",
)


def modulemd_text(components: tuple[str, ...]) -> str:
    """A valid submitted modulemd with these components (the import writes
    its final modulemd from it)."""
    lines = [
        "document: modulemd",
        "version: 2",
        "data:",
        "  summary: A test module",
        "  description: A module the database tests build.",
        "  license: {module: [MIT]}",
    ]
    if components:
        lines += ["  components:", "    rpms:"]
        lines += [f"      {c}: {{rationale: Test., ref: main}}" for c in components]
    return "\n".join(lines) + "\n"


def new_build(
    name: str = "one", components: tuple[str, ...] = ("a", "b")
) -> NewModuleBuild:
    """A verified submission with components in batch 2."""
    return NewModuleBuild(
        name=name,
        stream="main",
        version=1,
        context="c0ffee00",
        owner="alice",
        scmurl=f"git://h/modules/{name}.git?#main",
        scm_commit="0" * 40,
        branch="main",
        modulemd=modulemd_text(components),
        build_context="b",
        runtime_context="r",
        buildrequires={},
        requires={},
        components=tuple(
            NewComponent(
                name=c,
                package=c,
                repository=f"git://h/rpms/{c}",
                ref="main",
                scm_commit="1" * 40,
                batch=2,
                source=f"git+https://h/rpms/{c}?#{'1' * 40}",
            )
            for c in components
        ),
        rpm_macros="%demo 1\n",
    )


async def fresh(pool: Pool, module_build_id: int) -> BuildSnapshot:
    """The build as a new read gives it."""
    build, components = await ModuleBuildStore(pool=pool).get_with_components(
        module_build_id
    )
    return BuildSnapshot(build, tuple(components))


async def outbox(pool: Pool) -> list[dict[str, Any]]:
    """The outbox bodies, in write order."""
    rows = await pool.run_query("SELECT body FROM outbox ORDER BY id")
    return [
        r["body"] if isinstance(r["body"], dict) else json.loads(r["body"])
        for r in rows
    ]


async def building(transitions: Transitions, pool: Pool) -> BuildSnapshot:
    """A build in ``build`` with its macros component, at epoch 0."""
    module_build_id, _ = await transitions.create_module_build(new_build())
    await transitions.change_module_state(
        module_build_id, ModuleState.WAIT, None, epoch=0
    )
    return await transitions.record_environment(
        module_build_id, koji_tag="module-one", macros=MACROS, epoch=0
    )


@pytest.fixture
def transitions(pool: Pool) -> Transitions:
    """Transitions on the test database, on a fake clock at 2026-12-01."""
    clock = Clock()
    clock.advance(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    return Transitions(pool=pool, clock=clock)


INTENTS: dict[str, Callable[[Transitions, BuildSnapshot], Awaitable[BuildSnapshot]]] = {
    "record_submission_intent": lambda t, s: t.record_submission_intent(
        s.build.id, [s.components[1].id], epoch=0
    ),
    "forget_submission_intent": lambda t, s: t.forget_submission_intent(
        s.components[1], epoch=0
    ),
    "record_submissions": lambda t, s: t.record_submissions(
        s.build.id, {s.components[1].id: 70, s.components[2].id: "refused"}, epoch=0
    ),
    "record_tagged": lambda t, s: t.record_tagged(
        s.build.id, [s.components[0].id], 12, epoch=0
    ),
    "record_repo_task": lambda t, s: t.record_repo_task(s.build.id, 90, epoch=0),
    "record_repo_intent": lambda t, s: t.record_repo_task(s.build.id, None, epoch=0),
    "record_repo_progress": lambda t, s: t.record_repo_progress(
        s.build.id, repo_event=5, task_finished=False, task_failed=True, epoch=0
    ),
    "record_task_state": lambda t, s: t.record_task_state(
        s.components[1], "open", epoch=0
    ),
    "record_task_end": lambda t, s: t.record_task_end(
        s.components[1],
        ComponentState.FAILED,
        "the Koji task failed",
        task_state="failed",
        epoch=0,
    ),
    "change_module_state": lambda t, s: t.change_module_state(
        s.build.id, ModuleState.FAILED, "why", epoch=0
    ),
}


@pytest.mark.parametrize("intent", sorted(INTENTS))
@pytest_twisted.ensureDeferred
async def test_each_intent_is_one_transaction_and_answers_what_it_wrote(
    pool: Pool, transitions: Transitions, intent: str
) -> None:
    """An intent is one pool use, and the build it answers equals a fresh read."""
    snapshot = await building(transitions, pool)
    log = StatementLog().install(pool)
    written = await INTENTS[intent](transitions, snapshot)
    assert len(log.uses) == 1
    assert log.uses[0][0] == "BEGIN" and log.uses[0][-1] == "COMMIT"
    assert written == await fresh(pool, snapshot.build.id)


@pytest_twisted.ensureDeferred
async def test_record_environment_adds_macros_and_moves_to_build_at_once(
    pool: Pool, transitions: Transitions
) -> None:
    """The Koji tag, the macros component and the move to ``build`` are one
    transaction; the module message lists the new component."""
    module_build_id, _ = await transitions.create_module_build(new_build())
    await transitions.change_module_state(
        module_build_id, ModuleState.WAIT, None, epoch=0
    )
    log = StatementLog().install(pool)
    written = await transitions.record_environment(
        module_build_id, koji_tag="module-one", macros=MACROS, epoch=0
    )
    assert len(log.uses) == 1
    assert written == await fresh(pool, module_build_id)
    assert written.build.state is ModuleState.BUILD
    assert written.build.koji_tag == "module-one"
    assert [c.name for c in written.components] == ["module-build-macros", "a", "b"]
    last = (await outbox(pool))[-1]
    assert last["state"] == "build"
    assert "module-build-macros" in json.dumps(last)


@pytest_twisted.ensureDeferred
async def test_stale_epoch_is_refused_and_writes_nothing(
    pool: Pool, transitions: Transitions
) -> None:
    """After another process took the lease, an intent at the old epoch
    raises NotLeader and leaves state, trace and outbox as they were."""
    snapshot = await building(transitions, pool)
    before = await fresh(pool, snapshot.build.id)
    messages = await outbox(pool)
    trace = await pool.run_query("SELECT count(*) AS n FROM state_trace")
    await pool.run_interaction(take_lease, "other", datetime(2026, 12, 1, tzinfo=UTC))
    for intent in INTENTS.values():
        with pytest.raises(NotLeader):
            await intent(transitions, snapshot)
    assert await fresh(pool, snapshot.build.id) == before
    assert await outbox(pool) == messages
    assert await pool.run_query("SELECT count(*) AS n FROM state_trace") == trace


@pytest_twisted.ensureDeferred
async def test_state_change_writes_its_outbox_message_in_the_same_transaction(
    pool: Pool, transitions: Transitions
) -> None:
    """A component's move inserts its message within the intent's transaction,
    carrying what Koji said (task id, NVR)."""
    snapshot = await building(transitions, pool)
    component = snapshot.components[1]
    await transitions.record_submissions(snapshot.build.id, {component.id: 70}, epoch=0)
    building_now = (await fresh(pool, snapshot.build.id)).component(component.id)
    log = StatementLog().install(pool)
    koji_build = KojiBuild(5, "a-1.0-1", "a", "1.0", "1", "complete", 70)
    written = await transitions.record_task_end(
        building_now,
        ComponentState.COMPLETE,
        None,
        task_state="closed",
        koji_build=koji_build,
        epoch=0,
    )
    (use,) = log.uses
    inserts = [s for s in use if s.startswith("INSERT INTO outbox")]
    assert len(inserts) == 1
    assert use.index(inserts[0]) < use.index("COMMIT")
    message = (await outbox(pool))[-1]
    assert (message["state"], message["nvr"], message["task_id"]) == (
        "complete",
        "a-1.0-1",
        70,
    )
    changed = written.component(component.id)
    assert (changed.nvr, changed.koji_build_id, changed.task_state) == (
        "a-1.0-1",
        5,
        "closed",
    )


@pytest_twisted.ensureDeferred
async def test_refused_move_writes_nothing(
    pool: Pool, transitions: Transitions
) -> None:
    """A move the state rules forbid raises InvalidRequest and rolls back."""
    snapshot = await building(transitions, pool)
    before = await fresh(pool, snapshot.build.id)
    with pytest.raises(InvalidRequest):
        await transitions.change_module_state(
            snapshot.build.id, ModuleState.WAIT, None, epoch=0
        )
    assert await fresh(pool, snapshot.build.id) == before


@pytest_twisted.ensureDeferred
async def test_repo_intent_is_written_before_the_task_and_cleared_by_it(
    pool: Pool, transitions: Transitions
) -> None:
    """record_repo_task(None) notes when a newRepo is being started; the task
    id, once known, replaces that intent."""
    snapshot = await building(transitions, pool)
    intent = await transitions.record_repo_task(snapshot.build.id, None, epoch=0)
    assert intent.build.repo_requested_at == datetime(2026, 12, 1, tzinfo=UTC)
    assert intent.build.repo_task_id is None
    task = await transitions.record_repo_task(snapshot.build.id, 90, epoch=0)
    assert (task.build.repo_task_id, task.build.repo_requested_at) == (90, None)


@pytest_twisted.ensureDeferred
async def test_rpm_macros_are_stored_at_submission(
    pool: Pool, transitions: Transitions
) -> None:
    """The modulemd's rpm macros are kept with the build, for the macros package."""
    module_build_id, _ = await transitions.create_module_build(new_build())
    assert (await fresh(pool, module_build_id)).build.rpm_macros == "%demo 1\n"


@pytest_twisted.ensureDeferred
async def test_cancel_answers_the_failed_build_and_its_trace(
    pool: Pool, transitions: Transitions
) -> None:
    """``cancel`` is one transaction answering the build as a fresh read
    gives it, with its module trace ending in the cancel."""
    snapshot = await building(transitions, pool)
    log = StatementLog().install(pool)
    written, trace = await transitions.cancel(
        snapshot.build.id, "Canceled by alice", allowed_from=(ModuleState.BUILD,)
    )
    assert len(log.uses) == 1
    assert written == await fresh(pool, snapshot.build.id)
    assert written.build.state is ModuleState.FAILED
    assert [(t.new_state, t.reason) for t in trace][-1] == (
        "failed",
        "Canceled by alice",
    )
