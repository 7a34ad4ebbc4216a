"""The seed API's JSON views of module builds, shaped by PostgreSQL.

``GET /rida/module-builds/N`` and ``GET /rida/module-builds/`` are the
hottest reads. Going through ``ModuleBuild``/``ComponentBuild`` values
(datetimes parsed, states looked up, dataclasses built, then turned back
into dicts) took a third of a read's CPU. These statements answer exactly
the dicts of ``ridad.domain.views.module_build_view`` and
``module_list_item``, keys in the same order: times as ``to_char`` in
UTC (``TIME_FORMAT``, seconds truncated as ``strftime`` does), states as
stored (their labels), versions as text, components and tasks ordered by
batch, then name in code-point order (``COLLATE "C"``: Python's order).
The bus and every other reader keep the domain values;
tests/db/test_build_views.py holds both forms equal.
"""

from __future__ import annotations

from typing import Any

from ridad.db.build_rows import MAX_ID
from ridad.db.pool import Pool
from ridad.db.runs import Prepared
from ridad.errors import NotFound

__all__ = ["list_items", "single_view"]


def _time(column: str) -> str:
    """``column`` (TIMESTAMPTZ) as ``format_time`` writes it (NULL: null)."""
    return (
        f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        f" AS {column}"
    )


_ITEM = (
    "id, state, name, stream, version::text AS version, context, owner,"
    f" {_time('time_submitted')}, {_time('time_modified')}"
)
_ORDER = 'c.batch, c.name COLLATE "C"'
_COMPONENT = (
    "json_build_object('name', c.name, 'type', c.type, 'ref', c.ref,"
    " 'commit', c.scm_commit, 'batch', c.batch, 'task_id', c.task_id,"
    " 'nvr', c.nvr, 'state', c.state, 'state_reason', c.state_reason,"
    " 'reused_component_id', c.reused_component_id)"
)
_TASK = (
    "CASE WHEN c.task_id IS NULL THEN NULL ELSE"
    " c.task_id || '/' || lower(coalesce(c.task_state, 'free')) END"
)
_SINGLE = (
    "SELECT id, name, stream, version::text AS version, context, state,"
    " state_reason, owner, scmurl, koji_tag,"
    " CASE WHEN cg_state = 'imported' THEN cg_build_id END AS koji_build_id,"
    " scratch, srpms,"
    f" {_time('time_submitted')}, {_time('time_modified')},"
    f" {_time('time_completed')}, artifact_count, rebuild_strategy,"
    " reused_module_id,"
    f" (SELECT coalesce(json_object_agg(c.type || '/' || c.name, {_TASK}"
    f" ORDER BY {_ORDER}), '{{}}'::json) FROM component_builds c"
    " WHERE c.module_build_id = module_builds.id) AS tasks,"
    f" (SELECT coalesce(json_agg({_COMPONENT} ORDER BY {_ORDER}), '[]'::json)"
    " FROM component_builds c WHERE c.module_build_id = module_builds.id)"
    " AS components"
    " FROM module_builds WHERE id = %s"
)
_PREPARED_SINGLE = Prepared(_SINGLE, ("bigint",))
#: An unfiltered page: the total is the row migration 012's triggers keep.
_PREPARED_PAGE = Prepared(
    f"SELECT {_ITEM}, (SELECT n FROM module_build_count) AS total_count"
    " FROM module_builds ORDER BY id DESC LIMIT %s OFFSET %s",
    ("bigint", "bigint"),
)


def _page(page: int, per_page: int) -> list[int]:
    return [per_page, (page - 1) * per_page]


async def single_view(pool: Pool, module_build_id: int) -> dict[str, Any]:
    """``module_build_view`` of one build, in one statement.

    :raises NotFound: when there is no such build.
    """
    if not 0 < module_build_id <= MAX_ID:
        raise NotFound(f"Module build {module_build_id} does not exist")
    rows = await pool.run_prepared(_PREPARED_SINGLE, (module_build_id,))
    if not rows:
        raise NotFound(f"Module build {module_build_id} does not exist")
    return rows[0]


async def list_items(
    pool: Pool, where: str, params: list[Any], *, page: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    """``module_list_item`` of one page of builds (``where``: the filter's
    SQL, with ``params``), newest first, and the total count, in one
    statement (two past the last page). Unfiltered, the total is the row
    the triggers of migration 012 keep."""
    if not where:
        rows = await pool.run_prepared(_PREPARED_PAGE, _page(page, per_page))
    else:
        count = f"SELECT count(*) FROM module_builds{where}"
        rows = await pool.run_query(
            f"SELECT {_ITEM}, ({count}) AS total_count"
            f" FROM module_builds{where} ORDER BY id DESC LIMIT %s OFFSET %s",
            params + params + _page(page, per_page),
        )
    if not rows:
        counted = await pool.run_query(
            f"SELECT count(*) AS total FROM module_builds{where}", params
        )
        return [], int(counted[0]["total"])
    total = int(rows[0]["total_count"])
    for row in rows:
        del row["total_count"]
    return rows, total
