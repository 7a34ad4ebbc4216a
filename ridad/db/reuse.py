"""Reads of component reuse: the ready builds a new build of the same
module may reuse components from, the base modules they were built
against, and the chosen build with its components. The write of a reused
component is ``build_writes.set_component_state`` (with
``reused_component_id``) and of the choice ``set_reused_module``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ridad.db.build_rows import MODULE_COLUMNS, load_build, module_build_from_row
from ridad.db.pool import Pool
from ridad.domain.builds import BuildSnapshot, ModuleBuild
from ridad.errors import NotFound


class ReuseStore:
    """Reads of the builds components may be reused from, on the pool."""

    def __init__(self, *, pool: Pool) -> None:
        self._pool = pool

    async def candidates(self, build: ModuleBuild) -> list[ModuleBuild]:
        """The ready builds of ``build``'s name and stream, neither scratch
        nor imported, of its build context or of its context without base
        modules, the most recently completed first (as MBS orders them)."""
        rows = await self._pool.run_query(
            f"SELECT {MODULE_COLUMNS} FROM module_builds"
            " WHERE name = %s AND stream = %s AND state = 'ready'"
            " AND NOT scratch AND NOT imported AND id <> %s"
            " AND (build_context = %s OR build_context_no_bms = %s)"
            " ORDER BY time_completed DESC NULLS LAST, id DESC LIMIT 50",
            (
                build.name,
                build.stream,
                build.id,
                build.build_context,
                build.build_context_no_bms,
            ),
        )
        return [module_build_from_row(r) for r in rows]

    async def builds(self, module_build_ids: Sequence[int]) -> dict[int, ModuleBuild]:
        """The builds of ``module_build_ids`` that exist (the base modules
        candidates were built against), by id."""
        if not module_build_ids:
            return {}
        rows = await self._pool.run_query(
            f"SELECT {MODULE_COLUMNS} FROM module_builds WHERE id = ANY(%s)",
            (list(module_build_ids),),
        )
        return {int(r["id"]): module_build_from_row(r) for r in rows}

    async def source(self, module_build_id: int) -> BuildSnapshot | None:
        """The build components are reused from, with its components, read
        consistently; None when it is gone."""
        try:
            return await self._pool.run_interaction(load_build, module_build_id)
        except NotFound:
            return None


async def set_reused_module(
    cursor: Any, module_build_id: int, reused_module_id: int
) -> ModuleBuild:
    """Note the build components are reused from (in the caller's transaction)."""
    await cursor.execute(
        "UPDATE module_builds SET reused_module_id = %s"
        f" WHERE id = %s RETURNING {MODULE_COLUMNS}",
        (reused_module_id, module_build_id),
    )
    row = cursor.fetchone()
    if row is None:
        raise NotFound(f"Module build {module_build_id} does not exist")
    return module_build_from_row(row)
