"""Build records and tagging calls."""

from __future__ import annotations

import fnmatch
from typing import Any

import koji

from ridad.kojisim.context import Call, current
from ridad.kojisim.exports import Exports
from ridad.kojisim.inheritance import package_list
from ridad.kojisim.lookup import find_build, find_tag, find_user
from ridad.kojisim.query import apply_query_opts
from ridad.kojisim.state import Build, HubState, Tag
from ridad.kojisim.tagging import (
    assert_tag_access,
    btype_filter,
    tag_build,
    tagged_builds,
    untag_build,
)
from ridad.kojisim.tasks import make_task
from ridad.kojisim.views import build_view

__all__ = ["exports"]

exports = Exports()


def _tag_and_build(call: Call, tag: Any, build: Any) -> tuple[Tag, Build]:
    """A tag and a build that must both exist.

    :raises koji.GenericError: either is missing.
    """
    found_tag = find_tag(call.state, tag, strict=True)
    found_build = find_build(call.state, build, strict=True)
    assert found_tag is not None and found_build is not None
    return found_tag, found_build


@exports.function("getBuild")
def get_build(buildInfo: Any, strict: bool = False) -> dict[str, Any] | None:
    """A build's dict by id, NVR string or dict; None when missing.

    :raises koji.GenericError: strict and no such build; a malformed NVR.
    """
    call = current()
    build = find_build(call.state, buildInfo, strict=strict)
    return build_view(call.state, build) if build else None


@exports.method("listBuilds")
def list_builds(
    self: Any,
    packageID: Any = None,
    userID: Any = None,
    taskID: Any = None,
    prefix: Any = None,
    state: Any = None,
    volumeID: Any = None,
    source: Any = None,
    createdBefore: Any = None,
    createdAfter: Any = None,
    completeBefore: Any = None,
    completeAfter: Any = None,
    type: Any = None,
    typeInfo: Any = None,
    queryOpts: Any = None,
    pattern: Any = None,
    cgID: Any = None,
    draft: Any = None,
    promotedBefore: Any = None,
    promotedAfter: Any = None,
    promoter: Any = None,
) -> Any:
    """Builds matching the filters, as ``listBuilds`` dicts (oldest first)."""
    hub = current().state
    type_id = btype_filter(hub, type)
    builds = [
        b
        for b in sorted(hub.builds.values(), key=lambda b: b.id)
        if _build_matches(hub, b, packageID, userID, taskID, state)
        and (type_id is None or type_id in hub.build_btypes.get(b.id, []))
        and (cgID is None or b.cg_id == cgID)
    ]
    rows = [build_view(hub, b, listing=True) for b in builds]
    if prefix:
        rows = [
            r for r in rows if r["package_name"].lower().startswith(str(prefix).lower())
        ]
    if pattern:
        rows = [r for r in rows if fnmatch.fnmatch(r["nvr"], str(pattern))]
    if source is not None:
        rows = [r for r in rows if fnmatch.fnmatch(r["source"] or "", str(source))]
    return apply_query_opts(rows, queryOpts)


def _build_matches(
    hub: HubState, build: Build, package: Any, user: Any, task_id: Any, state: Any
) -> bool:
    """Whether a build passes listBuilds' package, owner, task and state filters."""
    if package is not None and package not in (
        build.package_id,
        hub.packages[build.package_id],
    ):
        return False
    if user is not None:
        owner = find_user(hub, user)
        if owner is None or build.owner_id != owner.id:
            return False
    if task_id is not None and (
        build.task_id is None or task_id not in (-1, build.task_id)
    ):
        return False
    return state is None or build.state == state


@exports.method("tagBuild", writes=True)
def tag_build_api(
    self: Any, tag: Any, build: Any, force: bool = False, fromtag: Any = None
) -> int:
    """Check a tagging request and create the ``tagBuild`` task that does it.

    :raises koji.ActionNotAllowed: anonymous, or no access to the tag.
    :raises koji.TagError: the build is not COMPLETE, or its package not listed.
    """
    call = current()
    call.assert_login()
    found_build = find_build(call.state, build, strict=True)
    found_tag = find_tag(call.state, tag, strict=True)
    assert found_build is not None and found_tag is not None
    from_tag = find_tag(call.state, fromtag, strict=True) if fromtag else None
    if found_build.state != koji.BUILD_STATES["COMPLETE"]:
        state = koji.BUILD_STATES[found_build.state]
        nvr = call.state.nvr(found_build)
        raise koji.TagError(f"build {nvr} not complete: state {state}")
    assert_tag_access(call, found_tag, call.user_id, force=bool(force))
    if from_tag is not None:
        assert_tag_access(call, from_tag, call.user_id, force=bool(force))
    _check_listed(call, found_tag, found_build)
    request = [
        found_tag.id,
        found_build.id,
        bool(force),
        from_tag.id if from_tag else None,
    ]
    return make_task(call, "tagBuild", request, priority=10)


