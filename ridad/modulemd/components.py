"""Reader and checks for ``data.components`` (``docs/modulemd.md`` section 5).

Checks, as libmodulemd's ``validate_components``: a component may not have
both a non-zero ``buildorder`` and a ``buildafter``; no two rpm components
of one stream may use the two schemes; every ``buildafter`` names a key of
``components.rpms``; a component's ``arches`` are within
``buildopts.arches`` when that is set. ``buildorder`` is range-checked as
int64 (libmodulemd silently truncates it to 32 bits).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ridad.domain.modulemd import ModuleComponentSpec, RpmComponentSpec
from ridad.modulemd.problems import Location, ProblemLog, child_path
from ridad.modulemd.scalars import (
    FieldReader,
    expect_mapping,
    read_bool,
    read_int64,
    read_record,
    read_str,
    read_str_list,
)
from ridad.modulemd.yamltree import YamlNode

_RPM_READERS: dict[str, FieldReader] = {
    "name": read_str,
    "rationale": read_str,
    "repository": read_str,
    "cache": read_str,
    "ref": read_str,
    "buildorder": read_int64,
    "buildafter": read_str_list,
    "buildonly": read_bool,
    "buildroot": read_bool,
    "srpm-buildroot": read_bool,
    "arches": read_str_list,
    "multilib": read_str_list,
}

_MODULE_READERS: dict[str, FieldReader] = {
    "rationale": read_str,
    "repository": read_str,
    "ref": read_str,
    "buildorder": read_int64,
}

_RPMS_PATH = "data.components.rpms"


@dataclass(frozen=True)
class Components:
    """The components read, with where each rpm component was written."""

    rpms: tuple[RpmComponentSpec, ...] = ()
    modules: tuple[ModuleComponentSpec, ...] = ()
    rpm_locations: Mapping[str, Location] = field(default_factory=dict)


def _present(values: Mapping[str, Any]) -> dict[str, Any]:
    """Drop the keys whose values were invalid (None), with keys made names."""
    return {
        key.replace("-", "_"): value
        for key, value in values.items()
        if value is not None
    }


def _read_entries(
    node: YamlNode, path: str, log: ProblemLog, readers: Mapping[str, FieldReader]
) -> list[tuple[str, Location, dict[str, Any]]]:
    """Read ``key -> component`` entries, keeping document order."""
    mapping = expect_mapping(node, path, log)
    entries = []
    for key, value in mapping.entries if mapping else ():
        values = read_record(value, child_path(path, key.value), log, readers)
        if values is not None:
            entries.append((key.value, value.location, _present(values)))
    return entries


def read_components(node: YamlNode, path: str, log: ProblemLog) -> Components | None:
    """Read ``data.components`` (``rpms`` and ``modules``).

    :return: the components, or None if the section is not a mapping.
    """
    readers: dict[str, FieldReader] = {
        "rpms": lambda n, p, lg: _read_entries(n, p, lg, _RPM_READERS),
        "modules": lambda n, p, lg: _read_entries(n, p, lg, _MODULE_READERS),
    }
    values = read_record(node, path, log, readers)
    if values is None:
        return None
    rpm_entries = values.get("rpms") or []
    module_entries = values.get("modules") or []
    return Components(
        rpms=tuple(
            RpmComponentSpec(key=key, **fields) for key, _, fields in rpm_entries
        ),
        modules=tuple(
            ModuleComponentSpec(key=key, **fields) for key, _, fields in module_entries
        ),
        rpm_locations={key: location for key, location, _ in rpm_entries},
    )


def _check_ordering(components: Components, log: ProblemLog) -> None:
    """Check buildorder/buildafter exclusivity and the buildafter targets."""
    keys = {rpm.key for rpm in components.rpms}
    mixed_in_component = False
    for rpm in components.rpms:
        path = child_path(_RPMS_PATH, rpm.key)
        location = components.rpm_locations[rpm.key]
        if rpm.buildorder and rpm.buildafter:
            mixed_in_component = True
            log.add(
                path,
                location,
                "a component cannot have both a non-zero buildorder and a buildafter",
            )
        for target in rpm.buildafter:
            if target not in keys:
                log.add(
                    child_path(path, "buildafter"),
                    location,
                    f"buildafter {target!r} is not a key of {_RPMS_PATH}",
                )
    uses_buildorder = any(rpm.buildorder for rpm in components.rpms)
    uses_buildafter = any(rpm.buildafter for rpm in components.rpms)
    if uses_buildorder and uses_buildafter and not mixed_in_component:
        first = next(rpm.key for rpm in components.rpms if rpm.buildafter)
        log.add(
            _RPMS_PATH,
            components.rpm_locations[first],
            "the rpm components mix buildorder and buildafter; use one scheme"
            " for the whole stream",
        )


def _check_arches(
    components: Components, module_arches: tuple[str, ...], log: ProblemLog
) -> None:
    """Check that each rpm component's arches are within buildopts.arches."""
    if not module_arches:
        return
    for rpm in components.rpms:
        for arch in rpm.arches:
            if arch not in module_arches:
                log.add(
                    child_path(child_path(_RPMS_PATH, rpm.key), "arches"),
                    components.rpm_locations[rpm.key],
                    f"arch {arch!r} is not in data.buildopts.arches"
                    f" ({', '.join(module_arches)})",
                )


def check_components(
    components: Components, module_arches: tuple[str, ...], log: ProblemLog
) -> None:
    """Apply libmodulemd's component checks, logging every violation."""
    _check_ordering(components, log)
    _check_arches(components, module_arches, log)
