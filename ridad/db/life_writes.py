"""The write SQL of a build's life after it was built: its Koji target
deleted, its components untagged. Each function takes the cursor of a
transaction ``transitions`` opened and answers the rows as written."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ridad.db.build_rows import (
    COMPONENT_COLUMNS,
    MODULE_COLUMNS,
    component_build_from_row,
    module_build_from_row,
)
from ridad.domain.builds import ComponentBuild, ModuleBuild
from ridad.errors import NotFound


async def set_target_deleted(
    cursor: Any, module_build_id: int, now: datetime
) -> ModuleBuild:
    """Note that the build's Koji target is gone, as of ``now``.

    :raises NotFound: when there is no such build.
    """
    await cursor.execute(
        "UPDATE module_builds SET target_deleted_at = %s WHERE id = %s"
        f" RETURNING {MODULE_COLUMNS}",
        (now, module_build_id),
    )
    row = cursor.fetchone()
    if row is None:
        raise NotFound(f"Module build {module_build_id} does not exist")
    return module_build_from_row(row)


async def set_untagged(cursor: Any, ids: Sequence[int]) -> list[ComponentBuild]:
    """Note that these components' builds are no longer in the module's tags."""
    await cursor.execute(
        "UPDATE component_builds SET tagged = FALSE, tag_event = NULL"
        f" WHERE id = ANY(%s) RETURNING {COMPONENT_COLUMNS}",
        (list(ids),),
    )
    return [component_build_from_row(r) for r in cursor.fetchall()]
