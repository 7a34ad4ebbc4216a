"""The SQL behind the MBS-compatible API: filtered, ordered pages of module
builds and component builds, and their state traces.

Every value is a query parameter; column names and order expressions come
only from the fixed tables below. The newest-first list filtered by state,
name, stream or owner runs on the list indexes of ``001_initial.sql``, and a
component list filtered by module build on its unique key; filters on the
other columns (version, context, koji_tag, scmurl, the times; component
package, task, NVR, ...) and other orders scan the table, which is
acceptable at ridad's sizes.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ridad.db.build_reads import (
    COMPONENTS_JSON,
    LIGHT_MODULE_COLUMNS,
    TRACE_JSON,
    pop_components,
    pop_trace,
)
from ridad.db.builds import (
    MAX_ID,
    component_build_from_row,
    module_build_from_row,
)
from ridad.db.document_reads import (
    FINAL_TEXT_COLUMN,
    read_documents,
    split_final_text,
)
from ridad.db.mbs_filters import EXPRESSIONS, SIBLINGS_COLUMN
from ridad.db.pool import Pool
from ridad.db.runs import Prepared
from ridad.domain.builds import ComponentBuild, ModuleBuild, TraceEntry
from ridad.domain.module_documents import ModuleDocuments
from ridad.domain.states import ComponentState, ModuleState
from ridad.errors import NotFound

# Attributes are named exactly like their columns (docs/architecture.md section 8).
_MODULE_COLUMNS = ", ".join(f.name for f in dataclasses.fields(ModuleBuild))
_COMPONENT_COLUMNS = ", ".join(f.name for f in dataclasses.fields(ComponentBuild))
_TRACE_COLUMNS = ", ".join(f.name for f in dataclasses.fields(TraceEntry))


def _number_order(column: str, numbers: dict[str, int | None]) -> str:
    """An SQL expression ordering text states by their MBS/Koji number."""
    cases = " ".join(
        f"WHEN '{label}' THEN {number}"
        for label, number in numbers.items()
        if number is not None
    )
    return f"(CASE {column} {cases} END)"


MODULE_FILTER_COLUMNS = frozenset(
    {
        "name",
        "stream",
        "version",
        "context",
        "owner",
        "koji_tag",
        "scmurl",
        "state",
        "time_submitted",
        "time_modified",
        "time_completed",
    }
)
COMPONENT_FILTER_COLUMNS = frozenset(
    {
        "name",
        "type",
        "task_id",
        "nvr",
        "batch",
        "module_build_id",
        "state",
        "time_modified",
    }
)
MODULE_ORDER_EXPRESSIONS = {
    "id": "id",
    "name": "name",
    "stream": "stream",
    "version": "version",
    "context": "context",
    "state": _number_order("state", {s.label: s.number for s in ModuleState}),
    "owner": "owner",
    "koji_tag": "koji_tag",
    "scmurl": "scmurl",
    "scratch": "scratch",
    "time_submitted": "time_submitted",
    "time_modified": "time_modified",
    "time_completed": "time_completed",
}
COMPONENT_ORDER_EXPRESSIONS = {
    "id": "id",
    "name": "name",
    "type": "type",
    "task_id": "task_id",
    "state": _number_order("state", {s.label: s.koji_number for s in ComponentState}),
    "nvr": "nvr",
    "batch": "batch",
    "module_build_id": "module_build_id",
    "time_modified": "time_modified",
}
_OPERATORS = {"=": "{} = %s", ">=": "{} >= %s", "<=": "{} <= %s", "in": "{} = ANY(%s)"}


@dataclass(frozen=True)
class Condition:
    """One filter: ``column operator value`` (``in`` takes a list)."""

    column: str
    operator: str
    value: Any


@dataclass(frozen=True)
class ListQuery:
    """Filters (all must hold), order and page of a list.

    ``order`` holds ``(column, descending)`` pairs; ``id`` descending is
    always the last key, so pages are stable.
    """

    conditions: tuple[Condition, ...] = ()
    order: tuple[tuple[str, bool], ...] = ()
    page: int = 1
    per_page: int = 10


@dataclass(frozen=True)
class ModuleBuildPage:
    """One page of module builds, their components by build id, and the
    total; read verbose, the ``modulemd.txt`` of those that have one."""

    builds: list[ModuleBuild]
    components: dict[int, list[ComponentBuild]]
    total: int
    final_modulemds: dict[int, str] = dataclasses.field(default_factory=dict)
    #: Read verbose: the ids of each build's MSE siblings.
    siblings: dict[int, list[int]] = dataclasses.field(default_factory=dict)
    #: Read verbose: each build's module-level trace, oldest first.
    traces: dict[int, list[TraceEntry]] = dataclasses.field(default_factory=dict)


def _columns(with_final: bool, *, components: bool = False) -> str:
    """The module_builds columns, and ``modulemd.txt``, the siblings and the
    module trace with ``with_final`` (what verbose answers show); without
    it, light (no modulemd: ``LIGHT_MODULE_COLUMNS``). With ``components``
    also the build's components, as JSON."""
    if not with_final:
        columns = LIGHT_MODULE_COLUMNS
    else:
        columns = f"{_MODULE_COLUMNS}, {FINAL_TEXT_COLUMN}, {SIBLINGS_COLUMN}"
        columns += f", {TRACE_JSON}"
    return f"{columns}, {COMPONENTS_JSON}" if components else columns


