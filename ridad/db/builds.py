"""Pool reads of module builds and their components: what the API and the
scheduler read with. The writes are in ``ridad.db.build_writes``, composed
by ``transitions`` inside one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ridad.db.build_reads import (
    COMPONENTS_JSON,
    LIGHT_MODULE_COLUMNS,
    pop_components,
)
from ridad.db.build_rows import (
    COMPONENT_COLUMNS,
    MAX_ID,
    MODULE_COLUMNS,
    builds_with_components,
    component_build_from_row,
    module_build_from_row,
)
from ridad.db.build_views import list_items, single_view
from ridad.db.document_reads import read_documents
from ridad.db.pool import Pool
from ridad.db.reuse import ReuseStore
from ridad.db.submission_plan import PlannedBuild, plan_read_only
from ridad.domain.builds import ComponentBuild, ModuleBuild, NewModuleBuild
from ridad.domain.module_documents import ModuleDocuments, document_filename
from ridad.domain.states import ModuleState
from ridad.errors import NotFound

__all__ = [
    "MAX_ID",
    "BuildFilter",
    "ModuleBuildStore",
    "SchedulingStore",
    "component_build_from_row",
    "module_build_from_row",
]

_MODULE_COLUMNS = MODULE_COLUMNS
_COMPONENT_COLUMNS = COMPONENT_COLUMNS


@dataclass(frozen=True)
class BuildFilter:
    """Filters of the module build list; empty fields filter nothing."""

    states: tuple[ModuleState, ...] = ()
    name: str | None = None
    stream: str | None = None
    owner: str | None = None


class ModuleBuildStore:
    """Reads of module builds, on the pool."""

    def __init__(self, *, pool: Pool) -> None:
        self._pool = pool

    async def get(self, module_build_id: int) -> ModuleBuild:
        """Return one module build.

        :raises NotFound: when there is no such build.
        """
        if not 0 < module_build_id <= MAX_ID:
            raise NotFound(f"Module build {module_build_id} does not exist")
        rows = await self._pool.run_query(
            f"SELECT {_MODULE_COLUMNS} FROM module_builds WHERE id = %s",
            (module_build_id,),
        )
        if not rows:
            raise NotFound(f"Module build {module_build_id} does not exist")
        return module_build_from_row(rows[0])

    async def get_with_components(
        self, module_build_id: int
    ) -> tuple[ModuleBuild, list[ComponentBuild]]:
        """Return one module build and its components (by batch, name), in
        one statement.

        :raises NotFound: when there is no such build.
        """
        if not 0 < module_build_id <= MAX_ID:
            raise NotFound(f"Module build {module_build_id} does not exist")
        rows = await self._pool.run_query(
            f"SELECT {_MODULE_COLUMNS}, {COMPONENTS_JSON} FROM module_builds"
            " WHERE id = %s",
            (module_build_id,),
        )
        if not rows:
            raise NotFound(f"Module build {module_build_id} does not exist")
        values = dict(rows[0])
        components = pop_components(values)
        return module_build_from_row(values), components

    async def documents(
        self, module_build_id: int, *, arch: str | None = None
    ) -> ModuleDocuments:
        """The build's final modulemd documents, with the text of the
        ``arch`` one (None: ``modulemd.txt``), in one statement.

        :raises NotFound: when there is no such build.
        """
        return await read_documents(
            self._pool, module_build_id, filename=document_filename(arch)
        )

    async def view(self, module_build_id: int) -> dict[str, Any]:
        """The seed API's JSON view of one build (``module_build_view``),
        shaped by PostgreSQL in one statement.

        :raises NotFound: when there is no such build.
        """
        return await single_view(self._pool, module_build_id)

    async def list_view(
        self, build_filter: BuildFilter, *, page: int, per_page: int
    ) -> tuple[list[dict[str, Any]], int]:
        """The seed API's list items (``module_list_item``) of one page,
        newest first, and the total count, in one statement."""
        where, params = _where(build_filter)
        return await list_items(self._pool, where, params, page=page, per_page=per_page)

    async def list_page(
        self, build_filter: BuildFilter, *, page: int, per_page: int
    ) -> tuple[list[ModuleBuild], int]:
        """Return one page of builds, newest first, and the total count, in
        one statement (two past the last page). The builds are read light
        (``LIGHT_MODULE_COLUMNS``: no modulemd, buildrequires or requires)."""
        where, params = _where(build_filter)
        count = f"SELECT count(*) FROM module_builds{where}"
        rows = await self._pool.run_query(
            f"SELECT {LIGHT_MODULE_COLUMNS}, ({count}) AS total_count"
            f" FROM module_builds{where} ORDER BY id DESC LIMIT %s OFFSET %s",
            params + params + [per_page, (page - 1) * per_page],
        )
        if not rows:
            counted = await self._pool.run_query(
                f"SELECT count(*) AS total FROM module_builds{where}", params
            )
            return [], int(counted[0]["total"])
        builds = []
        for row in rows:
            values = dict(row)
            total = int(values.pop("total_count"))
            builds.append(module_build_from_row(values))
        return builds, total

    async def newest_ready(self, name: str, stream: str) -> ModuleBuild | None:
        """Return the newest ``ready`` build of a module stream, if any."""
        rows = await self._pool.run_query(
            f"SELECT {_MODULE_COLUMNS} FROM module_builds"
            " WHERE name = %s AND stream = %s AND state = 'ready'"
            " ORDER BY version DESC, id DESC LIMIT 1",
            (name, stream),
        )
        return module_build_from_row(rows[0]) if rows else None

    async def find_nsvc(
        self, name: str, stream: str, version: int, context: str
    ) -> ModuleBuild | None:
        """The build with this NSVC, whatever its state, or None."""
        rows = await self._pool.run_query(
            f"SELECT {_MODULE_COLUMNS} FROM module_builds WHERE name = %s"
            " AND stream = %s AND version = %s AND context = %s",
            (name, stream, version, context),
        )
        return module_build_from_row(rows[0]) if rows else None

    async def plan_submission(
        self, news: Sequence[NewModuleBuild]
    ) -> list[PlannedBuild]:
        """What recording these MSE siblings would do now (a dry run),
        decided in a read-only transaction by the recording's own reads.

        :raises Conflict: every sibling exists and none has failed.
        :raises InvalidRequest: a failed build to start over has a
            component that cannot go back to ``waiting``.
        """
        return await self._pool.run_interaction(plan_read_only, news)

    async def find_unfailed(
        self, name: str, stream: str, version: int, context: str
    ) -> ModuleBuild | None:
        """The build with this NSVC unless it failed (or there is none)."""
        rows = await self._pool.run_query(
            f"SELECT {_MODULE_COLUMNS} FROM module_builds WHERE name = %s"
            " AND stream = %s AND version = %s AND context = %s"
            " AND state <> 'failed'",
            (name, stream, version, context),
        )
        return module_build_from_row(rows[0]) if rows else None


def _where(build_filter: BuildFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if build_filter.states:
        clauses.append("state = ANY(%s)")
        params.append([s.label for s in build_filter.states])
    for column in ("name", "stream", "owner"):
        value = getattr(build_filter, column)
        if value is not None:
            clauses.append(f"{column} = %s")
            params.append(value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


class SchedulingStore(ReuseStore):
    """Reads the scheduler needs each cycle (and those of component reuse)."""

    async def active_builds(
        self,
    ) -> list[tuple[ModuleBuild, list[ComponentBuild]]]:
        """Every unfinished build (init, wait, build, done) with components,
        plus failed builds that still have open tasks to cancel."""
        return await self._pool.run_interaction(self._active)

    async def _active(
        self, cursor: Any
    ) -> list[tuple[ModuleBuild, list[ComponentBuild]]]:
        return await builds_with_components(
            cursor,
            f"SELECT {_MODULE_COLUMNS} FROM module_builds"
            " WHERE (state IN ('init', 'wait', 'build')"
            " OR (state = 'done' AND NOT scratch))"
            " OR (state = 'failed' AND id IN (SELECT module_build_id"
            " FROM component_builds WHERE state = 'building'"
            " OR (state = 'waiting' AND submitted_at IS NOT NULL)))"
            " ORDER BY id",
        )

    async def builds_of(
        self, module_build_ids: Sequence[int]
    ) -> list[tuple[ModuleBuild, list[ComponentBuild]]]:
        """The builds ``module_build_ids`` with their components (the few an
        event was about, polled between two builds of a pass)."""

        async def read(cursor: Any) -> list[tuple[ModuleBuild, list[ComponentBuild]]]:
            return await builds_with_components(
                cursor,
                f"SELECT {_MODULE_COLUMNS} FROM module_builds WHERE id = ANY(%s)"
                " ORDER BY id",
                (list(module_build_ids),),
            )

        return await self._pool.run_interaction(read)

    async def lowest_sibling_id(self, build: ModuleBuild) -> int:
        """The lowest id among ``build`` and its MSE siblings (same name,
        stream, version and scratch flag): MBS's ``%dist`` index, shared by
        every sibling."""
        rows = await self._pool.run_query(
            "SELECT min(id) AS id FROM module_builds"
            " WHERE name = %s AND stream = %s AND version = %s AND scratch = %s",
            (build.name, build.stream, build.version, build.scratch),
        )
        found = rows[0]["id"] if rows else None
        return min(build.id, int(found)) if found is not None else build.id

    async def modulemds(self, module_build_ids: Sequence[int]) -> dict[int, str]:
        """The modulemd of each of ``module_build_ids`` that exists, by id
        (the buildrequired modules whose profiles fill the groups)."""
        if not module_build_ids:
            return {}
        rows = await self._pool.run_query(
            "SELECT id, modulemd FROM module_builds WHERE id = ANY(%s)",
            (list(module_build_ids),),
        )
        return {int(row["id"]): str(row["modulemd"]) for row in rows}
