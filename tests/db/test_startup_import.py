"""The base modules of ``koji.base_module_tags`` imported at start-up, on
real PostgreSQL: before any child service starts, idempotent across
restarts (no new rows, no messages when unchanged), updated when the tag
changes, and an administrator's import of that NSVC left alone."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
from twisted.application.service import Service
from twisted.internet import reactor

from ridad.api.imports import CONFIGURED_OWNER, import_configured_base_modules
from ridad.config.model import LiveConfig
from ridad.config.parse import parse_config
from ridad.db.builds import ModuleBuildStore
from ridad.db.pool import Pool
from ridad.errors import ConfigError
from ridad.service import RidadService
from ridad.transitions import Transitions
from tests.db.test_transitions import outbox

SCM = 'scm: {rpms_default_repository: "git://h/rpms/"}\n'


def config(tags: str) -> Any:
    """A configuration whose koji section maps these base modules."""
    return parse_config(
        SCM + f"koji: {{hub: 'https://koji/kojihub', base_module_tags: {{{tags}}}}}\n"
    )


async def rows(pool: Pool) -> list[dict[str, Any]]:
    """The module builds, by id."""
    return await pool.run_query(
        "SELECT id, name, stream, version, context, state, owner, koji_tag,"
        " stream_version, imported, time_modified FROM module_builds ORDER BY id"
    )


async def run(pool: Pool, tags: str) -> list[Any]:
    """One start-up import of ``tags``."""
    stores = ModuleBuildStore(pool=pool), Transitions(pool=pool, clock=reactor)
    return await import_configured_base_modules(config(tags), *stores)


@pytest_twisted.ensureDeferred
async def test_start_up_imports_each_entry_once(pool: Pool) -> None:
    """Each entry is a ready base module name:stream:0:00000000, owned by
    <ridad>; a restart with the same configuration changes nothing."""
    tags = "'platform:el8': el8-build, 'platform:f29.1.0': f29-build"
    await run(pool, tags)
    first = await rows(pool)
    assert [(r["stream"], r["version"], r["context"]) for r in first] == [
        ("el8", 0, "00000000"),
        ("f29.1.0", 0, "00000000"),
    ]
    assert {r["owner"] for r in first} == {CONFIGURED_OWNER}
    assert [(r["koji_tag"], r["stream_version"]) for r in first] == [
        ("el8-build", 80000.0),
        ("f29-build", 290100.0),
    ]
    assert all(r["state"] == "ready" and r["imported"] for r in first)
    messages = await outbox(pool)
    assert [m["state"] for m in messages] == ["ready", "ready"]
    outcomes = await run(pool, tags)
    assert [o.changed for o in outcomes] == [False, False]
    assert await rows(pool) == first
    assert await outbox(pool) == messages


@pytest_twisted.ensureDeferred
async def test_a_new_tag_updates_the_row_in_place(pool: Pool) -> None:
    """Another tag for the entry: the same row, the new tag, one message."""
    await run(pool, "'platform:el8': el8-build")
    await run(pool, "'platform:el8': el8-new")
    [row] = await rows(pool)
    assert row["koji_tag"] == "el8-new"
    assert [m["koji_tag"] for m in await outbox(pool)] == ["el8-build", "el8-new"]


@pytest_twisted.ensureDeferred
async def test_an_administrators_import_of_that_nsvc_is_left_alone(pool: Pool) -> None:
    """A row of that NSVC someone imported is theirs: start-up keeps it."""
    await run(pool, "'platform:el8': el8-build")
    await pool.run_operation("UPDATE module_builds SET owner = 'admin'")
    outcomes = await run(pool, "'platform:el8': other")
    assert outcomes == []
    [row] = await rows(pool)
    assert (row["owner"], row["koji_tag"]) == ("admin", "el8-build")


def test_an_entry_the_import_rules_refuse_is_a_config_problem(tmp_path: Any) -> None:
    """A dash in a base stream (no disttag_marking possible here): ridad
    refuses the configuration rather than starting without it."""
    from ridad.composition import read_config

    path = tmp_path / "ridad.yaml"
    path.write_text(
        SCM + "koji: {hub: 'https://k/h', base_module_tags: {'platform:f29-beta': t}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        read_config(str(path))
    assert caught.value.messages == [
        "koji.base_module_tags: The stream cannot contain a dash unless"
        " disttag_marking is set"
    ]


class Child(Service):
    """Records the builds in the database when it starts."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.seen: list[Any] = []

    def startService(self) -> None:
        super().startService()
        self.seen.append(self.pool.run_query("SELECT name FROM module_builds"))


@pytest_twisted.ensureDeferred
async def test_the_import_runs_before_the_children_start(database_dsn: str) -> None:
    """RidadService runs its on_database hook after migrating and before
    starting the API listener and the other children."""
    pool = Pool(dsn=database_dsn, reactor=reactor, size=1)
    stores = ModuleBuildStore(pool=pool), Transitions(pool=pool, clock=reactor)
    configured = config("'platform:el8': el8-build")
    root = RidadService(
        pool=pool,
        clock=reactor,
        on_fatal=lambda: None,
        config=LiveConfig(configured),
        on_database=lambda: import_configured_base_modules(configured, *stores),
    )
    child = Child(pool)
    child.setServiceParent(root)
    root.startService()
    try:
        await root._started
        assert await child.seen[0] == [{"name": "platform"}]
    finally:
        await root.stopService()
