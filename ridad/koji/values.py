"""Koji's dicts to domain values, and NVR strings.

State numbers are named with koji's own enum tables (``koji.TASK_STATES``,
``koji.BUILD_STATES``, ``koji.REPO_STATES``), lower-cased. A dict that does
not have the shape the hub gives raises KojiError, never KeyError/TypeError.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import koji

from ridad.domain.koji import KojiBuild, KojiEvent, KojiRepo, KojiTask
from ridad.errors import KojiError

_BAD_NVR_PART = re.compile(r"[\s\x00-\x1f\x7f]")


class _Malformed(Exception):
    """A field is missing or has the wrong type (turned into KojiError)."""


def task_from_info(info: Mapping[str, Any]) -> KojiTask:
    """The task a ``getTaskInfo`` (or ``getTaskChildren``/``listTasks``) dict describes.

    :raises KojiError: when the dict lacks a field or has a wrong type/state.
    """
    try:
        return KojiTask(
            id=_int(info, "id"),
            state=_state(koji.TASK_STATES, info, "state"),
            method=_str(info, "method"),
            create_ts=_float(info, "create_ts"),
            start_ts=_optional_float(info, "start_ts"),
            completion_ts=_optional_float(info, "completion_ts"),
            parent=_optional_int(info, "parent"),
            owner=_int(info, "owner"),
        )
    except _Malformed as exc:
        raise KojiError(f"Malformed Koji task info: {exc}") from None


def build_from_info(info: Mapping[str, Any]) -> KojiBuild:
    """The build a ``getBuild``, ``listBuilds`` or ``listTagged`` dict describes.

    :raises KojiError: when the dict lacks a field or has a wrong type/state.
    """
    try:
        key = "id" if "id" in _mapping(info) else "build_id"
        name, version, release = (_str(info, k) for k in ("name", "version", "release"))
        nvr = info.get("nvr", render_nvr(name, version, release))
        if nvr != render_nvr(name, version, release):
            raise _Malformed(f"nvr {nvr!r} does not match its parts")
        return KojiBuild(
            id=_int(info, key),
            nvr=nvr,
            name=name,
            version=version,
            release=release,
            state=_state(koji.BUILD_STATES, info, "state"),
            task_id=_optional_int(info, "task_id"),
        )
    except (_Malformed, KojiError) as exc:
        raise KojiError(f"Malformed Koji build info: {exc}") from None


def repo_from_info(info: Mapping[str, Any]) -> KojiRepo:
    """The repo a ``getRepo`` or ``repoInfo`` dict describes.

    :raises KojiError: when the dict lacks a field or has a wrong type/state.
    """
    try:
        return KojiRepo(
            id=_int(info, "id"),
            state=_state(koji.REPO_STATES, info, "state"),
            create_event=_int(info, "create_event"),
            tag_name=_str(info, "tag_name"),
        )
    except _Malformed as exc:
        raise KojiError(f"Malformed Koji repo info: {exc}") from None


def event_from_info(info: Mapping[str, Any]) -> KojiEvent:
    """The event a ``getLastEvent`` or ``getEvent`` dict describes.

    :raises KojiError: when the dict lacks a field or has a wrong type.
    """
    try:
        return KojiEvent(id=_int(info, "id"), ts=_float(info, "ts"))
    except _Malformed as exc:
        raise KojiError(f"Malformed Koji event info: {exc}") from None


def parse_nvr(nvr: str) -> tuple[str, str, str]:
    """Split ``name-version-release`` at its last two dashes, as koji does.

    :returns: ``(name, version, release)``; the name may hold dashes.
    :raises KojiError: for an empty part, or whitespace or control characters.
    """
    if not isinstance(nvr, str):
        raise KojiError(f"Invalid NVR {nvr!r}: not a string")
    parts = nvr.rsplit("-", 2)
    if len(parts) != 3 or not all(parts) or _BAD_NVR_PART.search(nvr):
        raise KojiError(f"Invalid NVR {nvr!r}")
    name, version, release = parts
    return name, version, release


def render_nvr(name: str, version: str, release: str) -> str:
    """``name-version-release``; the inverse of ``parse_nvr``.

    :raises KojiError: when the parts would not parse back (an empty part, a
        dash in version or release, whitespace or control characters).
    """
    nvr = f"{name}-{version}-{release}"
    if parse_nvr(nvr) != (name, version, release):
        raise KojiError(f"Invalid NVR parts {(name, version, release)!r}")
    return nvr


def _mapping(info: Any) -> Mapping[str, Any]:
    if not isinstance(info, Mapping):
        raise _Malformed(f"not a struct: {info!r:.100}")
    return info


def _field(info: Any, key: str) -> Any:
    mapping = _mapping(info)
    if key not in mapping:
        raise _Malformed(f"no {key!r}")
    return mapping[key]


def _int(info: Any, key: str) -> int:
    value = _field(info, key)
    if type(value) is not int:
        raise _Malformed(f"{key} is {value!r:.100}, not an int")
    return value


def _optional_int(info: Any, key: str) -> int | None:
    return None if _mapping(info).get(key) is None else _int(info, key)


def _float(info: Any, key: str) -> float:
    value = _field(info, key)
    if type(value) not in (int, float):
        raise _Malformed(f"{key} is {value!r:.100}, not a number")
    return float(value)


def _optional_float(info: Any, key: str) -> float | None:
    return None if _mapping(info).get(key) is None else _float(info, key)


def _str(info: Any, key: str) -> str:
    value = _field(info, key)
    if not isinstance(value, str):
        raise _Malformed(f"{key} is {value!r:.100}, not a string")
    return value


def _state(table: koji.Enum, info: Any, key: str) -> str:
    number = _int(info, key)
    name = table.get(number) if number >= 0 else None  # -1 would index from the end
    if not isinstance(name, str):
        raise _Malformed(f"{key} {number} is not a known state")
    return name.lower()
