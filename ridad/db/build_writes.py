"""The write SQL of ``module_builds`` and ``component_builds``.

Every function takes the cursor of the caller's transaction (``transitions``
composes them, one transaction per change). Updates answer the rows as they
wrote them (``RETURNING``), so nothing has to be read back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from psycopg2.extras import Json

from ridad.db.build_rows import (
    COMPONENT_COLUMNS,
    MODULE_COLUMNS,
    component_build_from_row,
    module_build_from_row,
)
from ridad.db.trace import insert_trace
from ridad.domain.builds import (
    ComponentBuild,
    ModuleBuild,
    NewComponent,
)
from ridad.domain.states import ComponentState, ModuleState
from ridad.errors import NotFound

#: A keyword argument left at KEEP leaves its column as it is.
KEEP: Any = object()


async def _update_module(
    cursor: Any, module_build_id: int, assignments: dict[str, Any]
) -> ModuleBuild:
    columns = sorted(assignments)
    await cursor.execute(
        f"UPDATE module_builds SET {', '.join(f'{c} = %s' for c in columns)}"
        f" WHERE id = %s RETURNING {MODULE_COLUMNS}",
        [assignments[c] for c in columns] + [module_build_id],
    )
    row = cursor.fetchone()
    if row is None:
        raise NotFound(f"Module build {module_build_id} does not exist")
    return module_build_from_row(row)


async def trace_module(
    cursor: Any,
    module_build_id: int,
    old_state: str | None,
    new_state: str,
    reason: str | None,
    now: datetime,
) -> None:
    """Write the trace row of a module-level change."""
    await insert_trace(
        cursor,
        module_build_id=module_build_id,
        component_build_id=None,
        old_state=old_state,
        new_state=new_state,
        reason=reason,
        now=now,
    )


async def set_module_state(
    cursor: Any,
    build: ModuleBuild,
    state: ModuleState,
    reason: str | None,
    now: datetime,
    completed: bool = False,
    koji_tag: str = KEEP,
    *,
    buildrequires: Mapping[str, Any] = KEEP,
) -> ModuleBuild:
    """Write a module build's new state and its trace row (and its Koji tag
    and buildrequires, unless KEEP)."""
    module_build_id = build.id
    await trace_module(cursor, build.id, build.state.label, state.label, reason, now)
    assignments: dict[str, Any] = {
        "state": state.label,
        "state_reason": reason,
        "time_modified": now,
    }
    if completed:
        assignments["time_completed"] = now
    if koji_tag is not KEEP:
        assignments["koji_tag"] = koji_tag
    if buildrequires is not KEEP:
        assignments["buildrequires"] = Json(dict(buildrequires))
    return await _update_module(cursor, module_build_id, assignments)


async def set_repo_task(
    cursor: Any, module_build_id: int, repo_task_id: int | None, now: datetime
) -> ModuleBuild:
    """Remember the newRepo task in flight; None: the intent to start one, now."""
    if repo_task_id is None:
        return await _update_module(cursor, module_build_id, {"repo_requested_at": now})
    assignments = {"repo_task_id": repo_task_id, "repo_requested_at": None}
    return await _update_module(cursor, module_build_id, assignments)


async def set_repo_progress(
    cursor: Any,
    module_build_id: int,
    repo_event: int | None,
    task_finished: bool,
    task_failed: bool,
) -> ModuleBuild:
    """Note a newer repo (unless None), a finished newRepo task, a failed attempt."""
    await cursor.execute(
        "UPDATE module_builds SET repo_event = COALESCE(%s, repo_event),"
        " repo_task_id = CASE WHEN %s THEN NULL ELSE repo_task_id END,"
        " repo_attempts = repo_attempts + CASE WHEN %s THEN 1 ELSE 0 END"
        f" WHERE id = %s RETURNING {MODULE_COLUMNS}",
        (repo_event, task_finished or task_failed, task_failed, module_build_id),
    )
    return module_build_from_row(cursor.fetchone())


async def insert_components(
    cursor: Any,
    module_build_id: int,
    components: Sequence[NewComponent],
    now: datetime,
) -> list[ComponentBuild]:
    """Insert components in ``waiting``, with a trace row each; return them in order."""
    inserted = []
    for c in components:
        await cursor.execute(
            "INSERT INTO component_builds (module_build_id, name, package,"
            " repository, ref, scm_commit, batch, buildorder, buildafter,"
            " buildonly, source, state, time_modified, arches) VALUES (%s, %s,"
            " %s, %s, %s, %s, %s, %s, %s, %s, %s, 'waiting', %s, %s)"
            f" RETURNING {COMPONENT_COLUMNS}",
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
                list(c.arches) if c.arches is not None else None,
            ),
        )
        added = component_build_from_row(cursor.fetchone())
        await insert_trace(
            cursor,
            module_build_id=module_build_id,
            component_build_id=added.id,
            old_state=None,
            new_state="waiting",
            reason=None,
            now=now,
        )
        inserted.append(added)
    return inserted


async def update_component_source(
    cursor: Any, component_build_id: int, new: NewComponent
) -> None:
    """Point an unfinished component at its newly verified source."""
    await cursor.execute(
        "UPDATE component_builds SET repository = %s, ref = %s,"
        " scm_commit = %s, batch = %s, buildorder = %s, buildafter = %s,"
        " buildonly = %s, package = %s, source = %s, arches = %s,"
        " submitted_at = NULL,"
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
            list(new.arches) if new.arches is not None else None,
            component_build_id,
        ),
    )


async def reset_component(cursor: Any, component_build_id: int) -> None:
    """Forget everything Koji did for a component (module-build-macros,
    which the scheduler makes again)."""
    await cursor.execute(
        "UPDATE component_builds SET source = NULL, submitted_at = NULL,"
        " task_id = NULL, task_state = NULL, nvr = NULL, koji_build_id = NULL,"
        " tagged = FALSE, tag_event = NULL WHERE id = %s",
        (component_build_id,),
    )


async def _update_components(
    cursor: Any, ids: Sequence[int], assignments: dict[str, Any], extra: str = ""
) -> list[ComponentBuild]:
    columns = sorted(assignments)
    sets = [f"{c} = %s" for c in columns] + ([extra] if extra else [])
    await cursor.execute(
        f"UPDATE component_builds SET {', '.join(sets)}"
        f" WHERE id = ANY(%s) RETURNING {COMPONENT_COLUMNS}",
        [assignments[c] for c in columns] + [list(ids)],
    )
    return [component_build_from_row(r) for r in cursor.fetchall()]


async def set_component_state(
    cursor: Any,
    component: ComponentBuild,
    state: ComponentState,
    reason: str | None,
    now: datetime,
    *,
    task_id: int = KEEP,
    task_state: str = KEEP,
    nvr: str = KEEP,
    koji_build_id: int = KEEP,
    reused_component_id: int = KEEP,
) -> ComponentBuild:
    """Write a component's new state, what Koji said with it (or the
    reused component it took it from), and its trace row."""
    await insert_trace(
        cursor,
        module_build_id=component.module_build_id,
        component_build_id=component.id,
        old_state=component.state.label,
        new_state=state.label,
        reason=reason,
        now=now,
    )
    given = {
        "task_id": task_id,
        "task_state": task_state,
        "nvr": nvr,
        "koji_build_id": koji_build_id,
        "reused_component_id": reused_component_id,
    }
    assignments = {k: v for k, v in given.items() if v is not KEEP}
    assignments.update(state=state.label, state_reason=reason, time_modified=now)
    (changed,) = await _update_components(cursor, [component.id], assignments)
    return changed


async def set_submission_intent(
    cursor: Any, ids: Sequence[int], now: datetime
) -> list[ComponentBuild]:
    """Note that these components are about to be submitted (one more attempt)."""
    return await _update_components(
        cursor, ids, {"submitted_at": now}, "attempt = attempt + 1"
    )


async def clear_submission_intent(
    cursor: Any, component_build_id: int
) -> list[ComponentBuild]:
    """Forget a submission Koji never received."""
    return await _update_components(
        cursor, [component_build_id], {"submitted_at": None}
    )


async def set_task_state(
    cursor: Any, component_build_id: int, task_state: str
) -> list[ComponentBuild]:
    """Note the Koji state of a component's task (its own state unchanged)."""
    return await _update_components(
        cursor, [component_build_id], {"task_state": task_state}
    )


async def set_tagged(
    cursor: Any, ids: Sequence[int], tag_event: int
) -> list[ComponentBuild]:
    """Note that these components' builds are tagged, as of ``tag_event``."""
    return await _update_components(
        cursor, ids, {"tagged": True, "tag_event": tag_event}
    )
