"""Tag calls: create, read, edit and delete tags, and their inheritance."""

from __future__ import annotations

import re
from typing import Any

import koji

from ridad.kojisim.context import Call, current
from ridad.kojisim.exports import Exports
from ridad.kojisim.inheritance import build_config, full_inheritance
from ridad.kojisim.lookup import check_str, find_tag
from ridad.kojisim.state import InheritanceLink, Tag
from ridad.kojisim.views import tag_view

__all__ = ["exports", "verify_name"]

exports = Exports()

_NAME = re.compile(r"^[A-Za-z0-9/_.+-]+$")
_LINK_FIELDS = (
    "parent_id",
    "priority",
    "maxdepth",
    "intransitive",
    "noconfig",
    "pkg_filter",
)
_CONFIG_FIELDS = ("arches", "perm_id", "locked", "maven_support", "maven_include_all")


def verify_name(name: Any) -> str:
    """Check a name against the hub's ``RegexNameInternal`` and length limit.

    :raises koji.GenericError: the name is not acceptable.
    """
    check_str(name)
    if len(name) > 256:
        raise koji.GenericError(
            f"Name {name} is too long. Max length is 256 characters"
        )
    if not _NAME.match(name):
        raise koji.GenericError(f"Name {name} does not match RegexNameInternal value")
    return str(name)


def _arches(arches: Any) -> str:
    """Normalized space-separated arches; none given is the empty string, as
    the hub stores it (recording 178), so a new tag does not inherit arches.

    :raises koji.GenericError: a bad arch name.
    """
    return str(koji.parse_arches(arches, strict=True, allow_none=True))


def _perm_id(call: Call, perm: Any) -> int | None:
    """A permission id from a name or id (None stays None).

    :raises koji.GenericError: no such permission.
    """
    if perm is None:
        return None
    for candidate in call.state.permissions.values():
        if perm in (candidate.id, candidate.name):
            return candidate.id
    raise koji.GenericError(f"No such permission: {perm}")


@exports.function("getTag")
def get_tag(
    tagInfo: Any, strict: bool = False, event: Any = None, blocked: bool = False
) -> dict[str, Any] | None:
    """A tag's dict, or None.

    :raises koji.GenericError: strict and no such tag.
    """
    call = current()
    tag = find_tag(call.state, tagInfo, strict=strict)
    return tag_view(call.state, tag) if tag else None


@exports.function("createTag", writes=True)
def create_tag(
    name: Any,
    parent: Any = None,
    arches: Any = None,
    perm: Any = None,
    locked: bool = False,
    maven_support: bool = False,
    maven_include_all: bool = False,
    extra: Any = None,
) -> int:
    """Create a tag (reusing a deleted tag's id) and answer its id.

    :raises koji.ActionNotAllowed: no ``tag`` permission.
    :raises koji.GenericError: duplicate name, unknown parent, bad values.
    """
    call = current()
    call.assert_perm("tag")
    if maven_support or maven_include_all:
        raise koji.GenericError("Maven support not enabled")
    parent_tag = _check_new_tag(call, name, parent)
    state = call.state
    old = next((t for t in state.tags.values() if t.name == name), None)
    tag = Tag(
        id=old.id if old else state.next_id("tag"),
        name=name,
        arches=_arches(arches),
        perm_id=_perm_id(call, perm),
        locked=bool(locked),
        maven_support=False,
        maven_include_all=False,
        extra=dict(extra or {}),
        create_event=call.event(),
    )
    state.tags[tag.id] = tag
    state.note_tag_change(tag.id, call.event())
    if parent_tag is not None:
        state.inheritance[tag.id] = [
            InheritanceLink(tag.id, parent_tag.id, 0, None, False, False, "")
        ]
    return tag.id


def _check_new_tag(call: Call, name: Any, parent: Any) -> Tag | None:
    """Check a new tag's name and find its parent.

    :raises koji.GenericError: bad or taken name, or no such parent.
    """
    verify_name(name)
    if call.state.tag_by_name(name):
        raise koji.GenericError(f"A tag with the name '{name}' already exists")
    parent_tag = find_tag(call.state, parent) if parent else None
    if parent and parent_tag is None:
        raise koji.GenericError(f"Parent tag '{parent}' could not be found")
    return parent_tag


