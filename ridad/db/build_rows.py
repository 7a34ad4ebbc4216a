"""The columns of ``module_builds`` and ``component_builds``, their rows as
domain values, and the consistent read of one build inside a transaction
(shared by the pool reads in ``builds`` and the writes in ``build_writes``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ridad.domain.builds import BuildSnapshot, ComponentBuild, ModuleBuild, TraceEntry
from ridad.domain.states import ComponentState, ModuleState
from ridad.errors import NotFound

MAX_ID = 2**63 - 1

MODULE_COLUMNS = (
    "id, name, stream, version, context, state, state_reason, owner, scmurl,"
    " scm_commit, branch, modulemd, build_context, runtime_context,"
    " buildrequires, requires, koji_tag, scratch, time_submitted,"
    " time_modified, time_completed, repo_event, repo_task_id, repo_attempts,"
    " rpm_macros, repo_requested_at, cg_state, cg_build_id, cg_token,"
    " artifact_count, stream_version, virtual_streams, imported,"
    " build_context_no_bms, arches, rebuild_strategy, reused_module_id, srpms"
)
COMPONENT_COLUMNS = (
    "id, module_build_id, name, type, package, repository, ref, scm_commit,"
    " batch, buildorder, buildafter, buildonly, state, state_reason, task_id,"
    " task_state, nvr, time_modified, source, submitted_at, attempt,"
    " koji_build_id, tagged, tag_event, arches, reused_component_id"
)


def module_build_from_row(row: Mapping[str, Any]) -> ModuleBuild:
    """Turn a ``module_builds`` row into a ``ModuleBuild``."""
    values = dict(row)
    values["version"] = int(values["version"])
    values["state"] = ModuleState.from_label(values["state"])
    values["virtual_streams"] = tuple(values["virtual_streams"])
    values["srpms"] = tuple(values["srpms"])
    if values["arches"] is not None:
        values["arches"] = tuple(values["arches"])
    return ModuleBuild(**values)


def component_build_from_row(row: Mapping[str, Any]) -> ComponentBuild:
    """Turn a ``component_builds`` row into a ``ComponentBuild``."""
    values = dict(row)
    values["state"] = ComponentState.from_label(values["state"])
    values["buildafter"] = tuple(values["buildafter"])
    if values["arches"] is not None:
        values["arches"] = tuple(values["arches"])
    return ComponentBuild(**values)


async def load_build(
    cursor: Any, module_build_id: int, *, lock: bool = False
) -> BuildSnapshot:
    """Read a build and its components inside the caller's transaction.

    With ``lock`` the build row is locked until the transaction ends, which
    serialises every change of one build.

    :raises NotFound: when there is no such build.
    """
    suffix = " FOR UPDATE" if lock else ""
    await cursor.execute(
        f"SELECT {MODULE_COLUMNS} FROM module_builds WHERE id = %s{suffix}",
        (module_build_id,),
    )
    row = cursor.fetchone()
    if row is None:
        raise NotFound(f"Module build {module_build_id} does not exist")
    return BuildSnapshot(
        module_build_from_row(row), await load_components(cursor, module_build_id)
    )


async def load_components(
    cursor: Any, module_build_id: int
) -> tuple[ComponentBuild, ...]:
    """A build's components, by batch and name, inside the caller's
    transaction."""
    await cursor.execute(
        f"SELECT {COMPONENT_COLUMNS} FROM component_builds"
        " WHERE module_build_id = %s ORDER BY batch, name",
        (module_build_id,),
    )
    return tuple(component_build_from_row(r) for r in cursor.fetchall())


async def load_module_trace(cursor: Any, module_build_id: int) -> list[TraceEntry]:
    """The module-level trace rows of a build, oldest first, inside the
    caller's transaction."""
    await cursor.execute(
        "SELECT id, module_build_id, component_build_id, time, old_state,"
        " new_state, reason FROM state_trace WHERE module_build_id = %s"
        " AND component_build_id IS NULL ORDER BY id",
        (module_build_id,),
    )
    return [TraceEntry(**row) for row in cursor.fetchall()]


async def builds_with_components(
    cursor: Any, query: str, params: Sequence[Any] = ()
) -> list[tuple[ModuleBuild, list[ComponentBuild]]]:
    """The builds ``query`` selects (module_builds columns), each with its
    components (by batch, name), in two statements."""
    await cursor.execute(query, params)
    builds = [module_build_from_row(r) for r in cursor.fetchall()]
    if not builds:
        return []
    await cursor.execute(
        f"SELECT {COMPONENT_COLUMNS} FROM component_builds"
        " WHERE module_build_id = ANY(%s) ORDER BY module_build_id, batch, name",
        ([b.id for b in builds],),
    )
    by_build: dict[int, list[ComponentBuild]] = {b.id: [] for b in builds}
    for row in cursor.fetchall():
        component = component_build_from_row(row)
        by_build[component.module_build_id].append(component)
    return [(b, by_build[b.id]) for b in builds]
