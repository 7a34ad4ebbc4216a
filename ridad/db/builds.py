"""Module builds and their components: the SQL of ``module_builds`` and
``component_builds``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg2.errors
from psycopg2.extras import Json

from ridad.db.pool import Pool
from ridad.domain.builds import (
    ComponentBuild,
    ModuleBuild,
    NewComponent,
    NewModuleBuild,
)
from ridad.domain.states import ComponentState, ModuleState
from ridad.errors import Conflict, NotFound

MAX_ID = 2**63 - 1

_MODULE_COLUMNS = (
    "id, name, stream, version, context, state, state_reason, owner, scmurl,"
    " scm_commit, branch, modulemd, build_context, runtime_context,"
    " buildrequires, requires, koji_tag, scratch, time_submitted,"
    " time_modified, time_completed, repo_event, repo_task_id, repo_attempts"
)
_COMPONENT_COLUMNS = (
    "id, module_build_id, name, type, package, repository, ref, scm_commit,"
    " batch, buildorder, buildafter, buildonly, state, state_reason, task_id,"
    " task_state, nvr, time_modified, source, submitted_at, attempt,"
    " koji_build_id, tagged, tag_event"
)


@dataclass(frozen=True)
class BuildFilter:
    """Filters of the module build list; empty fields filter nothing."""

    states: tuple[ModuleState, ...] = ()
    name: str | None = None
    stream: str | None = None
    owner: str | None = None


def module_build_from_row(row: Mapping[str, Any]) -> ModuleBuild:
    """Turn a ``module_builds`` row into a ``ModuleBuild``."""
    values = dict(row)
    values["version"] = int(values["version"])
    values["state"] = ModuleState.from_label(values["state"])
    return ModuleBuild(**values)


def component_build_from_row(row: Mapping[str, Any]) -> ComponentBuild:
    """Turn a ``component_builds`` row into a ``ComponentBuild``."""
    values = dict(row)
    values["state"] = ComponentState.from_label(values["state"])
    values["buildafter"] = tuple(values["buildafter"])
    return ComponentBuild(**values)


class ModuleBuildStore:
    """Reads of module builds, and the writes ``transitions`` composes.

    Write methods take the cursor of the caller's transaction.
    """

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
        """Return one module build and its components, read consistently.

        :raises NotFound: when there is no such build.
        """
        if not 0 < module_build_id <= MAX_ID:
            raise NotFound(f"Module build {module_build_id} does not exist")
        return await self._pool.run_interaction(self.load, module_build_id)

    async def load(
        self, cursor: Any, module_build_id: int, *, lock: bool = False
    ) -> tuple[ModuleBuild, list[ComponentBuild]]:
        """Read a build and its components inside the caller's transaction.

        With ``lock`` the build row is locked until the transaction ends,
        which serialises every change of one build.

        :raises NotFound: when there is no such build.
        """
        suffix = " FOR UPDATE" if lock else ""
        await cursor.execute(
            f"SELECT {_MODULE_COLUMNS} FROM module_builds WHERE id = %s{suffix}",
            (module_build_id,),
        )
        row = cursor.fetchone()
        if row is None:
            raise NotFound(f"Module build {module_build_id} does not exist")
        await cursor.execute(
            f"SELECT {_COMPONENT_COLUMNS} FROM component_builds"
            " WHERE module_build_id = %s ORDER BY batch, name",
            (module_build_id,),
        )
        components = [component_build_from_row(r) for r in cursor.fetchall()]
        return module_build_from_row(row), components

    async def load_component(
        self, cursor: Any, component_build_id: int
    ) -> ComponentBuild:
        """Read one component inside the caller's transaction."""
        await cursor.execute(
            f"SELECT {_COMPONENT_COLUMNS} FROM component_builds WHERE id = %s",
            (component_build_id,),
        )
        return component_build_from_row(cursor.fetchone())

    async def list_page(
        self, build_filter: BuildFilter, *, page: int, per_page: int
    ) -> tuple[list[ModuleBuild], int]:
        """Return one page of builds, newest first, and the total count."""
        where, params = _where(build_filter)
        rows = await self._pool.run_query(
            f"SELECT {_MODULE_COLUMNS} FROM module_builds{where}"
            " ORDER BY id DESC LIMIT %s OFFSET %s",
            params + [per_page, (page - 1) * per_page],
        )
        count = await self._pool.run_query(
            f"SELECT count(*) AS total FROM module_builds{where}", params
        )
        return [module_build_from_row(r) for r in rows], int(count[0]["total"])

    async def newest_ready(self, name: str, stream: str) -> ModuleBuild | None:
        """Return the newest ``ready`` build of a module stream, if any."""
        rows = await self._pool.run_query(
            f"SELECT {_MODULE_COLUMNS} FROM module_builds"
            " WHERE name = %s AND stream = %s AND state = 'ready'"
            " ORDER BY version DESC, id DESC LIMIT 1",
            (name, stream),
        )
        return module_build_from_row(rows[0]) if rows else None

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

    async def find_nsvc(
        self, cursor: Any, name: str, stream: str, version: int, context: str
    ) -> ModuleBuild | None:
        """Find and lock the build with this NSVC inside a transaction."""
        await cursor.execute(
            f"SELECT {_MODULE_COLUMNS} FROM module_builds WHERE name = %s"
            " AND stream = %s AND version = %s AND context = %s FOR UPDATE",
            (name, stream, version, context),
        )
        row = cursor.fetchone()
        return module_build_from_row(row) if row else None

    async def insert(self, cursor: Any, new: NewModuleBuild, now: datetime) -> int:
        """Insert a module build in ``init``; return its id.

        :raises Conflict: when the NSVC exists already (a concurrent submit).
        """
        try:
            await cursor.execute(
                "INSERT INTO module_builds (name, stream, version, context, state,"
                " owner, scmurl, scm_commit, branch, modulemd, build_context,"
                " runtime_context, buildrequires, requires, time_submitted,"
                " time_modified) VALUES (%s, %s, %s, %s, 'init', %s, %s, %s, %s,"
                " %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (
                    new.name,
                    new.stream,
                    new.version,
                    new.context,
                    new.owner,
                    new.scmurl,
                    new.scm_commit,
                    new.branch,
                    new.modulemd,
                    new.build_context,
                    new.runtime_context,
                    Json(new.buildrequires),
                    Json(new.requires),
                    now,
                    now,
                ),
            )
        except psycopg2.errors.UniqueViolation:
            raise Conflict(f"Module build {new.nsvc} already exists") from None
        return int(cursor.fetchone()["id"])

    async def update_for_resubmit(
        self, cursor: Any, module_build_id: int, new: NewModuleBuild, now: datetime
    ) -> None:
        """Point a failed build at its new submission, back in ``init``."""
        await cursor.execute(
            "UPDATE module_builds SET state = 'init', state_reason = NULL,"
            " owner = %s, scmurl = %s, scm_commit = %s, branch = %s,"
            " modulemd = %s, buildrequires = %s, requires = %s,"
            " time_submitted = %s, time_modified = %s, time_completed = NULL"
            " WHERE id = %s",
            (
                new.owner,
                new.scmurl,
                new.scm_commit,
                new.branch,
                new.modulemd,
                Json(new.buildrequires),
                Json(new.requires),
                now,
                now,
                module_build_id,
            ),
        )

    async def set_state(
        self,
        cursor: Any,
        module_build_id: int,
        state: ModuleState,
        reason: str | None,
        now: datetime,
        *,
        completed: bool = False,
    ) -> None:
        """Write a module build's new state (the caller writes the trace)."""
        await cursor.execute(
            "UPDATE module_builds SET state = %s, state_reason = %s,"
            " time_modified = %s,"
            " time_completed = CASE WHEN %s THEN %s ELSE time_completed END"
            " WHERE id = %s",
            (state.label, reason, now, completed, now, module_build_id),
        )

    async def insert_components(
        self,
        cursor: Any,
        module_build_id: int,
        components: Sequence[NewComponent],
        now: datetime,
    ) -> list[int]:
        """Insert components in ``waiting``; return their ids in order."""
        ids = []
        for c in components:
            await cursor.execute(
                "INSERT INTO component_builds (module_build_id, name, package,"
                " repository, ref, scm_commit, batch, buildorder, buildafter,"
                " buildonly, source, state, time_modified) VALUES (%s, %s, %s,"
                " %s, %s, %s, %s, %s, %s, %s, %s, 'waiting', %s) RETURNING id",
                (
                    module_build_id,
                    c.name,
                    c.package,
                    c.repository,
                    c.ref,
                    c.scm_commit,
                    c.batch,
                    c.buildorder,
                    list(c.buildafter),
                    c.buildonly,
                    c.source,
                    now,
                ),
            )
            ids.append(int(cursor.fetchone()["id"]))
        return ids

    async def update_component_source(
        self, cursor: Any, component_build_id: int, new: NewComponent
    ) -> None:
        """Point an unfinished component at its newly verified source."""
        await cursor.execute(
            "UPDATE component_builds SET repository = %s, ref = %s,"
            " scm_commit = %s, batch = %s, buildorder = %s, buildafter = %s,"
            " buildonly = %s, package = %s, source = %s, submitted_at = NULL,"
            " task_id = NULL, task_state = NULL, nvr = NULL,"
            " koji_build_id = NULL, tagged = FALSE, tag_event = NULL"
            " WHERE id = %s",
            (
                new.repository,
                new.ref,
                new.scm_commit,
                new.batch,
                new.buildorder,
                list(new.buildafter),
                new.buildonly,
                new.package,
                new.source,
                component_build_id,
            ),
        )

    async def set_component_state(
        self,
        cursor: Any,
        component_build_id: int,
        state: ComponentState,
        reason: str | None,
        now: datetime,
    ) -> None:
        """Write a component's new state (the caller writes the trace)."""
        await cursor.execute(
            "UPDATE component_builds SET state = %s, state_reason = %s,"
            " time_modified = %s WHERE id = %s",
            (state.label, reason, now, component_build_id),
        )


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


