"""Build types, content generators, reservations and cancelling a build.

``CGImport`` itself is in L{ridad.kojisim.cg_import}. What the recorded hub
did (095-170) is the contract: a fresh hub has the btypes rpm, maven, win and
image; ``grantCGAccess(..., create=True)`` creates the content generator;
``CGInitBuild`` reserves a BUILDING build with a nil task and a token, and a
FAILED or CANCELED NVR again under the same id with a new token;
``CGRefundBuild`` fails a reservation; ``cancelBuild`` cancels one (and
drops its token).
"""

from __future__ import annotations

from typing import Any

import koji

from ridad.kojisim.api_tags import verify_name
from ridad.kojisim.cg_builds import assert_cg, lookup_cg, new_build, reserve
from ridad.kojisim.context import current
from ridad.kojisim.exports import Exports
from ridad.kojisim.lookup import find_build, find_user
from ridad.kojisim.query import apply_query_opts
from ridad.kojisim.tasks import cancel_task

__all__ = ["exports"]

exports = Exports()
BUILD_STATES = koji.BUILD_STATES


@exports.function("listBTypes")
def list_btypes(query: Any = None, queryOpts: Any = None) -> Any:
    """Build types ``{id, name}``, all or those matching ``query`` (name, id)."""
    query = query or {}
    rows = [
        {"id": btype_id, "name": name}
        for btype_id, name in sorted(current().state.btypes.items())
        if query.get("name", name) == name and query.get("id", btype_id) == btype_id
    ]
    return apply_query_opts(rows, queryOpts)


@exports.function("addBType", writes=True)
def add_btype(name: Any) -> None:
    """Add a build type (admin).

    :raises koji.ActionNotAllowed: not an admin.
    :raises koji.GenericError: a bad name, or the type exists.
    """
    call = current()
    call.assert_perm("admin")
    verify_name(name)
    if call.state.btype_id(name) is not None:
        raise koji.GenericError("btype already exists")
    call.state.btypes[call.state.next_id("btype")] = name
    call.changed()


@exports.function("grantCGAccess", writes=True)
def grant_cg_access(user: Any, cg: Any, create: bool = False) -> None:
    """Let a user import as a content generator (admin); ``create`` makes a
    content generator that does not exist yet.

    :raises koji.ActionNotAllowed: not an admin.
    :raises koji.GenericError: no such user or content generator; granted already.
    """
    call = current()
    call.assert_perm("admin")
    found = find_user(call.state, user, strict=True)
    assert found is not None
    state = call.state
    if create and isinstance(cg, str) and state.cg_id(cg) is None:
        state.content_generators[state.next_id("content_generator")] = cg
    elif create and not isinstance(cg, str) and not isinstance(cg, int | dict):
        raise koji.GenericError("Name must be a string")
    cg_id = lookup_cg(state, cg)
    call.event()  # taken before the duplicate check, as the hub's insert does (102)
    if (cg_id, found.id) in state.cg_users:
        name = state.content_generators[cg_id]
        raise koji.GenericError(f"User already has access to content generator {name}")
    state.cg_users.append((cg_id, found.id))


@exports.function("revokeCGAccess", writes=True)
def revoke_cg_access(user: Any, cg: Any) -> None:
    """Take a user's content-generator access away (admin).

    :raises koji.ActionNotAllowed: not an admin.
    :raises koji.GenericError: no such user or content generator.
    """
    call = current()
    call.assert_perm("admin")
    found = find_user(call.state, user, strict=True)
    assert found is not None
    cg_id = lookup_cg(call.state, cg)
    if (cg_id, found.id) in call.state.cg_users:
        call.state.cg_users.remove((cg_id, found.id))
        call.event()


@exports.function("listCGs")
def list_cgs() -> dict[str, Any]:
    """Content generators with access, by name: ``{id, users: [names]}``."""
    state = current().state
    cgs: dict[str, Any] = {}
    for cg_id, user_id in state.cg_users:
        name = state.content_generators[cg_id]
        entry = cgs.setdefault(name, {"id": cg_id, "users": []})
        entry["users"].append(state.users[user_id].name)
    return cgs


