"""Package lists and comps groups of tags."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import koji

from ridad.kojisim.context import Call, current
from ridad.kojisim.exports import Exports
from ridad.kojisim.inheritance import package_entry, package_list, tag_groups
from ridad.kojisim.lookup import check_str, find_tag, find_user
from ridad.kojisim.query import apply_query_opts
from ridad.kojisim.state import GroupEntry, GroupPackage, Listing, Tag

__all__ = ["exports"]

exports = Exports()

_GROUP_FIELDS = (
    "exported",
    "display_name",
    "is_default",
    "uservisible",
    "description",
    "langonly",
    "biarchonly",
)


def _require_tag(call: Call, info: Any) -> Tag:
    """A tag that must exist.

    :raises koji.GenericError: it does not.
    """
    tag = find_tag(call.state, info, strict=True)
    assert tag is not None
    return tag


def _package_id(call: Call, info: Any, *, create: bool = False) -> int | None:
    """A package id from an id or name, optionally creating the name."""
    state = call.state
    if isinstance(info, int) and not isinstance(info, bool):
        return info if info in state.packages else None
    if isinstance(info, dict):
        return _package_id(call, info.get("id", info.get("name")), create=create)
    if not isinstance(info, str):
        return None
    found = state.package_id(info)
    if found is None and create:
        found = state.next_id("package")
        state.packages[found] = info
    return found


@exports.function("packageListAdd", writes=True)
def pkglist_add(
    taginfo: Any,
    pkginfo: Any,
    owner: Any = None,
    block: Any = None,
    extra_arches: Any = None,
    force: bool = False,
    update: bool = False,
) -> None:
    """Add a package to a tag's list (or change its entry).

    :raises koji.ActionNotAllowed: anonymous, or the package_list policy.
    :raises koji.GenericError: no such tag or user; no owner for a new entry.
    """
    call = current()
    tag = _require_tag(call, taginfo)
    if _package_id(call, pkginfo) is None and not isinstance(pkginfo, str):
        raise koji.GenericError(f"No such package: {pkginfo}")
    owner_user = (
        find_user(call.state, owner, strict=True) if owner is not None else None
    )
    call.assert_login()
    if not (call.has_perm("admin") or call.has_perm("tag")):
        raise koji.ActionNotAllowed(
            "policy violation (package_list): only admin/tag can do this via default policy"
        )
    pkg_id = _package_id(call, pkginfo, create=True)
    assert pkg_id is not None
    if extra_arches is not None:
        extra_arches = koji.parse_arches(extra_arches, strict=True, allow_none=True)
    request = _ListingRequest(
        owner_id=owner_user.id if owner_user else None,
        block=block,
        extra_arches=extra_arches,
        force=bool(force),
        update=bool(update),
    )
    listing = _merged_listing(call, tag, pkg_id, request)
    if listing is not None:
        call.state.listings[(tag.id, pkg_id)] = listing
        call.state.note_tag_change(tag.id, call.event())


@dataclass
class _ListingRequest:
    """What ``packageListAdd`` asked for."""

    owner_id: int | None
    block: Any
    extra_arches: str | None
    force: bool
    update: bool


def _merged_listing(
    call: Call, tag: Tag, pkg_id: int, request: _ListingRequest
) -> Listing | None:
    """The entry to write, from the request and the inherited entry; None: no change.

    :raises koji.GenericError: no owner, blocked package, nothing to update.
    """
    name = call.state.packages[pkg_id]
    previous = package_list(call.state, tag.id).get(pkg_id)
    owner_id, extra_arches = request.owner_id, request.extra_arches
    if previous is None:
        if request.update and not request.force:
            raise koji.GenericError(
                f"cannot update: tag {tag.name} has no data for package {name}"
            )
        blocked = bool(request.block)
    else:
        owner_id = previous["owner_id"] if owner_id is None else owner_id
        blocked = previous["blocked"] if request.block is None else bool(request.block)
        if extra_arches is None:
            extra_arches = previous["extra_arches"]
        old = (previous["blocked"], previous["extra_arches"], previous["owner_id"])
        if old == (blocked, extra_arches, owner_id) and not request.force:
            return None
        if previous["blocked"] and not blocked and not request.force:
            raise koji.GenericError(f"package {name} is blocked in tag {tag.name}")
    if owner_id is None:
        if not request.force or call.user_id is None:
            raise koji.GenericError("owner not specified")
        owner_id = call.user_id
    return Listing(tag.id, pkg_id, owner_id, blocked, extra_arches)


@exports.method("listPackages")
def list_packages(
    self: Any,
    tagID: Any = None,
    userID: Any = None,
    pkgID: Any = None,
    prefix: Any = None,
    inherited: bool = False,
    with_dups: bool = False,
    event: Any = None,
    queryOpts: Any = None,
    with_owners: bool = True,
    with_blocked: bool = True,
) -> Any:
    """Package-list entries, filtered; all packages when nothing is given.

    :raises koji.GenericError: an unknown tag, user or package.
    """
    call = current()
    state = call.state
    results: list[dict[str, Any]]
    if tagID is None and userID is None and pkgID is None:
        results = [
            {"package_id": pid, "package_name": name}
            for pid, name in sorted(state.packages.items())
        ]
    else:
        results = _listing_entries(call, tagID, userID, pkgID, bool(inherited))
        if not with_owners:
            for entry in results:
                del entry["owner_id"], entry["owner_name"]
        if not with_blocked:
            results = [entry for entry in results if not entry["blocked"]]
    if prefix:
        lowered = str(prefix).lower()
        results = [r for r in results if r["package_name"].lower().startswith(lowered)]
    return apply_query_opts(results, queryOpts)


def _listing_entries(
    call: Call, tag_info: Any, user_info: Any, pkg_info: Any, inherited: bool
) -> list[dict[str, Any]]:
    """Entries for ``listPackages`` with a tag, owner or package filter."""
    state = call.state
    if tag_info is not None:
        entries = list(
            package_list(
                state, _require_tag(call, tag_info).id, inherit=inherited
            ).values()
        )
    else:
        entries = [package_entry(state, t, p) for (t, p) in sorted(state.listings)]
    if user_info is not None:
        user = find_user(state, user_info, strict=True)
        entries = [e for e in entries if user and e["owner_id"] == user.id]
    if pkg_info is not None:
        pkg_id = _package_id(call, pkg_info)
        if pkg_id is None:
            raise koji.GenericError(f"No such package: {pkg_info}")
        entries = [e for e in entries if e["package_id"] == pkg_id]
    return entries


@exports.method("getPackageConfig")
def get_package_config(self: Any, tag: Any, pkg: Any, event: Any = None) -> Any:
    """The effective (inherited) package-list entry, or None."""
    call = current()
    found = find_tag(call.state, tag) if isinstance(tag, int | str) else None
    pkg_id = _package_id(call, pkg)
    if found is None or pkg_id is None:
        return None
    return package_list(call.state, found.id).get(pkg_id)


@exports.function("groupListAdd", writes=True)
def grplist_add(
    taginfo: Any, grpinfo: Any, block: bool = False, force: bool = False, **opts: Any
) -> None:
    """Add a comps group to a tag (creating the group name if new).

    :raises koji.ActionNotAllowed: no ``tag`` permission.
    :raises koji.GenericError: no such tag, or the group is blocked there.
    """
    call = current()
    call.assert_perm("tag")
    tag = _require_tag(call, taginfo)
    group_id = _group_id(call, grpinfo, create=True)
    settings = {k: v for k, v in opts.items() if k in _GROUP_FIELDS}
    previous = tag_groups(call.state, tag.id, incl_blocked=True).get(group_id)
    if previous is not None:
        if previous["blocked"] and not force:
            raise koji.GenericError(
                f"group {call.state.groups[group_id]} is blocked in tag {tag.name}"
            )
        if all(settings.get(k, previous[k]) == previous[k] for k in _GROUP_FIELDS):
            if bool(block) == previous["blocked"]:
                return
        settings = {k: settings.get(k, previous[k]) for k in _GROUP_FIELDS}
    existing = call.state.group_entries.get((tag.id, group_id))
    call.state.group_entries[(tag.id, group_id)] = GroupEntry(
        tag_id=tag.id,
        group_id=group_id,
        blocked=bool(block),
        exported=settings.get("exported", True),
        display_name=settings.get("display_name") or call.state.groups[group_id],
        is_default=settings.get("is_default"),
        uservisible=settings.get("uservisible", True),
        description=settings.get("description"),
        langonly=settings.get("langonly"),
        biarchonly=settings.get("biarchonly", False),
        packages=existing.packages if existing else {},
    )
    call.state.note_tag_change(tag.id, call.event())


def _group_id(call: Call, info: Any, *, create: bool = False) -> int:
    """A group id from an id or name.

    :raises koji.GenericError: no such group (and not creating).
    """
    for group_id, name in call.state.groups.items():
        if info in (group_id, name):
            return group_id
    if not create or not isinstance(info, str):
        raise koji.GenericError(f"No such entry in table groups: {info}")
    group_id = call.state.next_id("group")
    call.state.groups[group_id] = info
    return group_id


@exports.function("groupPackageListAdd", writes=True)
def grp_pkg_add(
    taginfo: Any,
    grpinfo: Any,
    pkg_name: Any,
    block: bool = False,
    force: bool = False,
    **opts: Any,
) -> None:
    """Add a package to a comps group of a tag.

    :raises koji.ActionNotAllowed: no ``tag`` permission.
    :raises koji.GenericError: no such tag or group; group absent or blocked.
    """
    call = current()
    call.assert_perm("tag")
    tag = _require_tag(call, taginfo)
    group_id = _group_id(call, grpinfo)
    group_name = call.state.groups[group_id]
    group = _usable_group(call, tag, group_id)
    check_str(pkg_name)
    previous = next((p for p in group["packagelist"] if p["package"] == pkg_name), None)
    package = GroupPackage(
        package=pkg_name,
        type=opts.get("type", previous["type"] if previous else "mandatory"),
        basearchonly=opts.get("basearchonly"),
        requires=opts.get("requires"),
        blocked=bool(block),
    )
    if previous is not None and not force:
        if previous["blocked"]:
            raise koji.GenericError(
                f"package {pkg_name} blocked in group {group_name}, tag {tag.name}"
            )
        old = (previous["type"], previous["basearchonly"], previous["requires"], False)
        if old == (
            package.type,
            package.basearchonly,
            package.requires,
            package.blocked,
        ):
            return
    _own_group_entry(call, tag, group_id).packages[pkg_name] = package
    call.state.note_tag_change(tag.id, call.event())


def _usable_group(call: Call, tag: Tag, group_id: int) -> dict[str, Any]:
    """The group as the tag has it (inherited or not); it must not be blocked.

    :raises koji.GenericError: the group is absent from the tag, or blocked.
    """
    name = call.state.groups[group_id]
    group = tag_groups(call.state, tag.id, incl_blocked=True).get(group_id)
    if group is None:
        raise koji.GenericError(f"group {name} not present in tag {tag.name}")
    if group["blocked"]:
        raise koji.GenericError(f"group {name} is blocked in tag {tag.name}")
    return group


def _own_group_entry(call: Call, tag: Tag, group_id: int) -> GroupEntry:
    """The tag's own entry for a group, copied from the inherited one if needed."""
    entry = call.state.group_entries.get((tag.id, group_id))
    if entry is None:
        inherited = tag_groups(call.state, tag.id, incl_blocked=True)[group_id]
        entry = GroupEntry(
            **{k: inherited[k] for k in ("blocked", *_GROUP_FIELDS)},
            tag_id=tag.id,
            group_id=group_id,
        )
        call.state.group_entries[(tag.id, group_id)] = entry
    return entry


@exports.function("getTagGroups", qualname="readTagGroups")
def read_tag_groups(
    tag: Any,
    event: Any = None,
    inherit: bool = True,
    incl_pkgs: bool = True,
    incl_reqs: bool = True,
    incl_blocked: bool = False,
) -> list[dict[str, Any]]:
    """The tag's comps groups with their packages.

    :raises koji.GenericError: no such tag.
    """
    call = current()
    found = _require_tag(call, tag)
    groups = tag_groups(
        call.state, found.id, inherit=bool(inherit), incl_blocked=bool(incl_blocked)
    )
    result = list(groups.values())
    if not incl_pkgs:
        for group in result:
            group["packagelist"] = []
    return result