def _page_of(rows: Iterable[Mapping[str, Any]], total: int) -> ModuleBuildPage:
    """A page from rows read by ``_columns``: the builds, and what came with
    them (``modulemd.txt``, siblings, trace, components) by build id."""
    page = ModuleBuildPage(builds=[], components={}, total=total)
    for row in rows:
        values, final = split_final_text(row)
        siblings = values.pop("siblings", None)
        values.pop("total_count", None)
        traced = "trace_json" in values
        trace = pop_trace(values)
        components = pop_components(values)
        build = module_build_from_row(values)
        page.builds.append(build)
        page.components[build.id] = components
        if final is not None:
            page.final_modulemds[build.id] = final
        if siblings is not None:
            page.siblings[build.id] = [int(i) for i in siblings]
        if traced:
            page.traces[build.id] = trace
    return page


def _sql_parts(
    query: ListQuery, columns: frozenset[str], orders: dict[str, str]
) -> tuple[str, str, list[Any]]:
    """The WHERE and ORDER BY clauses of ``query`` and the WHERE parameters.

    :raises ValueError: a column or operator outside the fixed tables (a
        programming error: the API validates what clients send).
    """
    clauses = []
    params: list[Any] = []
    for condition in query.conditions:
        if condition.operator == "expr" and columns is MODULE_FILTER_COLUMNS:
            clauses.append(EXPRESSIONS[condition.column])
            params.extend(condition.value)
            continue
        if condition.column not in columns or condition.operator not in _OPERATORS:
            raise ValueError(f"cannot filter on {condition}")
        clauses.append(_OPERATORS[condition.operator].format(condition.column))
        params.append(
            list(condition.value) if condition.operator == "in" else condition.value
        )
    keys = []
    for column, descending in query.order:
        if column not in orders:
            raise ValueError(f"cannot order by {column!r}")
        keys.append(orders[column] + (" DESC" if descending else " ASC"))
    if "id" not in (column for column, _ in query.order):
        keys.append("id DESC")
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    return where, " ORDER BY " + ", ".join(keys), params


