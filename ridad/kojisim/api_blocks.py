"""Blocking packages in a tag's list: ``packageListBlock`` and
``packageListUnblock``, as Koji 1.35's ``pkglist_block``/``pkglist_unblock``.

A block is an entry of the tag's own list with ``blocked`` set; unblocking
removes that entry, or writes an unblocked one when the block was
inherited (or when nothing unblocked is left behind it).
"""

from __future__ import annotations

from typing import Any

import koji

from ridad.kojisim.api_packages import pkglist_add
from ridad.kojisim.context import Call, current
from ridad.kojisim.exports import Exports
from ridad.kojisim.inheritance import package_list
from ridad.kojisim.lookup import find_tag
from ridad.kojisim.state import Listing

__all__ = ["exports"]

exports = Exports()


def _package(call: Call, pkginfo: Any) -> int:
    """The id of an existing package (by name or id).

    :raises koji.GenericError: no such package.
    """
    state = call.state
    if isinstance(pkginfo, int) and pkginfo in state.packages:
        return pkginfo
    pkg_id = state.package_id(pkginfo) if isinstance(pkginfo, str) else None
    if pkg_id is None:
        raise koji.GenericError(f"No such package: {pkginfo}")
    return pkg_id


def _check_policy(call: Call) -> None:
    """:raises koji.ActionNotAllowed: anonymous, or the package_list policy."""
    call.assert_login()
    if not (call.has_perm("admin") or call.has_perm("tag")):
        raise koji.ActionNotAllowed(
            "policy violation (package_list): only admin/tag can do this via default policy"
        )


@exports.function("packageListBlock", writes=True)
def pkglist_block(taginfo: Any, pkginfo: Any, force: bool = False) -> None:
    """Block a package that the tag lists (itself or by inheritance).

    :raises koji.GenericError: no such tag or package; not in the tag's list.
    """
    call = current()
    tag = find_tag(call.state, taginfo, strict=True)
    assert tag is not None
    pkg_id = _package(call, pkginfo)
    if pkg_id not in package_list(call.state, tag.id):
        raise koji.GenericError(
            f"Package {call.state.packages[pkg_id]} is not included in tag {tag.name}"
        )
    pkglist_add(taginfo, pkginfo, block=True, force=force)


@exports.function("packageListUnblock", writes=True)
def pkglist_unblock(taginfo: Any, pkginfo: Any, force: bool = False) -> None:
    """Unblock a blocked package of the tag.

    :raises koji.GenericError: no such tag or package; no entry; not blocked.
    """
    call = current()
    tag = find_tag(call.state, taginfo, strict=True)
    assert tag is not None
    pkg_id = _package(call, pkginfo)
    _check_policy(call)
    name = call.state.packages[pkg_id]
    previous = package_list(call.state, tag.id).get(pkg_id)
    if previous is None:
        raise koji.GenericError(f"no data (or tag {tag.name}) for package {name}")
    if not previous["blocked"]:
        raise koji.GenericError(f"package {name} NOT blocked in tag {tag.name}")
    unblocked = Listing(
        tag.id, pkg_id, previous["owner_id"], False, previous["extra_arches"]
    )
    if previous["tag_id"] == tag.id:
        del call.state.listings[(tag.id, pkg_id)]
        behind = package_list(call.state, tag.id).get(pkg_id)
        if behind is None or behind["blocked"]:
            call.state.listings[(tag.id, pkg_id)] = unblocked
    else:
        call.state.listings[(tag.id, pkg_id)] = unblocked
    call.state.note_tag_change(tag.id, call.event())
