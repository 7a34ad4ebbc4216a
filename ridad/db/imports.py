"""The SQL of an imported module build (``import-module``, and the base
modules of ``koji.base_module_tags`` at start-up): a new ``ready`` row, or
the row of that NSVC updated in place. The functions take the cursor of a
transaction ``transitions`` opened."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg2.errors
from psycopg2.extras import Json

from ridad.db.build_rows import MODULE_COLUMNS, module_build_from_row
from ridad.domain.builds import ModuleBuild
from ridad.domain.imported_modules import ImportedBuild
from ridad.errors import Conflict

__all__ = ["find_imported_nsvc", "insert_imported", "update_imported"]

#: An imported build is complete when recorded; it has no contexts of its
#: own (MBS computes none on import).
_FIXED = {"state": "ready", "state_reason": None, "imported": True}


def _values(imported: ImportedBuild, now: datetime) -> dict[str, Any]:
    values = dict(imported.columns(), **_FIXED)
    values["buildrequires"] = Json(values["buildrequires"])
    values["requires"] = Json(values["requires"])
    values.update(time_submitted=now, time_modified=now, time_completed=now)
    return values


async def find_imported_nsvc(
    cursor: Any, nsvc: tuple[str, str, int, str]
) -> ModuleBuild | None:
    """Find and lock the build of this ``(name, stream, version, context)``."""
    await cursor.execute(
        f"SELECT {MODULE_COLUMNS} FROM module_builds WHERE name = %s"
        " AND stream = %s AND version = %s AND context = %s FOR UPDATE",
        nsvc,
    )
    row = cursor.fetchone()
    return module_build_from_row(row) if row else None


async def insert_imported(
    cursor: Any, imported: ImportedBuild, now: datetime
) -> ModuleBuild:
    """Insert an imported build, ``ready``; answer it as written.

    :raises Conflict: another transaction recorded that NSVC meanwhile.
    """
    module = imported.module
    values = _values(imported, now)
    values.update(
        name=module.name,
        stream=module.stream,
        version=module.version,
        context=module.context,
        build_context="",
        runtime_context="",
    )
    columns = sorted(values)
    try:
        await cursor.execute(
            f"INSERT INTO module_builds ({', '.join(columns)}) VALUES"
            f" ({', '.join(['%s'] * len(columns))}) RETURNING {MODULE_COLUMNS}",
            [values[c] for c in columns],
        )
    except psycopg2.errors.UniqueViolation:
        raise Conflict(
            f"Module build {module.nsvc} was recorded by another request"
            " meanwhile; import it again to update it"
        ) from None
    return module_build_from_row(cursor.fetchone())


async def update_imported(
    cursor: Any, module_build_id: int, imported: ImportedBuild, now: datetime
) -> ModuleBuild:
    """Write an import over the imported build ``module_build_id`` (MBS's
    "Updating existing module build"): ``ready`` again, the three times
    now; answer it as written."""
    values = _values(imported, now)
    columns = sorted(values)
    await cursor.execute(
        f"UPDATE module_builds SET {', '.join(f'{c} = %s' for c in columns)}"
        f" WHERE id = %s RETURNING {MODULE_COLUMNS}",
        [values[c] for c in columns] + [module_build_id],
    )
    return module_build_from_row(cursor.fetchone())
