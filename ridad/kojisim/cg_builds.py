"""Content generators' access and builds: what ``CGInitBuild``, ``CGImport``
and ``CGRefundBuild`` share.

The checks and messages are the hub's (1.35): a content generator is looked
up strictly (``No such entry in table content_generator: X``), access is an
AuthError; a build is created the way ``new_build`` does it, recycling the
id of a FAILED or CANCELED build with the same NVR (new event, new start
time) and refusing one that exists otherwise, with the repr of the new
build's data in the message as the hub writes it (recording 169).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import koji

from ridad.kojisim.api_rpms import find_rpm
from ridad.kojisim.context import Call
from ridad.kojisim.lookup import find_user
from ridad.kojisim.state import Build, HubState

__all__ = [
    "assert_cg",
    "lookup_cg",
    "lookup_name",
    "match_components",
    "new_build",
    "reserve",
]

BUILD_STATES = koji.BUILD_STATES


def lookup_name(table: dict[int, str], kind: str, info: Any) -> int:
    """The id of a ``btype`` or ``content_generator`` entry by id or name.

    :raises koji.GenericError: no such entry.
    :raises koji.ParameterError: ``info`` is neither an int nor a string.
    """
    if isinstance(info, dict):
        info = info.get("id", info.get("name"))
    if isinstance(info, int) and not isinstance(info, bool):
        found = info if info in table else None
    elif isinstance(info, str):
        found = next((i for i, name in table.items() if name == info), None)
    else:
        raise koji.ParameterError(f"Invalid name or id value: {info}")
    if found is None:
        raise koji.GenericError(f"No such entry in table {kind}: {info}")
    return found


def lookup_cg(state: HubState, cg: Any) -> int:
    """A content generator's id.

    :raises koji.GenericError: no such content generator.
    """
    return lookup_name(state.content_generators, "content_generator", cg)


def assert_cg(call: Call, cg: Any) -> int:
    """The content generator's id, if the caller may act as it.

    :raises koji.GenericError: no such content generator.
    :raises koji.AuthError: not logged in, or no access.
    """
    cg_id = lookup_cg(call.state, cg)
    if not call.logged_in or call.user_id is None:
        raise koji.AuthError("Not logged-in")
    if (cg_id, call.user_id) not in call.state.cg_users:
        name = call.state.content_generators[cg_id]
        raise koji.AuthError(f"Content generator access required ({name})")
    return cg_id


def reserve(call: Call, build_id: int) -> str:
    """A new reservation token (64 hex digits) for a build.

    :raises koji.GenericError: the build is already reserved.
    """
    if build_id in call.state.reservations:
        raise koji.GenericError("Build is already reserved")
    token = secrets.token_hex(32)
    call.state.reservations[build_id] = token
    call.changed()
    return token


def new_build(call: Call, data: dict[str, Any]) -> int:
    """Create a build from ``data`` as the hub's ``new_build`` (not strict)
    does, or recycle the FAILED/CANCELED one with the same NVR; answer its id.

    :raises koji.GenericError: missing fields; the NVR exists and cannot be
        recycled.
    """
    state = call.state
    data = dict(data)
    name = data.get("name")
    if not name:
        raise koji.GenericError("No name or package id provided for build")
    data["pkg_id"] = _package_id(state, name)
    if data.get("owner"):
        owner = find_user(state, data["owner"], strict=True)
        assert owner is not None
        data["owner"] = owner.id
    for key in ("version", "release", "epoch"):
        if key not in data:
            raise koji.GenericError(f"No {key} value for build")
    data["extra"] = json.dumps(data["extra"]) if "extra" in data else None
    for key, default in _DEFAULTS:
        data.setdefault(key, call.user_id if key == "owner" else default)
    old = state.build_by_nvr(name, data["version"], data["release"])
    if old is not None:
        _recycle(call, old, data)
        return old.id
    build_id = state.next_id("build")
    state.builds[build_id] = _record(call, build_id, data)
    return build_id


_DEFAULTS = (
    ("state", BUILD_STATES["COMPLETE"]),
    ("start_time", "NOW"),
    ("completion_time", "NOW"),
    ("source", None),
    ("owner", None),
    ("task_id", None),
    ("volume_id", 0),
    ("draft", False),
)


def _package_id(state: HubState, name: str) -> int:
    """The package's id, created if new."""
    pkg_id = state.package_id(name)
    if pkg_id is None:
        pkg_id = state.next_id("package")
        state.packages[pkg_id] = name
    return pkg_id


