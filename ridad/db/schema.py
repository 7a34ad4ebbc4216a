"""Schema migrations: the numbered SQL files in ``ridad/db/migrations/``.

All pending migrations are applied in ONE transaction that first takes a
transaction-level advisory lock, so daemons starting together on an empty
database do not race: one applies, the others wait and then find nothing to do.
The ``schema_migrations`` table records what was applied.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from twisted.logger import Logger

from ridad.db.pool import Cursor, Pool
from ridad.errors import SchemaError

#: The advisory lock key that serialises migrations ("ridad" + 1).
MIGRATION_LOCK_KEY = 0x7269646164_000001

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

_FILE_NAME = re.compile(r"^(?P<version>\d{3})_(?P<name>[a-z0-9_]+)\.sql$")

log = Logger()


@dataclass(frozen=True)
class Migration:
    """One numbered migration: its version, name and SQL text."""

    version: int
    name: str
    sql: str


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Read ``NNN_name.sql`` files from ``directory``, sorted by number.

    :raises SchemaError: a file is misnamed, or the numbers are not 1, 2, 3...
    """
    migrations = []
    for path in sorted(directory.iterdir()):
        if path.suffix != ".sql":
            continue
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise SchemaError(f"Migration file {path.name} is not named NNN_name.sql")
        migrations.append(
            Migration(
                version=int(match["version"]),
                name=match["name"],
                sql=path.read_text(encoding="utf-8"),
            )
        )
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise SchemaError(f"Migration numbers must run 1, 2, 3...; found {versions}")
    return migrations


MIGRATIONS: list[Migration] = load_migrations()

#: The schema version this code works with: the highest migration it knows.
SCHEMA_VERSION: int = MIGRATIONS[-1].version


async def migrate(pool: Pool, *, migrations: Sequence[Migration] | None = None) -> int:
    """Apply every pending migration and return the resulting schema version.

    :raises SchemaError: the database has versions this code does not know
        (it is newer), or a migration failed (nothing is applied then).
    :raises DatabaseUnavailable: the database went away; retrying is safe.
    """
    known = list(MIGRATIONS if migrations is None else migrations)
    version: int = await pool.run_interaction(_migrate, known)
    return version


async def check_schema(pool: Pool) -> int:
    """Return the database's schema version after checking it is ours.

    :raises SchemaError: there is no ridad schema, or its version is not
        :data:`SCHEMA_VERSION`.
    :raises DatabaseUnavailable: the database cannot be reached.
    """
    versions = await pool.run_interaction(_applied_versions)
    if versions is None:
        raise SchemaError("The database has no ridad schema: run the migrations")
    version = max(versions, default=0)
    if version != SCHEMA_VERSION:
        raise SchemaError(
            f"The database schema is at version {version}; "
            f"this ridad needs version {SCHEMA_VERSION}"
        )
    return version


async def _applied_versions(cursor: Cursor) -> list[int] | None:
    """The applied versions, or None when there is no schema_migrations table."""
    await cursor.execute(
        "SELECT to_regclass('schema_migrations') IS NOT NULL AS present"
    )
    row = cursor.fetchone()
    if row is None or not row["present"]:
        return None
    await cursor.execute("SELECT version FROM schema_migrations ORDER BY version")
    return [int(r["version"]) for r in cursor.fetchall()]


async def _migrate(cursor: Cursor, migrations: list[Migration]) -> int:
    await cursor.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
    await cursor.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY,"
        " name TEXT NOT NULL,"
        " applied TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    applied = set(await _applied_versions(cursor) or ())
    known = {m.version for m in migrations}
    unknown = sorted(applied - known)
    if unknown:
        raise SchemaError(
            f"The database has schema versions {unknown} that this ridad does not "
            f"know (it knows up to {max(known, default=0)}); upgrade ridad"
        )
    pending = [m for m in migrations if m.version not in applied]
    if pending and applied and min(m.version for m in pending) < max(applied):
        raise SchemaError(
            f"The database lacks migrations {[m.version for m in pending]} "
            f"below its version {max(applied)}"
        )
    for migration in pending:
        await _apply(cursor, migration)
    return max(applied | {m.version for m in pending}, default=0)


async def _apply(cursor: Cursor, migration: Migration) -> None:
    label = f"{migration.version:03d}_{migration.name}"
    try:
        await cursor.execute(migration.sql)
    except psycopg2.Error as e:
        raise SchemaError(f"Migration {label} failed: {str(e).strip()}") from e
    await cursor.execute(
        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
        (migration.version, migration.name),
    )
    log.info("Applied migration {migration}", migration=label)
