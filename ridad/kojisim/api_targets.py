"""Build targets: a name joining a build tag and a destination tag."""

from __future__ import annotations

from typing import Any

import koji

from ridad.kojisim.api_tags import verify_name
from ridad.kojisim.context import current
from ridad.kojisim.exports import Exports
from ridad.kojisim.lookup import find_tag, find_target
from ridad.kojisim.query import apply_query_opts
from ridad.kojisim.state import HubState, Target

__all__ = ["exports", "target_view"]

exports = Exports()


def target_view(state: HubState, target: Target) -> dict[str, Any]:
    """A target's dict."""
    return {
        "build_tag": target.build_tag,
        "build_tag_name": state.tags[target.build_tag].name,
        "dest_tag": target.dest_tag,
        "dest_tag_name": state.tags[target.dest_tag].name,
        "id": target.id,
        "name": target.name,
    }


@exports.function("createBuildTarget", writes=True)
def create_build_target(name: Any, build_tag: Any, dest_tag: Any) -> None:
    """Create a target.

    :raises koji.ActionNotAllowed: no ``target`` permission.
    :raises koji.GenericError: duplicate name or a missing tag.
    """
    call = current()
    call.assert_perm("target")
    verify_name(name)
    state = call.state
    if state.target_by_name(name):
        raise koji.GenericError(f"A build target with the name '{name}' already exists")
    build = find_tag(state, build_tag)
    if build is None:
        raise koji.GenericError(f"build tag '{build_tag}' does not exist")
    dest = find_tag(state, dest_tag)
    if dest is None:
        raise koji.GenericError(f"destination tag '{dest_tag}' does not exist")
    target_id = state.next_id("target")
    state.targets[target_id] = Target(target_id, name, build.id, dest.id)
    call.event()


@exports.function("getBuildTarget")
def get_build_target(info: Any, event: Any = None, strict: bool = False) -> Any:
    """A target's dict by id or name, or None.

    :raises koji.GenericError: strict and no such target.
    """
    call = current()
    target = find_target(call.state, info, strict=strict)
    return target_view(call.state, target) if target else None


@exports.function("getBuildTargets")
def get_build_targets(
    info: Any = None,
    event: Any = None,
    buildTagID: Any = None,
    destTagID: Any = None,
    queryOpts: Any = None,
) -> Any:
    """Targets, optionally by name or id, build tag or destination tag."""
    state = current().state
    targets = sorted(state.targets.values(), key=lambda t: t.id)
    if info is not None:
        targets = [t for t in targets if info in (t.id, t.name)]
    for wanted, field in ((buildTagID, "build_tag"), (destTagID, "dest_tag")):
        if wanted is not None:
            tag = find_tag(state, wanted) if not isinstance(wanted, int) else None
            tag_id = tag.id if tag else wanted
            targets = [t for t in targets if getattr(t, field) == tag_id]
    return apply_query_opts([target_view(state, t) for t in targets], queryOpts)


@exports.function("deleteBuildTarget", writes=True)
def delete_build_target(buildTargetInfo: Any) -> None:
    """Delete a target (its tags stay); a target that does not exist is
    nil too, as the recorded hub answers (187).

    :raises koji.ActionNotAllowed: no ``target`` permission.
    """
    call = current()
    call.assert_perm("target")
    target = find_target(call.state, buildTargetInfo)
    if target is None:
        return
    del call.state.targets[target.id]
    call.event()
