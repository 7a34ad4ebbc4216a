"""Open Koji tasks for the poll cycle benchmark: FREE build tasks in kojisim
(its builder paused) and ``building`` components that track them, in copies
of module builds that reached ready."""

from __future__ import annotations

from typing import Any

from ridad.db.pool import Pool
from ridad.domain.scheduling import MACROS_PACKAGE
from ridad.koji.client import KojiCall

OPEN_PER_MODULE = 100
TASKS_PER_REQUEST = 20
COMPONENT_COPY_COLUMNS = (
    "name, type, package, repository, ref, scm_commit, batch, buildorder,"
    " buildafter, buildonly, state, state_reason, task_id, task_state, nvr,"
    " time_modified, source, submitted_at, attempt, koji_build_id, tagged,"
    " tag_event"
)
MODULE_COPY = (
    "INSERT INTO module_builds (name, stream, version, context, state, owner,"
    " scmurl, scm_commit, branch, modulemd, build_context, runtime_context,"
    " buildrequires, requires, koji_tag, scratch, time_submitted, time_modified,"
    " repo_event, repo_attempts) SELECT name, stream, version + %s, context,"
    " 'build', owner, scmurl, scm_commit, branch, modulemd, build_context,"
    " runtime_context, buildrequires, requires, koji_tag, scratch, now(), now(),"
    " repo_event, 0 FROM module_builds WHERE id = %s RETURNING id"
)
COMPONENTS_COPY = (
    f"INSERT INTO component_builds (module_build_id, {COMPONENT_COPY_COLUMNS})"
    f" SELECT %s, {COMPONENT_COPY_COLUMNS} FROM component_builds"
    " WHERE module_build_id = %s"
)
OPEN_COMPONENT = (
    "INSERT INTO component_builds (module_build_id, name, package, repository,"
    " ref, scm_commit, batch, buildorder, source, state, task_id, task_state,"
    " submitted_at, attempt, time_modified) SELECT %s, %s, package, repository,"
    " ref, scm_commit, %s, %s, source, 'building', %s, 'free', now(), 1, now()"
    " FROM component_builds WHERE id = %s"
)


async def lease_epoch(bench_pool: Pool) -> int:
    """The scheduler lease's current epoch."""
    rows = await bench_pool.run_query("SELECT epoch FROM scheduler_leases")
    return int(rows[0]["epoch"])


async def open_tasks(
    koji: Any, bench_pool: Pool, count: int, *, per_module: int = OPEN_PER_MODULE
) -> None:
    """Create ``count`` FREE build tasks in kojisim and as many building
    components, ``per_module`` in each copy of a ready module.

    The tasks are created a few per request: kojisim copies its whole state
    for each call, and one long request would stall the reactor long enough
    for the scheduler lock's check to time out.
    """
    modules = await bench_pool.run_query(
        "SELECT m.id, m.koji_tag, (SELECT max(batch) FROM component_builds"
        " WHERE module_build_id = m.id) AS batch, (SELECT min(id)"
        " FROM component_builds WHERE module_build_id = m.id AND name <> %s)"
        " AS template FROM module_builds m WHERE state = 'ready' ORDER BY id",
        (MACROS_PACKAGE,),
    )
    modules = [m for m in modules if m["template"] is not None]
    templates = [
        (modules[index % len(modules)], index)
        for index in range(-(-count // per_module))
    ]
    plan = []
    for template, index in templates:
        room = min(per_module, count - index * per_module)
        plan += [(template, index, slot) for slot in range(room)]
    sources = await bench_pool.run_query(
        "SELECT id, source FROM component_builds WHERE id = ANY(%s)",
        ([t["template"] for t, _ in templates],),
    )
    source_of = {row["id"]: row["source"] for row in sources}
    task_ids = await koji.admin.multicall(
        [
            KojiCall(
                "build",
                (source_of[t["template"]], t["koji_tag"], {"skip_tag": True}),
            )
            for t, _, _ in plan
        ],
        batch=TASKS_PER_REQUEST,
    )
    for task_id in task_ids:
        if not isinstance(task_id, int):
            raise RuntimeError(f"kojisim refused a build: {task_id}")
    await bench_pool.run_interaction(_insert_open, templates, plan, task_ids)


async def _insert_open(
    cursor: Any,
    templates: list[tuple[dict[str, Any], int]],
    plan: list[tuple[dict[str, Any], int, int]],
    task_ids: list[int],
) -> None:
    copies = {}
    for template, index in templates:
        await cursor.execute(MODULE_COPY, (1000 + index, template["id"]))
        copies[index] = cursor.fetchone()["id"]
        await cursor.execute(COMPONENTS_COPY, (copies[index], template["id"]))
    for (template, index, slot), task_id in zip(plan, task_ids, strict=True):
        batch = template["batch"] + 1
        await cursor.execute(
            OPEN_COMPONENT,
            (
                copies[index],
                f"open{slot:03d}",
                batch,
                batch,
                task_id,
                template["template"],
            ),
        )
