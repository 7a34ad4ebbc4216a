"""Repos: ``newRepo`` tasks and the READY repos they leave."""

from __future__ import annotations

from typing import Any

import koji

from ridad.kojisim.context import Call, current
from ridad.kojisim.exports import Exports
from ridad.kojisim.inheritance import tag_change_events
from ridad.kojisim.lookup import find_tag, int_param
from ridad.kojisim.state import Repo, Tag
from ridad.kojisim.tasks import make_task
from ridad.kojisim.views import repo_view

__all__ = ["exports", "make_repo"]

exports = Exports()

_DEFAULT_OPTS = {
    "src": False,
    "debuginfo": False,
    "separate_src": False,
    "maven": False,
}


@exports.method("newRepo", writes=True)
def new_repo(
    self: Any,
    tag: Any,
    event: Any = None,
    src: bool = False,
    debuginfo: bool = False,
    separate_src: bool = False,
) -> int:
    """Create a ``newRepo`` task in the createrepo channel (priority 15).

    :raises koji.ActionNotAllowed: neither ``repo`` nor ``regen-repo`` permission.
    :raises koji.GenericError: no such tag.
    """
    call = current()
    if not call.has_perm("repo"):
        call.assert_perm("regen-repo")
    find_tag(call.state, tag, strict=True)
    opts: dict[str, Any] = {}
    if event is not None:
        opts["event"] = event
    for name, value in (
        ("src", src),
        ("separate_src", separate_src),
        ("debuginfo", debuginfo),
    ):
        if value:
            opts[name] = True
    return make_task(
        call,
        "newRepo",
        koji.encode_args(tag, **opts),
        priority=15,
        channel="createrepo",
    )


def make_repo(call: Call, tag: Tag, task_id: int, opts: dict[str, Any]) -> Repo:
    """Create a READY repo of ``tag`` at the current (or the asked) event."""
    event = opts.get("event")
    create_event = int_param(event) if event is not None else call.event()
    before = [e for e in tag_change_events(call.state, tag.id) if e <= create_event]
    custom = {k: True for k in ("src", "debuginfo", "separate_src") if opts.get(k)}
    now = call.now()
    repo = Repo(
        id=call.state.next_id("repo"),
        tag_id=tag.id,
        state=koji.REPO_STATES["READY"],
        create_event=create_event,
        creation_ts=now,
        state_ts=now,
        begin_event=max(before) if before else None,
        task_id=task_id,
        opts={**_DEFAULT_OPTS, **custom},
        custom_opts=custom,
    )
    call.state.repos[repo.id] = repo
    call.changed()
    return repo


@exports.function("getRepo", qualname="old_get_repo")
def old_get_repo(
    tag: Any,
    state: Any = None,
    event: Any = None,
    dist: bool = False,
    min_event: Any = None,
) -> dict[str, Any] | None:
    """The newest repo of a tag (READY unless ``state``) or None.

    :raises koji.GenericError: no such tag.
    """
    hub = current().state
    found = find_tag(hub, tag, strict=True)
    assert found is not None
    wanted_state = koji.REPO_STATES["READY"] if state is None else int_param(state)
    repos = [
        r for r in hub.repos.values() if r.tag_id == found.id and r.dist == bool(dist)
    ]
    if event:
        repos = [r for r in repos if r.create_event <= int_param(event)]
    else:
        repos = [r for r in repos if r.state == wanted_state]
    if min_event is not None:
        repos = [r for r in repos if r.create_event >= int_param(min_event)]
    if not repos:
        return None
    newest = max(repos, key=lambda r: (r.creation_ts, r.id))
    return repo_view(hub, newest)


@exports.function("repoInfo")
def repo_info(repo_id: Any, strict: bool = False) -> dict[str, Any] | None:
    """A repo's dict by id, or None.

    :raises koji.GenericError: strict and no such repo.
    """
    hub = current().state
    repo = hub.repos.get(int_param(repo_id))
    if repo is None:
        if strict:
            raise koji.GenericError(f"No such repo: {repo_id}")
        return None
    return repo_view(hub, repo)
