"""The SQL of a submission: a new module build with its components, or a
failed one started over. The functions take the cursor of the caller's
transaction (``transitions`` composes them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg2.errors
from psycopg2.extras import Json

from ridad.db.build_rows import MODULE_COLUMNS, module_build_from_row
from ridad.db.build_writes import (
    insert_components,
    reset_component,
    set_component_state,
    trace_module,
    update_component_source,
)
from ridad.db.cg import clear_cg_import
from ridad.domain.builds import (
    BuildSnapshot,
    ComponentBuild,
    ModuleBuild,
    NewModuleBuild,
)
from ridad.domain.states import ComponentState
from ridad.errors import Conflict

#: The first key of the scratch contexts' advisory locks ("rids").
SCRATCH_LOCK_CLASS = 0x72696473


def _array(arches: tuple[str, ...] | None) -> list[str] | None:
    """A TEXT[] parameter of planned arches (None: NULL)."""
    return list(arches) if arches is not None else None


async def find_nsvc(
    cursor: Any, new: NewModuleBuild, *, lock: bool = True
) -> ModuleBuild | None:
    """Find the build with the NSVC of ``new``, locked unless ``lock`` is
    false (a dry run's read-only transaction, which may not lock rows)."""
    suffix = " FOR UPDATE" if lock else ""
    await cursor.execute(
        f"SELECT {MODULE_COLUMNS} FROM module_builds WHERE name = %s"
        f" AND stream = %s AND version = %s AND context = %s{suffix}",
        (new.name, new.stream, new.version, new.context),
    )
    row = cursor.fetchone()
    return module_build_from_row(row) if row else None


async def scratch_context(
    cursor: Any, new: NewModuleBuild, *, lock: bool = True
) -> str:
    """The context of a new scratch build: MBS's ``<context>_<N>``, N being
    one more than the scratch builds of that NSVC so far.

    A transaction-scoped advisory lock on the name, stream and version
    serialises concurrent scratch submissions of one commit (the two-key
    form: a keyspace apart from the scheduler's one-key lease lock). A dry
    run (``lock`` false) takes none: its N is the one a submission would
    get now.
    """
    if lock:
        await cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
            (SCRATCH_LOCK_CLASS, f"{new.name}:{new.stream}:{new.version}"),
        )
    await cursor.execute(
        "SELECT count(*) AS n FROM module_builds WHERE scratch AND name = %s"
        " AND stream = %s AND version = %s AND starts_with(context, %s)",
        (new.name, new.stream, new.version, new.context + "_"),
    )
    return f"{new.context}_{int(cursor.fetchone()['n']) + 1}"


async def insert_module_build(cursor: Any, new: NewModuleBuild, now: datetime) -> int:
    """Insert a module build in ``init``; return its id.

    :raises Conflict: when the NSVC exists already (a concurrent submit).
    """
    try:
        await cursor.execute(
            "INSERT INTO module_builds (name, stream, version, context, state,"
            " owner, scmurl, scm_commit, branch, modulemd, build_context,"
            " runtime_context, buildrequires, requires, rpm_macros,"
            " time_submitted, time_modified, arches, build_context_no_bms,"
            " scratch, rebuild_strategy, reused_module_id, srpms)"
            " VALUES (%s, %s, %s, %s, 'init', %s, %s, %s, %s, %s, %s, %s, %s,"
            " %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " RETURNING id",
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
                new.rpm_macros,
                now,
                now,
                _array(new.arches),
                new.build_context_no_bms,
                new.scratch,
                new.rebuild_strategy,
                new.reused_module_id,
                list(new.srpms),
            ),
        )
    except psycopg2.errors.UniqueViolation:
        raise Conflict(f"Module build {new.nsvc} already exists") from None
    return int(cursor.fetchone()["id"])


async def create_module_build(cursor: Any, new: NewModuleBuild, now: datetime) -> int:
    """Insert a module build in ``init`` and its components in ``waiting``,
    with their trace rows; return its id.

    :raises Conflict: when the NSVC exists already (a concurrent submit).
    """
    module_build_id = await insert_module_build(cursor, new, now)
    await trace_module(cursor, module_build_id, None, "init", None, now)
    await insert_components(cursor, module_build_id, new.components, now)
    return module_build_id


async def update_for_resubmit(
    cursor: Any, module_build_id: int, new: NewModuleBuild, now: datetime
) -> None:
    """Point a failed build at its new submission, back in ``init`` with no
    repo regeneration pending (and its build target to be made again)."""
    await cursor.execute(
        "UPDATE module_builds SET state = 'init', state_reason = NULL,"
        " owner = %s, scmurl = %s, scm_commit = %s, branch = %s,"
        " modulemd = %s, buildrequires = %s, requires = %s, rpm_macros = %s,"
        " arches = %s, rebuild_strategy = %s, reused_module_id = CASE"
        " WHEN %s = 'all' THEN NULL"
        " ELSE COALESCE(%s, reused_module_id) END,"
        " time_submitted = %s, time_modified = %s, time_completed = NULL,"
        " repo_task_id = NULL, repo_requested_at = NULL, repo_attempts = 0,"
        " target_deleted_at = NULL WHERE id = %s",
        (
            new.owner,
            new.scmurl,
            new.scm_commit,
            new.branch,
            new.modulemd,
            Json(new.buildrequires),
            Json(new.requires),
            new.rpm_macros,
            _array(new.arches),
            new.rebuild_strategy,
            new.rebuild_strategy,
            new.reused_module_id,
            now,
            now,
            module_build_id,
        ),
    )


async def resubmit(
    cursor: Any, old: BuildSnapshot, new: NewModuleBuild, now: datetime
) -> list[tuple[ComponentBuild, ComponentBuild]]:
    """Point a failed build at its new submission, back in ``init``: its
    unfinished components at their new sources (module-build-macros reset,
    made again by the scheduler), new components added. Completed
    components are kept.

    :returns: ``(before, after)`` of each component moved back to ``waiting``.
    """
    await update_for_resubmit(cursor, old.build.id, new, now)
    await clear_cg_import(cursor, old.build.id)
    await trace_module(cursor, old.build.id, "failed", "init", "resubmitted", now)
    verified = {v.name: v for v in new.components}
    moved = []
    for component in old.components:
        if component.state is ComponentState.COMPLETE:
            continue
        if component.name in verified:
            await update_component_source(
                cursor, component.id, verified[component.name]
            )
        else:
            await reset_component(cursor, component.id)
        if component.state is not ComponentState.WAITING:
            after = await set_component_state(
                cursor, component, ComponentState.WAITING, "resubmitted", now
            )
            moved.append((component, after))
    known = {c.name for c in old.components}
    added = [v for v in new.components if v.name not in known]
    await insert_components(cursor, old.build.id, added, now)
    return moved
