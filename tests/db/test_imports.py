"""Imported module builds against real PostgreSQL: one transaction with the
trace row and the ``ready`` message, upsert by NSVC, 409 on a built one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from ridad.db.pool import Pool
from ridad.domain.imported_modules import ImportedBuild
from ridad.domain.states import ModuleState
from ridad.errors import Conflict
from ridad.modulemd.imported import configured_base_module, load_import
from ridad.transitions import Transitions
from tests.db.statements import StatementLog
from tests.db.test_transitions import fresh, new_build, outbox

BASES = ("platform",)


@pytest.fixture
def transitions(pool: Pool) -> Transitions:
    """Transitions on the test database, on a fake clock at 2026-12-01."""
    clock = Clock()
    clock.advance(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    return Transitions(pool=pool, clock=clock)


def platform(tag: str = "f29-build", owner: str = "admin") -> ImportedBuild:
    """platform:f29.1.0 on ``tag``, virtual stream f29, with profiles."""
    text = (
        "document: modulemd\nversion: 2\ndata:\n  name: platform\n"
        "  stream: f29.1.0\n  version: 3\n  summary: Fedora 29\n"
        "  description: The base.\n  license: {module: [MIT]}\n"
        f"  xmd: {{mbs: {{koji_tag: {tag}, mse: TRUE, virtual_streams: [f29],"
        " commit: virtual}}\n"
        "  profiles:\n    buildroot: {rpms: [bash]}\n"
    )
    accepted = load_import(text, base_module_names=BASES)
    return ImportedBuild(accepted.module, accepted.text, owner)


async def trace(pool: Pool, module_build_id: int) -> list[tuple[str | None, str]]:
    """The module trace rows of a build (old state, new state)."""
    rows = await pool.run_query(
        "SELECT old_state, new_state FROM state_trace WHERE module_build_id = %s"
        " ORDER BY id",
        (module_build_id,),
    )
    return [(r["old_state"], r["new_state"]) for r in rows]


@pytest_twisted.ensureDeferred
async def test_an_import_is_one_transaction_recording_a_ready_build(
    pool: Pool, transitions: Transitions
) -> None:
    """A new row in ``ready``, imported, with what stream expansion reads,
    its trace row and its message, in one transaction."""
    log = StatementLog().install(pool)
    outcome = await transitions.import_module_build(platform())
    assert len(log.uses) == 1 and log.uses[0][-1] == "COMMIT"
    assert outcome.created and outcome.changed
    build = outcome.build.build
    assert outcome.build == await fresh(pool, build.id)
    assert build.nsvc == "platform:f29.1.0:3:00000000"
    assert build.state is ModuleState.READY and build.imported
    assert build.owner == "admin" and build.koji_tag == "f29-build"
    assert build.stream_version == 290100.0 and build.virtual_streams == ("f29",)
    assert build.buildrequires == {} and build.scmurl == ""
    assert build.scm_commit == "virtual"  # xmd.mbs.commit, as resolution reads it
    assert build.time_completed is not None
    assert "buildroot:" in build.modulemd and "00000000" in build.modulemd
    assert await trace(pool, build.id) == [(None, "ready")]
    [message] = await outbox(pool)
    assert message["state"] == "ready" and message["old_state"] is None
    assert message["id"] == build.id


@pytest_twisted.ensureDeferred
async def test_the_same_import_again_writes_nothing(
    pool: Pool, transitions: Transitions
) -> None:
    """Importing what the row holds is no change: no write, no message."""
    first = await transitions.import_module_build(platform())
    again = await transitions.import_module_build(platform())
    assert not again.created and not again.changed
    assert again.build.build == first.build.build
    assert len(await outbox(pool)) == 1


@pytest_twisted.ensureDeferred
async def test_an_import_of_a_known_nsvc_updates_it_in_place(
    pool: Pool, transitions: Transitions
) -> None:
    """Another tag for the same NSVC: the same row, updated, announced
    (ready to ready), no new trace row."""
    first = await transitions.import_module_build(platform())
    second = await transitions.import_module_build(platform("f29-new", "other"))
    assert not second.created and second.changed
    assert second.build.build.id == first.build.build.id
    assert second.build.build.koji_tag == "f29-new"
    assert second.build.build.owner == "other"
    rows = await pool.run_query("SELECT count(*) AS n FROM module_builds")
    assert rows[0]["n"] == 1
    assert await trace(pool, first.build.build.id) == [(None, "ready")]
    messages = await outbox(pool)
    assert [(m["old_state"], m["koji_tag"]) for m in messages] == [
        (None, "f29-build"),
        ("ready", "f29-new"),
    ]


@pytest_twisted.ensureDeferred
async def test_a_built_module_of_that_nsvc_is_a_conflict(
    pool: Pool, transitions: Transitions
) -> None:
    """An import never replaces a build ridad made: 409, nothing written."""
    built = new_build("platform")
    module_build_id, _ = await transitions.create_module_build(built)
    accepted = configured_base_module("platform", "main", "t", base_module_names=BASES)
    module = accepted.module
    clash = ImportedBuild(
        type(module)(**{**module.__dict__, "version": 1, "context": "c0ffee00"}),
        accepted.text,
        "admin",
    )
    before = await outbox(pool)
    with pytest.raises(Conflict) as caught:
        await transitions.import_module_build(clash)
    assert "built by ridad" in caught.value.message
    assert caught.value.details["id"] == module_build_id
    assert await outbox(pool) == before


@pytest_twisted.ensureDeferred
async def test_a_retired_import_is_ready_again_when_imported(
    pool: Pool, transitions: Transitions
) -> None:
    """An imported build moved to garbage comes back to ready, traced."""
    first = await transitions.import_module_build(platform())
    build_id = first.build.build.id
    await pool.run_operation(
        "UPDATE module_builds SET state = 'garbage' WHERE id = %s", (build_id,)
    )
    again = await transitions.import_module_build(platform())
    assert again.changed and again.build.build.state is ModuleState.READY
    assert await trace(pool, build_id) == [(None, "ready"), ("garbage", "ready")]