@exports.function("editTag2", writes=True)
def edit_tag(tagInfo: Any, **kwargs: Any) -> None:
    """Change a tag's name, arches, lock, permission or extra.

    :raises koji.ActionNotAllowed: no ``tag`` permission.
    :raises koji.GenericError: no such tag, name taken, maven flags.
    """
    call = current()
    call.assert_perm("tag")
    tag = find_tag(call.state, tagInfo, strict=True)
    assert tag is not None
    if "maven_support" in kwargs or "maven_include_all" in kwargs:
        raise koji.GenericError("Maven support not enabled")
    if "perm" in kwargs and "perm_id" not in kwargs:
        kwargs["perm_id"] = kwargs["perm"]
    changed = _rename(call, tag, kwargs.get("name"))
    updates = {k: kwargs[k] for k in _CONFIG_FIELDS if k in kwargs}
    if "perm_id" in updates:
        updates["perm_id"] = _perm_id(call, updates["perm_id"])
    if "arches" in updates:
        updates["arches"] = koji.parse_arches(
            updates["arches"], strict=True, allow_none=True
        )
    if "locked" in updates:
        updates["locked"] = bool(updates["locked"])
    for key, value in updates.items():
        if getattr(tag, key) != value:
            setattr(tag, key, value)
            changed = True
    changed = _edit_extra(tag, kwargs) or changed
    if changed:
        call.state.note_tag_change(tag.id, call.event())


def _rename(call: Call, tag: Tag, name: Any) -> bool:
    """Rename a tag if asked; answer whether it changed."""
    if not name or name == tag.name:
        return False
    verify_name(name)
    other = call.state.tag_by_name(name)
    if other is not None:
        raise koji.GenericError(f"Name {name} already taken by tag {other.id}")
    tag.name = name
    return True


def _edit_extra(tag: Tag, kwargs: dict[str, Any]) -> bool:
    """Apply ``extra``, ``remove_extra`` and ``block_extra``; answer whether it changed."""
    changed = False
    extra = kwargs.get("extra") or {}
    if not isinstance(extra, dict):
        raise koji.ParameterError(f"Invalid type for extra: {type(extra)}")
    for key, value in extra.items():
        if tag.extra.get(key, object()) != value:
            tag.extra[key] = value
            changed = True
    for key in list(kwargs.get("remove_extra") or []) + list(
        kwargs.get("block_extra") or []
    ):
        if key not in tag.extra:
            raise koji.GenericError(f"Tag: {tag.name} doesn't have extra: {key}")
        del tag.extra[key]
        changed = True
    return changed


@exports.function("deleteTag", writes=True)
def delete_tag(tagInfo: Any) -> None:
    """Delete a tag and what hangs on it (targets, links, listings, groups).

    :raises koji.ActionNotAllowed: no ``tag`` permission.
    :raises koji.GenericError: no such tag.
    """
    call = current()
    call.assert_perm("tag")
    tag = find_tag(call.state, tagInfo, strict=True)
    assert tag is not None
    state, event = call.state, call.event()
    tag.active = False
    for target_id, target in list(state.targets.items()):
        if tag.id in (target.build_tag, target.dest_tag):
            del state.targets[target_id]
    state.inheritance.pop(tag.id, None)
    for child, links in state.inheritance.items():
        state.inheritance[child] = [lk for lk in links if lk.parent_id != tag.id]
    for tagging in state.taggings:
        if tagging.tag_id == tag.id and tagging.revoke_event is None:
            tagging.revoke_event = event
    for table in (state.listings, state.group_entries):
        for key in [k for k in table if k[0] == tag.id]:
            del table[key]
    state.note_tag_change(tag.id, event)


@exports.method("getInheritanceData")
def get_inheritance_data(
    self: Any, tag: Any, event: Any = None
) -> list[dict[str, Any]]:
    """The tag's direct parent links.

    :raises koji.GenericError: no such tag.
    """
    call = current()
    found = find_tag(call.state, tag, strict=True)
    assert found is not None
    links = sorted(call.state.inheritance.get(found.id, []), key=lambda lk: lk.priority)
    return [_link_view(call, link) for link in links]


