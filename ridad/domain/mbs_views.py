"""JSON shapes of the MBS-compatible API (``/module-build-service/<v>/``):
module builds and component builds as Fedora's Module Build Service shows
them, so MBS clients (fedpkg/rpkg) read ridad's builds unchanged."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from typing import Any

from ridad.domain.builds import ComponentBuild, ModuleBuild, TraceEntry
from ridad.domain.states import ComponentState, ModuleState
from ridad.domain.views import format_time

MBS_PREFIX = "/module-build-service"
# Koji's BUILD_STATES, by number (koji.BUILD_STATES inverted).
KOJI_BUILD_STATE_NAMES = {
    0: "BUILDING",
    1: "COMPLETE",
    2: "DELETED",
    3: "FAILED",
    4: "CANCELED",
}


class Detail(enum.Enum):
    """How much of a build a response shows (MBS's ``short``/``verbose``)."""

    SHORT = "short"
    DEFAULT = "default"
    VERBOSE = "verbose"


def module_build_url(api_version: int, module_build_id: int) -> str:
    """The path of a module build under an API version (MBS's ``state_url``)."""
    return f"{MBS_PREFIX}/{api_version}/module-builds/{module_build_id}"


def component_build_url(api_version: int, component_build_id: int) -> str:
    """The path of a component build under an API version."""
    return f"{MBS_PREFIX}/{api_version}/component-builds/{component_build_id}"


def koji_state_name(state: ComponentState) -> str | None:
    """Koji's name of a component state (``COMPLETE``); None while waiting."""
    number = state.koji_number
    return None if number is None else KOJI_BUILD_STATE_NAMES[number]


def module_trace_items(trace: Iterable[TraceEntry]) -> list[dict[str, Any]]:
    """MBS ``state_trace`` items of a module build, oldest first."""
    items = []
    for entry in trace:
        if entry.component_build_id is not None:
            continue
        state = ModuleState.from_label(entry.new_state)
        items.append(
            {
                "time": format_time(entry.time),
                "state": state.number,
                "state_name": state.label,
                "reason": entry.reason,
            }
        )
    return items


def component_trace_items(trace: Iterable[TraceEntry]) -> list[dict[str, Any]]:
    """MBS ``state_trace`` items of a component build, oldest first."""
    items = []
    for entry in trace:
        state = ComponentState.from_label(entry.new_state)
        items.append(
            {
                "time": format_time(entry.time),
                "state": state.koji_number,
                "state_name": koji_state_name(state),
                "reason": entry.reason,
            }
        )
    return items


def tasks_view(components: Sequence[ComponentBuild]) -> dict[str, Any]:
    """MBS ``tasks``: ``{format: {package: {task_id, state, state_reason, nvr}}}``."""
    tasks: dict[str, dict[str, Any]] = {}
    for component in sorted(components, key=lambda c: (c.batch, c.name)):
        tasks.setdefault(component.type, {})[component.name] = {
            "task_id": component.task_id,
            "state": component.state.koji_number,
            "state_reason": component.state_reason,
            "nvr": component.nvr,
        }
    return tasks


def buildrequires_view(build: ModuleBuild) -> dict[str, Any]:
    """The buildrequired modules as MBS's xmd shows them."""
    return {
        name: {
            "stream": info.get("stream"),
            "version": info.get("version"),
            "context": info.get("context"),
            "koji_tag": info.get("koji_tag"),
        }
        for name, info in sorted(build.buildrequires.items())
    }


def mbs_module_build(
    build: ModuleBuild,
    components: Sequence[ComponentBuild],
    *,
    detail: Detail,
    api_version: int,
    trace: Iterable[TraceEntry] = (),
    final_modulemd: str | None = None,
    siblings: Sequence[int] = (),
) -> dict[str, Any]:
    """A module build as MBS shows it: short, default or verbose.

    Verbose v2 adds ``siblings``: the ids of the builds of the same name,
    stream, version and scratch flag (MSE siblings), as MBS's API v2 does.

    ``components`` and ``trace`` are used only by the default and verbose
    forms (``trace`` only by verbose).

    Verbose ``modulemd`` is, as in MBS, the document Koji has: the
    submitted one until the final ``modulemd.txt`` (``final_modulemd``)
    is written, then that one.
    """
    view: dict[str, Any] = {
        "id": build.id,
        "name": build.name,
        "stream": build.stream,
        "version": str(build.version),
        "context": build.context,
        "state": build.state.number,
        "state_name": build.state.label,
        "scratch": build.scratch,
    }
    if detail is Detail.SHORT:
        return view
    view.update(
        {
            "state_reason": build.state_reason,
            "owner": build.owner,
            "scmurl": build.scmurl,
            "koji_tag": build.koji_tag,
            "time_submitted": format_time(build.time_submitted),
            "time_modified": format_time(build.time_modified),
            "time_completed": format_time(build.time_completed),
            "component_builds": sorted(c.id for c in components),
            "tasks": tasks_view(components),
            "rebuild_strategy": build.rebuild_strategy,
            "srpms": list(build.srpms),
        }
    )
    if detail is Detail.VERBOSE:
        view.update(_verbose(build, api_version, trace, final_modulemd, siblings))
    return view


def _verbose(
    build: ModuleBuild,
    api_version: int,
    trace: Iterable[TraceEntry],
    final_modulemd: str | None,
    siblings: Sequence[int],
) -> dict[str, Any]:
    """What verbose adds to the default view of a module build."""
    fields = {
        "modulemd": build.modulemd if final_modulemd is None else final_modulemd,
        "build_context": build.build_context,
        "runtime_context": build.runtime_context,
        "buildrequires": buildrequires_view(build),
        "reused_module_id": build.reused_module_id,
        "state_trace": module_trace_items(trace),
        "state_url": module_build_url(api_version, build.id),
    }
    if api_version >= 2:
        fields["siblings"] = list(siblings)
    return fields


def mbs_component_build(
    component: ComponentBuild,
    *,
    detail: Detail,
    api_version: int,
    trace: Iterable[TraceEntry] = (),
) -> dict[str, Any]:
    """A component build as MBS shows it; verbose adds batch, the trace and
    ``reused_component_id`` (ridad's: the component build whose NVR it took).

    ``package`` is the component's name in the modulemd, as in MBS.
    """
    view: dict[str, Any] = {
        "id": component.id,
        "package": component.name,
        "format": component.type,
        "task_id": component.task_id,
        "state": component.state.koji_number,
        "state_name": koji_state_name(component.state),
        "state_reason": component.state_reason,
        "module_build": component.module_build_id,
        "nvr": component.nvr,
    }
    if detail is Detail.VERBOSE:
        view.update(
            {
                "batch": component.batch,
                "reused_component_id": component.reused_component_id,
                "state_trace": component_trace_items(trace),
                "state_url": component_build_url(api_version, component.id),
            }
        )
    return view
