"""Pool reads of the status page (``ridad.web``): one build with its
components, its whole state trace and its final ``modulemd.txt``, read in
one transaction; and the newest build of a module stream, for its badge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ridad.db.build_rows import (
    MAX_ID,
    MODULE_COLUMNS,
    load_build,
    module_build_from_row,
)
from ridad.db.pool import Pool
from ridad.domain.builds import ComponentBuild, ModuleBuild, TraceEntry
from ridad.domain.module_documents import WHOLE_MODULE
from ridad.errors import NotFound

__all__ = ["BuildPageData", "StatusPageStore"]


@dataclass(frozen=True)
class BuildPageData:
    """What a build's page shows, as one transaction read it: components by
    batch and name, every trace row (the module's and its components')
    oldest first, and ``modulemd.txt`` once written (None before)."""

    build: ModuleBuild
    components: tuple[ComponentBuild, ...]
    trace: tuple[TraceEntry, ...]
    final_modulemd: str | None


class StatusPageStore:
    """The status page's reads, on the pool."""

    def __init__(self, *, pool: Pool) -> None:
        self._pool = pool

    async def build_page(self, module_build_id: int) -> BuildPageData:
        """One build's page data, read consistently.

        :raises NotFound: when there is no such build.
        """
        if not 0 < module_build_id <= MAX_ID:
            raise NotFound(f"Module build {module_build_id} does not exist")
        result: BuildPageData = await self._pool.run_interaction(
            _read_page, module_build_id
        )
        return result

    async def newest_build(self, name: str, stream: str) -> ModuleBuild | None:
        """The newest (last submitted) build of a module stream that is not
        a scratch build, or None."""
        rows = await self._pool.run_query(
            f"SELECT {MODULE_COLUMNS} FROM module_builds"
            " WHERE name = %s AND stream = %s AND NOT scratch"
            " ORDER BY id DESC LIMIT 1",
            (name, stream),
        )
        return module_build_from_row(rows[0]) if rows else None


async def _read_page(cursor: Any, module_build_id: int) -> BuildPageData:
    snapshot = await load_build(cursor, module_build_id)
    await cursor.execute(
        "SELECT id, module_build_id, component_build_id, time, old_state,"
        " new_state, reason FROM state_trace WHERE module_build_id = %s"
        " ORDER BY id",
        (module_build_id,),
    )
    trace = tuple(TraceEntry(**row) for row in cursor.fetchall())
    await cursor.execute(
        "SELECT content FROM final_modulemds"
        " WHERE module_build_id = %s AND filename = %s",
        (module_build_id, WHOLE_MODULE),
    )
    row = cursor.fetchone()
    return BuildPageData(
        build=snapshot.build,
        components=snapshot.components,
        trace=trace,
        final_modulemd=row["content"] if row else None,
    )
