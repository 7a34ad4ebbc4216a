"""Tagging builds into tags and reading tag contents (``readTaggedBuilds``)."""

from __future__ import annotations

from typing import Any

import koji

from ridad.kojisim.context import Call, current
from ridad.kojisim.inheritance import package_list, tag_chain
from ridad.kojisim.lookup import find_tag
from ridad.kojisim.state import Build, HubState, Tag, Tagging
from ridad.kojisim.views import tagged_build_view

__all__ = [
    "assert_tag_access",
    "btype_filter",
    "read_tagged_builds",
    "tag_build",
    "tagged_builds",
    "untag_build",
]


def assert_tag_access(
    call: Call, tag: Tag, user_id: int | None, *, force: bool
) -> None:
    """Refuse a locked tag, or a tag whose permission the user lacks.

    An admin may override either with ``force``.

    :raises koji.GenericError: no user.
    :raises koji.ActionNotAllowed: no access.
    """
    if user_id is None:
        raise koji.GenericError("a user_id is required")
    perms = call.state.perm_names(user_id)
    reason = ""
    if tag.locked:
        reason = "tag is locked"
    elif tag.perm_id is not None:
        needed = call.state.permissions[tag.perm_id].name
        if needed not in perms:
            reason = f"tag requires {needed} permission"
    if reason and not (force and "admin" in perms):
        raise koji.ActionNotAllowed(reason)


def tag_build(
    call: Call, tag: Tag, build: Build, user_id: int | None, *, force: bool = False
) -> None:
    """Tag a COMPLETE build (retagging only with ``force``).

    :raises koji.ActionNotAllowed: no access to the tag.
    :raises koji.TagError: the build is not COMPLETE, or already tagged.
    """
    assert_tag_access(call, tag, user_id, force=force)
    nvr = call.state.nvr(build)
    if build.state != koji.BUILD_STATES["COMPLETE"]:
        state = koji.BUILD_STATES[build.state]
        raise koji.TagError(f"build {nvr} not complete: state {state}")
    current = _active(call.state, tag.id, build.id)
    if current:
        if not force:
            raise koji.TagError(f"build {nvr} already tagged ({tag.name})")
        for tagging in current:
            tagging.revoke_event = call.event()
    assert user_id is not None
    call.state.taggings.append(Tagging(tag.id, build.id, call.event(), user_id))
    call.state.note_tag_change(tag.id, call.event())


def untag_build(
    call: Call,
    tag: Tag,
    build: Build,
    user_id: int | None,
    *,
    strict: bool = True,
    force: bool = False,
) -> None:
    """Remove a build from a tag.

    :raises koji.ActionNotAllowed: no access to the tag.
    :raises koji.TagError: strict and the build is not in the tag.
    """
    assert_tag_access(call, tag, user_id, force=force)
    current = _active(call.state, tag.id, build.id)
    if not current:
        if strict:
            raise koji.TagError(f"build {call.state.nvr(build)} not in tag {tag.name}")
        return
    for tagging in current:
        tagging.revoke_event = call.event()
    call.state.note_tag_change(tag.id, call.event())


def _active(state: HubState, tag_id: int, build_id: int) -> list[Tagging]:
    """The live taggings of a build in a tag."""
    return [
        t
        for t in state.taggings
        if t.tag_id == tag_id and t.build_id == build_id and t.revoke_event is None
    ]


def btype_filter(state: HubState, btype: Any) -> int | None:
    """The id of the build type a ``type=`` filter names (None: no filter).

    :raises koji.GenericError: no such build type.
    """
    if btype is None:
        return None
    found = state.btype_id(btype) if isinstance(btype, str) else None
    if found is None:
        raise koji.GenericError(f"unsupported build type: {btype}")
    return found


def read_tagged_builds(
    state: HubState,
    tag: Tag,
    *,
    event: int | None = None,
    inherit: bool = False,
    latest: Any = False,
    package: Any = None,
    owner: Any = None,
    extra: bool = False,
    btype: Any = None,
) -> list[dict[str, Any]]:
    """COMPLETE builds in the tag (and ancestors), newest tagging first.

    Builds whose package is not (or is blocked) in the tag's effective package
    list are left out; ``latest`` keeps the first (or first N) per package;
    ``btype`` keeps the builds of that build type (before ``latest``).

    :raises koji.GenericError: no such build type.
    """
    type_id = btype_filter(state, btype)
    packages = package_list(state, tag.id)
    seen: dict[int, int] = {}
    results = []
    for tag_id in tag_chain(state, tag.id, inherit=inherit):
        for tagging, build in _tag_contents(state, tag_id, event):
            pinfo = packages.get(build.package_id)
            if pinfo is None or pinfo["blocked"]:
                continue
            if package is not None and state.packages[build.package_id] != package:
                continue
            if owner is not None and not _owned_by(state, build, owner):
                continue
            if type_id is not None and type_id not in state.build_btypes.get(
                build.id, []
            ):
                continue
            count = seen.get(build.package_id, 0)
            if latest and (count >= (1 if latest is True else int(latest))):
                continue
            seen[build.package_id] = count + 1
            view = tagged_build_view(
                state, build, state.tags[tag_id], tagging.create_event, extra=extra
            )
            results.append(view)
    return results


def tagged_builds(
    tag: Any, *, strict: bool, **filters: Any
) -> list[dict[str, Any]] | None:
    """The builds in the tag ``tag`` names, as :func:`read_tagged_builds`
    filters them (``listTagged``, ``listTaggedRPMS``, ``getLatestBuilds``);
    None when there is no such tag and not ``strict``.

    :raises koji.GenericError: strict and no such tag; no such build type.
    """
    state = current().state
    found = find_tag(state, tag, strict=strict)
    if found is None:
        return None
    return read_tagged_builds(state, found, **filters)


def _tag_contents(
    state: HubState, tag_id: int, event: int | None
) -> list[tuple[Tagging, Build]]:
    """The COMPLETE builds in one tag at an event, newest tagging first."""
    found = [
        (tagging, state.builds[tagging.build_id])
        for tagging in state.taggings
        if tagging.tag_id == tag_id and tagging.active_at(event)
    ]
    found = [(t, b) for (t, b) in found if b.state == koji.BUILD_STATES["COMPLETE"]]
    return sorted(
        found, key=lambda pair: (pair[0].create_event, pair[1].id), reverse=True
    )


def _owned_by(state: HubState, build: Build, owner: Any) -> bool:
    """Whether the build's owner matches a user name or id."""
    user = state.users.get(build.owner_id)
    return user is not None and owner in (user.id, user.name)