def _link_view(call: Call, link: InheritanceLink) -> dict[str, Any]:
    """A parent link's dict."""
    return {
        "intransitive": link.intransitive,
        "maxdepth": link.maxdepth,
        "name": call.state.tags[link.parent_id].name,
        "noconfig": link.noconfig,
        "parent_id": link.parent_id,
        "pkg_filter": link.pkg_filter,
        "priority": link.priority,
        "child_id": link.child_id,
    }


@exports.method("setInheritanceData", writes=True)
def set_inheritance_data(self: Any, tag: Any, data: Any, clear: bool = False) -> None:
    """Add, change or (``delete link``) remove parent links of a tag.

    :raises koji.ActionNotAllowed: no ``tag`` permission.
    :raises koji.GenericError: no such tag, missing fields, bad priorities.
    """
    call = current()
    found = find_tag(call.state, tag, strict=True)
    assert found is not None
    call.assert_perm("tag")
    changes = [data] if isinstance(data, dict) else list(data)
    links = {lk.parent_id: lk for lk in call.state.inheritance.get(found.id, [])}
    wanted = {} if clear else dict(links)
    for change in changes:
        link = _parse_link(call, found.id, change)
        if change.get("delete link"):
            wanted.pop(link.parent_id, None)
        else:
            wanted[link.parent_id] = link
    if wanted == links:
        return
    _check_priorities(found.id, list(wanted.values()))
    call.state.inheritance[found.id] = sorted(
        wanted.values(), key=lambda lk: lk.priority
    )
    call.state.note_tag_change(found.id, call.event())


def _parse_link(call: Call, child_id: int, change: Any) -> InheritanceLink:
    """A link from a client's dict.

    :raises koji.GenericError: a field is missing or the parent is unknown.
    """
    if not isinstance(change, dict):
        raise koji.GenericError(f"Invalid inheritance data: {change!r}")
    needed = ("parent_id",) if change.get("delete link") else _LINK_FIELDS
    for name in needed:
        if name not in change:
            raise koji.GenericError(f"No value for {name}")
    parent = find_tag(call.state, change["parent_id"], strict=True)
    assert parent is not None
    if parent.id == child_id:
        raise koji.GenericError("Tag cannot inherit from itself")
    return InheritanceLink(
        child_id=child_id,
        parent_id=parent.id,
        priority=change.get("priority", 0),
        maxdepth=change.get("maxdepth"),
        intransitive=bool(change.get("intransitive")),
        noconfig=bool(change.get("noconfig")),
        pkg_filter=change.get("pkg_filter") or "",
    )


def _check_priorities(tag_id: int, links: list[InheritanceLink]) -> None:
    """Refuse two parents with the same priority.

    :raises koji.GenericError: duplicate priorities.
    """
    by_priority: dict[Any, list[int]] = {}
    for link in links:
        by_priority.setdefault(link.priority, []).append(link.parent_id)
    for priority, parents in by_priority.items():
        if len(parents) > 1:
            raise koji.GenericError(
                f"Multiple parent tags ({parents!r}) cannot have the same priority"
                f" value ({priority}) on child tag {tag_id}"
            )


@exports.method("getFullInheritance")
def get_full_inheritance(
    self: Any, tag: Any, event: Any = None, reverse: bool = False
) -> list[dict[str, Any]]:
    """Every ancestor (or with ``reverse``, descendant), in order.

    :raises koji.GenericError: no such tag.
    """
    call = current()
    found = find_tag(call.state, tag, strict=True)
    assert found is not None
    return full_inheritance(call.state, found.id, reverse=bool(reverse))


@exports.method("getBuildConfig")
def get_build_config(self: Any, tag: Any, event: Any = None) -> dict[str, Any]:
    """The tag with inherited arches and extra, and where each came from.

    :raises koji.GenericError: no such tag.
    """
    call = current()
    found = find_tag(call.state, tag, strict=True)
    assert found is not None
    return build_config(call.state, found, tag_view(call.state, found))