class MbsQueryStore:
    """Reads of the MBS-compatible API."""

    def __init__(self, *, pool: Pool) -> None:
        self._pool = pool

    async def module_builds(
        self, query: ListQuery, *, with_components: bool, with_final: bool = False
    ) -> ModuleBuildPage:
        """One page of module builds matching ``query`` and the total count,
        in one statement (two past the last page).

        With ``with_components`` each build's components come in the same
        statement; with ``with_final`` their ``modulemd.txt``, siblings and
        module trace too (else the builds are read light).
        """
        where, order_by, params = _sql_parts(
            query, MODULE_FILTER_COLUMNS, MODULE_ORDER_EXPRESSIONS
        )
        count = (
            f"SELECT count(*) AS total FROM module_builds{where}"
            if where
            else "SELECT n AS total FROM module_build_count"  # migration 012
        )
        columns = _columns(with_final, components=with_components)
        rows = await self._pool.run_query(
            f"SELECT {columns}, ({count}) AS total_count FROM module_builds"
            f"{where}{order_by} LIMIT %s OFFSET %s",
            params + params + [query.per_page, (query.page - 1) * query.per_page],
        )
        if rows:
            return _page_of(rows, int(rows[0]["total_count"]))
        counted = await self._pool.run_query(count, params)
        return _page_of([], int(counted[0]["total"]))

    async def module_build(
        self, module_build_id: int, *, with_final: bool, with_components: bool = True
    ) -> ModuleBuildPage:
        """One module build (a page of one) in one statement: with
        ``with_components`` its components, with ``with_final`` its
        ``modulemd.txt``, siblings and module trace.

        :raises NotFound: when there is no such build.
        """
        if not 0 < module_build_id <= MAX_ID:
            raise NotFound(f"Module build {module_build_id} does not exist")
        rows = await self._pool.run_prepared(
            _single_statement(with_final, with_components), (module_build_id,)
        )
        if not rows:
            raise NotFound(f"Module build {module_build_id} does not exist")
        return _page_of(rows, 1)

    async def module_build_with_final(
        self, module_build_id: int
    ) -> tuple[ModuleBuild, str | None]:
        """One module build and its ``modulemd.txt`` (None before it is
        written), in one statement.

        :raises NotFound: when there is no such build.
        """
        missing = NotFound(f"Module build {module_build_id} does not exist")
        if not 0 < module_build_id <= MAX_ID:
            raise missing
        rows = await self._pool.run_query(
            f"SELECT {_MODULE_COLUMNS}, {FINAL_TEXT_COLUMN} FROM module_builds"
            " WHERE id = %s",
            (module_build_id,),
        )
        if not rows:
            raise missing
        page = _page_of(rows, 1)
        return page.builds[0], page.final_modulemds.get(module_build_id)

    async def arch_documents(self, module_build_id: int) -> ModuleDocuments:
        """The build's final modulemd documents with the text of every
        ``modulemd.<arch>.txt``, in one statement.

        :raises NotFound: when there is no such build.
        """
        return await read_documents(self._pool, module_build_id, all_arches=True)

    async def component_builds(
        self, query: ListQuery
    ) -> tuple[list[ComponentBuild], int]:
        """One page of component builds matching ``query`` and the total count."""
        return await self._pool.run_interaction(self._component_builds, query)

    async def _component_builds(
        self, cursor: Any, query: ListQuery
    ) -> tuple[list[ComponentBuild], int]:
        where, order_by, params = _sql_parts(
            query, COMPONENT_FILTER_COLUMNS, COMPONENT_ORDER_EXPRESSIONS
        )
        await cursor.execute(
            f"SELECT {_COMPONENT_COLUMNS} FROM component_builds{where}{order_by}"
            " LIMIT %s OFFSET %s",
            params + [query.per_page, (query.page - 1) * query.per_page],
        )
        components = [component_build_from_row(r) for r in cursor.fetchall()]
        await cursor.execute(
            f"SELECT count(*) AS total FROM component_builds{where}", params
        )
        return components, int(cursor.fetchone()["total"])

    async def component_build(self, component_build_id: int) -> ComponentBuild:
        """One component build.

        :raises NotFound: when there is no such component build.
        """
        missing = NotFound(f"Component build {component_build_id} does not exist")
        if not 0 < component_build_id <= MAX_ID:
            raise missing
        rows = await self._pool.run_query(
            f"SELECT {_COMPONENT_COLUMNS} FROM component_builds WHERE id = %s",
            (component_build_id,),
        )
        if not rows:
            raise missing
        return component_build_from_row(rows[0])

    async def module_traces(
        self, module_build_ids: Sequence[int]
    ) -> dict[int, list[TraceEntry]]:
        """The module-level trace rows of each build, oldest first."""
        traces: dict[int, list[TraceEntry]] = {i: [] for i in module_build_ids}
        if not traces:
            return traces
        rows = await self._pool.run_query(
            f"SELECT {_TRACE_COLUMNS} FROM state_trace"
            " WHERE module_build_id = ANY(%s) AND component_build_id IS NULL"
            " ORDER BY module_build_id, id",
            (list(traces),),
        )
        for row in rows:
            traces[row["module_build_id"]].append(TraceEntry(**row))
        return traces

    async def component_traces(
        self, components: Iterable[ComponentBuild]
    ) -> dict[int, list[TraceEntry]]:
        """The trace rows of each component build, oldest first."""
        wanted = list(components)
        traces: dict[int, list[TraceEntry]] = {c.id: [] for c in wanted}
        if not wanted:
            return traces
        rows = await self._pool.run_query(
            f"SELECT {_TRACE_COLUMNS} FROM state_trace"
            " WHERE module_build_id = ANY(%s) AND component_build_id = ANY(%s)"
            " ORDER BY component_build_id, id",
            (sorted({c.module_build_id for c in wanted}), list(traces)),
        )
        for row in rows:
            traces[row["component_build_id"]].append(TraceEntry(**row))
        return traces


@functools.cache
def _single_statement(with_final: bool, with_components: bool) -> Prepared:
    """The (prepared) statement of one build's MBS view of this kind."""
    columns = _columns(with_final, components=with_components)
    if not with_final:  # the single views show every column but these
        columns = columns.replace(LIGHT_MODULE_COLUMNS, _MODULE_COLUMNS, 1)
    return Prepared(f"SELECT {columns} FROM module_builds WHERE id = %s", ("bigint",))
