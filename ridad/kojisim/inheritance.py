"""Tag inheritance: the full parent order and what a tag inherits through it.

The order is depth-first by link priority, each tag once; a link's
``maxdepth`` limits how far it reaches and ``intransitive`` links are only
followed from the tag itself. (``pkg_filter`` is stored but not applied.)
"""

from __future__ import annotations

from typing import Any

from ridad.kojisim.state import GroupEntry, GroupPackage, HubState, InheritanceLink, Tag

__all__ = [
    "build_config",
    "full_inheritance",
    "package_entry",
    "package_list",
    "tag_chain",
    "tag_change_events",
    "tag_groups",
]


def _links(state: HubState, tag_id: int, *, reverse: bool) -> list[InheritanceLink]:
    """The links out of a tag (to parents, or to children with ``reverse``)."""
    if reverse:
        found = [
            link
            for links in state.inheritance.values()
            for link in links
            if link.parent_id == tag_id
        ]
    else:
        found = list(state.inheritance.get(tag_id, []))
    return sorted(found, key=lambda link: (link.priority, link.parent_id))


def full_inheritance(
    state: HubState, tag_id: int, *, reverse: bool = False
) -> list[dict[str, Any]]:
    """``getFullInheritance``'s list of nodes, in inheritance order."""
    order: list[dict[str, Any]] = []
    seen = {tag_id}

    def walk(current: int, depth: int, remaining: int | None) -> None:
        """Visit the links of ``current`` at ``depth``."""
        for link in _links(state, current, reverse=reverse):
            other = link.child_id if reverse else link.parent_id
            tag = state.live_tag(other)
            if other in seen or tag is None or (depth and link.intransitive):
                continue
            reach = link.maxdepth
            if remaining is not None:
                reach = remaining if reach is None else min(reach, remaining)
            nextdepth = None if reach is None else reach - 1
            seen.add(other)
            order.append(_node(link, tag, depth + 1, nextdepth))
            if nextdepth is None or nextdepth > 0:
                walk(other, depth + 1, nextdepth)

    walk(tag_id, 0, None)
    return order


def _node(
    link: InheritanceLink, tag: Tag, depth: int, nextdepth: int | None
) -> dict[str, Any]:
    """One node of the full inheritance."""
    return {
        "child_id": link.child_id,
        "currdepth": depth,
        "filter": [],
        "intransitive": link.intransitive,
        "maxdepth": link.maxdepth,
        "name": tag.name,
        "nextdepth": nextdepth,
        "noconfig": link.noconfig,
        "parent_id": link.parent_id,
        "pkg_filter": link.pkg_filter,
        "priority": link.priority,
    }


def tag_chain(state: HubState, tag_id: int, *, inherit: bool = True) -> list[int]:
    """The tag followed by its ancestors in inheritance order."""
    if not inherit:
        return [tag_id]
    return [tag_id] + [node["parent_id"] for node in full_inheritance(state, tag_id)]


def tag_change_events(state: HubState, tag_id: int) -> list[int]:
    """Every event that changed the tag or an ancestor, in order."""
    events: set[int] = set()
    for tid in tag_chain(state, tag_id):
        events.update(state.tag_changes.get(tid, []))
    return sorted(events)


def build_config(state: HubState, tag: Tag, own: dict[str, Any]) -> dict[str, Any]:
    """``getBuildConfig``: ``own`` (the tag's dict) with inherited arches and extra."""
    config = dict(own)
    config["extra"] = dict(tag.extra)
    config["config_inheritance"] = {"extra": {}, "arches": None}
    for node in full_inheritance(state, tag.id):
        if node["noconfig"]:
            continue
        ancestor = state.tags[node["parent_id"]]
        source = {"id": ancestor.id, "name": ancestor.name}
        if config["arches"] is None and ancestor.arches is not None:
            config["arches"] = ancestor.arches
            config["config_inheritance"]["arches"] = source
        for key, value in ancestor.extra.items():
            if key not in config["extra"]:
                config["extra"][key] = value
                config["config_inheritance"]["extra"][key] = source
    return config


def package_entry(state: HubState, tag_id: int, package_id: int) -> dict[str, Any]:
    """A package-list entry as ``listPackages`` shows it."""
    listing = state.listings[(tag_id, package_id)]
    owner = state.users.get(listing.owner_id)
    return {
        "blocked": listing.blocked,
        "extra_arches": listing.extra_arches,
        "owner_id": listing.owner_id,
        "owner_name": owner.name if owner else None,
        "package_id": package_id,
        "package_name": state.packages[package_id],
        "tag_id": tag_id,
        "tag_name": state.tags[tag_id].name,
    }


def package_list(
    state: HubState, tag_id: int, *, inherit: bool = True
) -> dict[int, dict[str, Any]]:
    """The effective package list: package id to its nearest entry."""
    found: dict[int, dict[str, Any]] = {}
    for tid in tag_chain(state, tag_id, inherit=inherit):
        for key in sorted(k for k in state.listings if k[0] == tid):
            if key[1] not in found:
                found[key[1]] = package_entry(state, tid, key[1])
    return found


def tag_groups(
    state: HubState, tag_id: int, *, inherit: bool = True, incl_blocked: bool = False
) -> dict[int, dict[str, Any]]:
    """The effective comps groups: group id to its dict with its packages."""
    chain = tag_chain(state, tag_id, inherit=inherit)
    groups: dict[int, dict[str, Any]] = {}
    for tid in chain:
        for key in sorted(k for k in state.group_entries if k[0] == tid):
            if key[1] not in groups:
                groups[key[1]] = _group_view(state, state.group_entries[key])
    for group_id, group in groups.items():
        packages: dict[str, dict[str, Any]] = {}
        for tid in chain:
            entry = state.group_entries.get((tid, group_id))
            if entry is None:
                continue
            for package in entry.packages.values():
                packages.setdefault(package.package, _package_view(entry, package))
        group["packagelist"] = [
            p for p in packages.values() if incl_blocked or not p["blocked"]
        ]
    return {k: g for k, g in groups.items() if incl_blocked or not g["blocked"]}


def _group_view(state: HubState, entry: GroupEntry) -> dict[str, Any]:
    """A group's dict without its package list."""
    return {
        "biarchonly": entry.biarchonly,
        "blocked": entry.blocked,
        "description": entry.description,
        "display_name": entry.display_name,
        "exported": entry.exported,
        "group_id": entry.group_id,
        "grouplist": [],
        "is_default": entry.is_default,
        "langonly": entry.langonly,
        "name": state.groups[entry.group_id],
        "packagelist": [],
        "tag_id": entry.tag_id,
        "uservisible": entry.uservisible,
    }


def _package_view(entry: GroupEntry, package: GroupPackage) -> dict[str, Any]:
    """A group package's dict."""
    return {
        "basearchonly": package.basearchonly,
        "blocked": package.blocked,
        "group_id": entry.group_id,
        "package": package.package,
        "requires": package.requires,
        "tag_id": entry.tag_id,
        "type": package.type,
    }
