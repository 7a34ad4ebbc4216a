"""One-statement reads of module builds for the API: a build (or a page of
builds) with its components, and for MBS's verbose answers its module-level
trace, aggregated as JSON in the same statement, so a read is one round trip
and needs no transaction (one statement sees one snapshot).

Lists that do not show the modulemd read ``LIGHT_MODULE_COLUMNS``: the
same columns with the large ones no list shows (the modulemd, the
buildrequires and requires, the macros) replaced by empty values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ridad.db.build_rows import COMPONENT_COLUMNS, MODULE_COLUMNS
from ridad.domain.builds import ComponentBuild, TraceEntry
from ridad.domain.states import ComponentState

#: What the large columns become in a light read: a list never shows them.
_LIGHT = {
    "modulemd": "''::text AS modulemd",
    "buildrequires": "'{}'::jsonb AS buildrequires",
    "requires": "'{}'::jsonb AS requires",
    "rpm_macros": "NULL::text AS rpm_macros",
    "cg_token": "NULL::text AS cg_token",
}
LIGHT_MODULE_COLUMNS = ", ".join(
    _LIGHT.get(column, column) for column in MODULE_COLUMNS.split(", ")
)

#: The build's components, ordered by batch and name, as one JSON array.
COMPONENTS_JSON = (
    "(SELECT coalesce(json_agg(c ORDER BY c.batch, c.name), '[]'::json)"
    f" FROM (SELECT {COMPONENT_COLUMNS} FROM component_builds"
    " WHERE component_builds.module_build_id = module_builds.id) c)"
    " AS components_json"
)
_TRACE_COLUMNS = (
    "id, module_build_id, component_build_id, time, old_state, new_state, reason"
)
#: The build's module-level trace, oldest first, as one JSON array.
TRACE_JSON = (
    "(SELECT coalesce(json_agg(t ORDER BY t.id), '[]'::json)"
    f" FROM (SELECT {_TRACE_COLUMNS} FROM state_trace"
    " WHERE state_trace.module_build_id = module_builds.id"
    " AND state_trace.component_build_id IS NULL) t) AS trace_json"
)
_COMPONENT_TIMES = ("time_modified", "submitted_at")


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def component_from_json(values: dict[str, Any]) -> ComponentBuild:
    """A ``ComponentBuild`` from one element of ``COMPONENTS_JSON``."""
    for name in _COMPONENT_TIMES:
        values[name] = _time(values[name])
    values["state"] = ComponentState.from_label(values["state"])
    values["buildafter"] = tuple(values["buildafter"])
    if values["arches"] is not None:
        values["arches"] = tuple(values["arches"])
    return ComponentBuild(**values)


def trace_from_json(values: dict[str, Any]) -> TraceEntry:
    """A ``TraceEntry`` from one element of ``TRACE_JSON``."""
    values["time"] = _time(values["time"])
    return TraceEntry(**values)


def pop_components(values: dict[str, Any]) -> list[ComponentBuild]:
    """Take ``components_json`` out of a row's values (none: [])."""
    return [component_from_json(c) for c in values.pop("components_json", None) or ()]


def pop_trace(values: dict[str, Any]) -> list[TraceEntry]:
    """Take ``trace_json`` out of a row's values (none: [])."""
    return [trace_from_json(t) for t in values.pop("trace_json", None) or ()]