def _check_listed(call: Call, tag: Tag, build: Build) -> None:
    """Refuse a build whose package is not (or is blocked) in the tag's list.

    :raises koji.TagError: not listed, or blocked.
    """
    entry = package_list(call.state, tag.id).get(build.package_id)
    name = call.state.packages[build.package_id]
    if entry is None:
        raise koji.TagError(f"Package {name} not in list for {tag.name}")
    if entry["blocked"]:
        raise koji.TagError(f"Package {name} blocked in {tag.name}")


@exports.method("untagBuild", writes=True)
def untag_build_api(
    self: Any, tag: Any, build: Any, strict: bool = True, force: bool = False
) -> None:
    """Remove a build from a tag at once.

    :raises koji.ActionNotAllowed: anonymous, or no access to the tag.
    :raises koji.TagError: strict and the build is not in the tag.
    """
    call = current()
    call.assert_login()
    found_tag, found_build = _tag_and_build(call, tag, build)
    untag_build(
        call,
        found_tag,
        found_build,
        call.user_id,
        strict=bool(strict),
        force=bool(force),
    )


@exports.method("tagBuildBypass", writes=True)
def tag_build_bypass(
    self: Any, tag: Any, build: Any, force: bool = False, notify: bool = False
) -> None:
    """Tag a build at once, without a task (``tag`` permission).

    :raises koji.ActionNotAllowed: no ``tag`` permission, or no access.
    :raises koji.TagError: the build is not COMPLETE, or already tagged.
    """
    call = current()
    call.assert_perm("tag")
    found_tag, found_build = _tag_and_build(call, tag, build)
    tag_build(call, found_tag, found_build, call.user_id, force=bool(force))


@exports.method("untagBuildBypass", writes=True)
def untag_build_bypass(
    self: Any,
    tag: Any,
    build: Any,
    strict: bool = True,
    force: bool = False,
    notify: bool = False,
) -> None:
    """Untag a build at once (``tag`` permission).

    :raises koji.ActionNotAllowed: no ``tag`` permission, or no access.
    :raises koji.TagError: strict and the build is not in the tag.
    """
    call = current()
    call.assert_perm("tag")
    found_tag, found_build = _tag_and_build(call, tag, build)
    untag_build(
        call,
        found_tag,
        found_build,
        call.user_id,
        strict=bool(strict),
        force=bool(force),
    )


@exports.method("listTagged")
def list_tagged(
    self: Any,
    tag: Any,
    event: Any = None,
    inherit: bool = False,
    prefix: Any = None,
    latest: Any = False,
    package: Any = None,
    owner: Any = None,
    type: Any = None,
    strict: bool = True,
    extra: bool = False,
    draft: Any = None,
) -> list[dict[str, Any]]:
    """Builds tagged in a tag, newest tagging first.

    :raises koji.GenericError: strict and no such tag.
    """
    results = tagged_builds(
        tag,
        strict=strict,
        event=event,
        inherit=bool(inherit),
        latest=latest,
        package=package,
        owner=owner,
        extra=bool(extra),
        btype=type,
    )
    if results is None:
        return []
    if prefix:
        lowered = str(prefix).lower()
        results = [b for b in results if b["package_name"].lower().startswith(lowered)]
    return results


@exports.method("getLatestBuilds")
def get_latest_builds(
    self: Any,
    tag: Any,
    event: Any = None,
    package: Any = None,
    type: Any = None,
    draft: Any = None,
) -> list[dict[str, Any]]:
    """The latest build of each package in the tag, with inheritance.

    :raises koji.GenericError: no such tag.
    """
    found = tagged_builds(
        tag,
        strict=True,
        event=event,
        inherit=True,
        latest=True,
        package=package,
        btype=type,
    )
    assert found is not None
    return found