MODULE_UPDATABLE = {"koji_tag", "repo_event", "repo_task_id", "repo_attempts"}
COMPONENT_UPDATABLE = {
    "source",
    "submitted_at",
    "attempt",
    "task_id",
    "task_state",
    "nvr",
    "koji_build_id",
    "tagged",
    "tag_event",
    "repository",
    "ref",
    "scm_commit",
}


async def _update_columns(
    cursor: Any,
    table: str,
    updatable: set[str],
    row_id: int,
    values: Mapping[str, Any],
) -> None:
    unknown = set(values) - updatable
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    columns = sorted(values)
    assignments = ", ".join(f"{c} = %s" for c in columns)
    await cursor.execute(
        f"UPDATE {table} SET {assignments} WHERE id = %s",
        [values[c] for c in columns] + [row_id],
    )


async def update_module_columns(
    cursor: Any, module_build_id: int, values: Mapping[str, Any]
) -> None:
    """Set bookkeeping columns of a module build (not its state)."""
    await _update_columns(
        cursor, "module_builds", MODULE_UPDATABLE, module_build_id, values
    )


async def update_component_columns(
    cursor: Any, component_build_id: int, values: Mapping[str, Any]
) -> None:
    """Set bookkeeping columns of a component build (not its state)."""
    await _update_columns(
        cursor, "component_builds", COMPONENT_UPDATABLE, component_build_id, values
    )


