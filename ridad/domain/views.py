"""JSON views of builds: what ``GET /rida/module-builds/N`` shows and what the
module bus message carries (the same dict, plus message fields)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ridad.domain.builds import ComponentBuild, ModuleBuild

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_time(value: datetime | None) -> str | None:
    """Render a time as ``2026-11-27T10:00:00Z`` (UTC), or None."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime(TIME_FORMAT)


def task_label(component: ComponentBuild) -> str | None:
    """``<task id>/<task state>`` once the component has a task, else None."""
    if component.task_id is None:
        return None
    return f"{component.task_id}/{(component.task_state or 'free').lower()}"


def component_view(component: ComponentBuild) -> dict[str, Any]:
    """The JSON form of one component in a module build view."""
    return {
        "name": component.name,
        "type": component.type,
        "ref": component.ref,
        "commit": component.scm_commit,
        "batch": component.batch,
        "task_id": component.task_id,
        "nvr": component.nvr,
        "state": component.state.label,
        "state_reason": component.state_reason,
        "reused_component_id": component.reused_component_id,
    }


def module_build_view(
    build: ModuleBuild, components: Sequence[ComponentBuild]
) -> dict[str, Any]:
    """The JSON form of a module build with its components.

    Components are ordered by batch, then name. ``artifact_count`` (the RPMs
    of the final modulemd) and ``koji_build_id`` (the imported module in
    Koji) are null until the build has them; ``reused_module_id`` (the
    build components are reused from) until one is named or chosen, and a
    component's ``reused_component_id`` unless it took that build's NVR.
    """
    ordered = sorted(components, key=lambda c: (c.batch, c.name))
    return {
        "id": build.id,
        "name": build.name,
        "stream": build.stream,
        "version": str(build.version),
        "context": build.context,
        "state": build.state.label,
        "state_reason": build.state_reason,
        "owner": build.owner,
        "scmurl": build.scmurl,
        "koji_tag": build.koji_tag,
        "koji_build_id": build.koji_build_id,
        "scratch": build.scratch,
        "srpms": list(build.srpms),
        "time_submitted": format_time(build.time_submitted),
        "time_modified": format_time(build.time_modified),
        "time_completed": format_time(build.time_completed),
        "artifact_count": build.artifact_count,
        "rebuild_strategy": build.rebuild_strategy,
        "reused_module_id": build.reused_module_id,
        "tasks": {f"{c.type}/{c.name}": task_label(c) for c in ordered},
        "components": [component_view(c) for c in ordered],
    }


def module_list_item(build: ModuleBuild) -> dict[str, Any]:
    """The short JSON form used by ``GET /rida/module-builds/``."""
    return {
        "id": build.id,
        "state": build.state.label,
        "name": build.name,
        "stream": build.stream,
        "version": str(build.version),
        "context": build.context,
        "owner": build.owner,
        "time_submitted": format_time(build.time_submitted),
        "time_modified": format_time(build.time_modified),
    }