@exports.function("CGInitBuild", writes=True, qualname="cg_init_build")
def cg_init_build(cg: Any, data: Any) -> dict[str, Any]:
    """Reserve the build ``{name, version, release[, epoch]}`` for a content
    generator: ``{build_id, token}``.

    :raises koji.GenericError: no such CG; ``-`` in version or release; the
        NVR is reserved, in progress or complete.
    :raises koji.AuthError: the caller may not act as the CG.
    """
    call = current()
    if isinstance(data, dict) and data.get("draft"):
        raise koji.GenericError("Draft build not allowed")
    cg_id = assert_cg(call, cg)
    data = dict(data)
    data.update(
        owner=call.user_id,
        state=BUILD_STATES["BUILDING"],
        completion_time=None,
        cg_id=cg_id,
    )
    data.setdefault("epoch", None)
    koji.check_NVR(data, strict=True)
    build_id = new_build(call, data)
    return {"build_id": build_id, "token": reserve(call, build_id)}


@exports.function("CGRefundBuild", writes=True, qualname="cg_refund_build")
def cg_refund_build(
    cg: Any, build_id: Any, token: Any, state: Any = BUILD_STATES["FAILED"]
) -> None:
    """Give a reservation back: the build FAILED (or CANCELED), its token gone.

    :raises koji.GenericError: another state; no such build; not BUILDING;
        a wrong token; reserved by another CG.
    :raises koji.AuthError: the caller may not act as the CG.
    """
    if state not in (BUILD_STATES["FAILED"], BUILD_STATES["CANCELED"]):
        raise koji.GenericError("Only FAILED/CANCELED build states are allowed")
    call = current()
    cg_id = assert_cg(call, cg)
    build = find_build(call.state, build_id, strict=True)
    assert build is not None
    if build.state != BUILD_STATES["BUILDING"]:
        raise koji.GenericError(f"Build ID {build_id} is not in BUILDING state")
    if call.state.reservations.get(build.id) != token:
        raise koji.GenericError(f"Token doesn't match build ID {build_id}")
    if build.cg_id != cg_id:
        raise koji.GenericError(f"Build ID {build_id} is not reserved by this CG")
    build.state, build.completion_ts = state, call.now()
    del call.state.reservations[build.id]
    call.changed()


@exports.method("cancelBuild", writes=True)
def cancel_build(self: Any, buildID: Any, strict: bool = False) -> bool:
    """Cancel a BUILDING build (its owner or an admin), with its task, and
    drop its reservation; False when it is not BUILDING or missing.

    :raises koji.ActionNotAllowed: anonymous, or neither owner nor admin.
    :raises koji.GenericError: strict and no such build.
    """
    call = current()
    call.assert_login()
    build = find_build(call.state, buildID, strict=strict)
    if build is None:
        return False
    if build.owner_id != call.user_id and not call.has_perm("admin"):
        raise koji.ActionNotAllowed("Cannot cancel build, not owner")
    if build.state != BUILD_STATES["BUILDING"]:
        return False
    build.state, build.completion_ts = BUILD_STATES["CANCELED"], call.now()
    task = call.state.tasks.get(build.task_id or 0)
    if task is not None:
        cancel_task(call, task, recurse=True)
    call.state.reservations.pop(build.id, None)
    call.changed()
    return True


@exports.function("getBuildType")
def get_build_type(buildInfo: Any, strict: bool = False) -> Any:
    """A build's types with their ``extra.typeinfo`` entries (None when the
    build has none), or None for a missing build.

    :raises koji.GenericError: strict and no such build.
    """
    state = current().state
    if isinstance(buildInfo, dict) and "id" in buildInfo and "extra" in buildInfo:
        build = state.builds.get(buildInfo["id"])
    else:
        build = find_build(state, buildInfo, strict=strict)
    if build is None:
        return None
    typeinfo = (build.extra or {}).get("typeinfo", {})
    return {
        state.btypes[btype_id]: typeinfo.get(state.btypes[btype_id])
        for btype_id in state.build_btypes.get(build.id, [])
    }