class SchedulingStore:
    """Reads the scheduler needs each cycle."""

    def __init__(self, *, pool: Pool) -> None:
        self._pool = pool

    async def active_builds(
        self,
    ) -> list[tuple[ModuleBuild, list[ComponentBuild]]]:
        """Every unfinished build (init, wait, build, done) with components,
        plus failed builds that still have open tasks to cancel."""
        return await self._pool.run_interaction(self._active)

    async def _active(
        self, cursor: Any
    ) -> list[tuple[ModuleBuild, list[ComponentBuild]]]:
        await cursor.execute(
            f"SELECT {_MODULE_COLUMNS} FROM module_builds"
            " WHERE state IN ('init', 'wait', 'build', 'done')"
            " OR (state = 'failed' AND id IN (SELECT module_build_id"
            " FROM component_builds WHERE state = 'building'"
            " OR (state = 'waiting' AND submitted_at IS NOT NULL)))"
            " ORDER BY id"
        )
        builds = [module_build_from_row(r) for r in cursor.fetchall()]
        if not builds:
            return []
        await cursor.execute(
            f"SELECT {_COMPONENT_COLUMNS} FROM component_builds"
            " WHERE module_build_id = ANY(%s) ORDER BY module_build_id, batch, name",
            ([b.id for b in builds],),
        )
        by_build: dict[int, list[ComponentBuild]] = {b.id: [] for b in builds}
        for row in cursor.fetchall():
            component = component_build_from_row(row)
            by_build[component.module_build_id].append(component)
        return [(b, by_build[b.id]) for b in builds]