def _time(call: Call, value: Any) -> float | None:
    """A build time from ``new_build`` data: ``NOW``, None, or seconds."""
    if value == "NOW":
        return call.now()
    return None if value is None else float(value)


def _record(call: Call, build_id: int, data: dict[str, Any]) -> Build:
    """The build record for ``data`` (at a new event)."""
    return Build(
        id=build_id,
        package_id=data["pkg_id"],
        version=data["version"],
        release=data["release"],
        epoch=data["epoch"],
        state=data["state"],
        task_id=data["task_id"],
        owner_id=data["owner"],
        create_event=call.event(),
        start_ts=_time(call, data["start_time"]),
        completion_ts=_time(call, data["completion_time"]),
        source=data["source"],
        extra=json.loads(data["extra"]) if data["extra"] else None,
        cg_id=data.get("cg_id"),
    )


def _recycle(call: Call, old: Build, data: dict[str, Any]) -> None:
    """Reuse a FAILED or CANCELED build's id for ``data`` (``recycle_build``).

    A BUILDING build asked for again by its own controller (same state and
    task, a CG reservation's nil task) is left alone.

    :raises koji.GenericError: the build is in progress, complete, or has
        tags, RPMs or archives.
    """
    state = call.state
    status = BUILD_STATES[old.state]
    if status == "BUILDING":
        if data["state"] == old.state and data.get("task_id", "") == old.task_id:
            return
        raise koji.GenericError(f"Build already in progress (task {old.task_id})")
    if status not in ("FAILED", "CANCELED"):
        raise koji.GenericError(
            f"Build already exists (id={old.id}, state={status}): {data!r}"
        )
    if any(t.build_id == old.id for t in state.taggings):
        raise koji.GenericError(
            "Build already exists. Unable to recycle, has tag history"
        )
    if any(r.build_id == old.id for r in state.rpms.values()):
        raise koji.GenericError("Build already exists. Unable to recycle, has rpm data")
    if any(a.build_id == old.id for a in state.archives.values()):
        raise koji.GenericError(
            "Build already exists. Unable to recycle, has archive data"
        )
    state.build_btypes.pop(old.id, None)
    state.builds[old.id] = _record(call, old.id, data)


def match_components(
    state: HubState, components: list[Any], log: list[str]
) -> list[int]:
    """The ids of the hub's RPMs among an import's ``components``, matched
    by NVRA as the hub's ``match_rpm`` does (a different ``sigmd5`` is only
    noted); what does not match is noted in ``log`` and ignored.

    :raises koji.GenericError: an external or id-carrying RPM; a bad type.
    """
    matched = []
    for comp in components:
        kind = comp["type"]
        if kind not in ("rpm", "file", "kojifile"):
            raise koji.GenericError(f"No such component type: {kind}")
        if kind != "rpm":
            log.append(f"IGNORING unmatched archive: {comp!r}")
            continue
        if "location" in comp:
            raise koji.GenericError("External rpms not allowed")
        if "id" in comp:
            raise koji.GenericError("Unexpected 'id' field in component")
        rpm = find_rpm(state, comp)
        if rpm is None:
            log.append(f"IGNORING unmatched rpm component: {comp!r}")
            continue
        if rpm.payloadhash != comp["sigmd5"]:
            log.append(f"IGNORING rpm component (md5 mismatch): {comp!r}")
        matched.append(rpm.id)
    return matched
