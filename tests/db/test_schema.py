"""Tests for ridad.db.schema: migrations on real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred, gatherResults

from ridad.db.pool import Pool
from ridad.db.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Migration,
    check_schema,
    load_migrations,
    migrate,
)
from ridad.errors import SchemaError


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


@pytest_twisted.async_yield_fixture
async def empty_pool(empty_database_dsn: str) -> AsyncIterator[Pool]:
    """A started pool on a database without any ridad schema."""
    pool = Pool(dsn=empty_database_dsn, reactor=_reactor(), size=2)
    await pool.start()
    yield pool
    await pool.close()


async def _tables(pool: Pool) -> set[str]:
    rows = await pool.run_query(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    )
    return {row["tablename"] for row in rows}


def test_schema_version_is_the_highest_migration_number() -> None:
    """SCHEMA_VERSION is the number of the last of the 1, 2, 3... migrations."""
    assert [m.version for m in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))
    assert MIGRATIONS[0].name == "initial"


@pytest.mark.parametrize(
    "names",
    [["001_initial.sql", "003_skipped.sql"], ["001_initial.sql", "2_short.sql"]],
)
def test_load_migrations_rejects_gaps_and_misnamed_files(
    tmp_path: Path, names: list[str]
) -> None:
    """A gap in the numbers or a misnamed file is a SchemaError."""
    for name in names:
        (tmp_path / name).write_text("SELECT 1;")
    with pytest.raises(SchemaError):
        load_migrations(tmp_path)


@pytest_twisted.ensureDeferred
async def test_migrate_applies_the_initial_schema_to_an_empty_database(
    empty_pool: Pool,
) -> None:
    """migrate() creates the tables and records every version in schema_migrations."""
    assert await migrate(empty_pool) == SCHEMA_VERSION
    assert {"module_builds", "component_builds", "state_trace", "outbox"} <= (
        await _tables(empty_pool)
    )
    rows = await empty_pool.run_query("SELECT version, name FROM schema_migrations")
    assert sorted(r["version"] for r in rows) == list(range(1, SCHEMA_VERSION + 1))
    assert {"version": 1, "name": "initial"} in rows
    assert await check_schema(empty_pool) == SCHEMA_VERSION


@pytest_twisted.ensureDeferred
async def test_migrate_twice_changes_nothing(pool: Pool) -> None:
    """On an up-to-date database migrate() applies nothing and returns the version."""
    assert await migrate(pool) == SCHEMA_VERSION
    assert await migrate(pool) == SCHEMA_VERSION
    rows = await pool.run_query("SELECT count(*) AS n FROM schema_migrations")
    assert rows == [{"n": SCHEMA_VERSION}]


@pytest_twisted.ensureDeferred
async def test_two_daemons_migrating_one_empty_database_apply_it_once(
    empty_database_dsn: str,
) -> None:
    """Concurrent migrate() calls from two pools both succeed; one applies."""
    pools = [Pool(dsn=empty_database_dsn, reactor=_reactor(), size=1) for _ in "ab"]
    for pool in pools:
        await pool.start()
    try:
        versions = await gatherResults(
            [Deferred.fromCoroutine(migrate(pool)) for pool in pools]
        )
        assert versions == [SCHEMA_VERSION, SCHEMA_VERSION]
        rows = await pools[0].run_query("SELECT version FROM schema_migrations")
        assert sorted(r["version"] for r in rows) == list(range(1, SCHEMA_VERSION + 1))
    finally:
        for pool in pools:
            await pool.close()


@pytest_twisted.ensureDeferred
async def test_a_newer_database_is_a_schema_error(pool: Pool) -> None:
    """A version this code does not know stops migrate() and check_schema()."""
    await pool.run_operation(
        "INSERT INTO schema_migrations (version, name) VALUES (999, 'future')"
    )
    with pytest.raises(SchemaError, match="999"):
        await migrate(pool)
    with pytest.raises(SchemaError, match="999"):
        await check_schema(pool)


@pytest_twisted.ensureDeferred
async def test_check_schema_accepts_a_migrated_database(pool: Pool) -> None:
    """A database cloned from the migrated template is at SCHEMA_VERSION."""
    assert await check_schema(pool) == SCHEMA_VERSION


@pytest_twisted.ensureDeferred
async def test_check_schema_rejects_a_database_without_ridad_schema(
    empty_pool: Pool,
) -> None:
    """A database that was never migrated is a SchemaError, not a crash."""
    with pytest.raises(SchemaError, match="no ridad schema"):
        await check_schema(empty_pool)


@pytest_twisted.ensureDeferred
async def test_a_failing_migration_leaves_the_database_untouched(
    empty_pool: Pool,
) -> None:
    """All migrations share one transaction: a broken second one undoes the first."""
    broken = Migration(version=2, name="broken", sql="CREATE TABLE x (; ")
    with pytest.raises(SchemaError, match="002_broken"):
        await migrate(empty_pool, migrations=[MIGRATIONS[0], broken])
    assert await _tables(empty_pool) == set()
    assert await migrate(empty_pool) == SCHEMA_VERSION
