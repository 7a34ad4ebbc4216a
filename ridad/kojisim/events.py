"""The bus messages of a commit, in the format of Koji's ``protonmsg`` plugin.

Koji queues a message in each callback and sends them after the commit.
The simulator compares the state before and after a commit instead, so it
knows what changed but not the order of changes within one commit. It uses
Koji's order for the transactions the simulator makes (docs/koji.md section 11): tasks
created, opened or canceled; then builds; untaggings, taggings; repos;
then tasks closed or failed. So one build gives ``task.free``,
``task.open``, ``build.building``, ``build.complete``, ``build.tag``,
``task.closed``, and a newRepo ``task.free``, ``task.open``, ``repo.init``,
``repo.done``, ``task.closed``. There is no ``task.assigned`` (the
simulated host opens FREE tasks) and no ``import.*``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import koji
from twisted.logger import Logger

from ridad.kojisim.context import HubCore
from ridad.kojisim.cow import read_only, same_table
from ridad.kojisim.state import Build, HubState, Repo, Tagging, Task
from ridad.kojisim.views import (
    build_view,
    decoded_result,
    repo_view,
    tag_view,
    task_view,
    user_view,
)

__all__ = ["CommitPublisher", "EventSink", "KojiMessage", "messages_between"]

TASK = koji.TASK_STATES
BUILD = koji.BUILD_STATES
#: Task states whose messages come last in a commit.
_ENDING = frozenset({TASK["CLOSED"], TASK["FAILED"]})


class EventSink(Protocol):
    """Where kojisim's bus messages go, one call per message, in commit order."""

    def emit(self, destination: str, headers: Mapping[str, str], body: bytes) -> None:
        """Take one message; must not block or raise."""


@dataclass(frozen=True)
class KojiMessage:
    """One protonmsg message: address (after the prefix), props and body."""

    address: str
    props: dict[str, Any]
    body: dict[str, Any]

    def headers(self) -> dict[str, str]:
        """The props as STOMP headers (null props left out), plus content type."""
        headers = {
            key: _header_value(value)
            for key, value in self.props.items()
            if value is not None
        }
        headers.update({"content-type": "application/json", "persistent": "true"})
        return headers

    def encoded_body(self) -> bytes:
        """The body as JSON, as the plugin sends it."""
        return json.dumps(self.body, default=str).encode("utf-8")


def _header_value(value: Any) -> str:
    """A prop as a header value (booleans as ``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


#: The tables whose changes make bus messages.
_WATCHED = ("tasks", "builds", "taggings", "repos")


def messages_between(old: HubState, new: HubState) -> list[KojiMessage]:
    """The messages Koji would send for the changes from ``old`` to ``new``.

    Both are read without claiming their tables (L{read_only}), and a table
    neither side touched since the copy (L{same_table}) has no messages.
    """
    changed = {name for name in _WATCHED if not same_table(old, new, name)}
    if not changed:
        return []
    old, new = read_only(old), read_only(new)
    starting, ending = _task_messages(old, new) if "tasks" in changed else ([], [])
    return [
        *starting,
        *(_build_messages(old, new) if "builds" in changed else []),
        *(_tagging_messages(old, new) if "taggings" in changed else []),
        *(_repo_messages(old, new) if "repos" in changed else []),
        *ending,
    ]


def _task_messages(
    old: HubState, new: HubState
) -> tuple[list[KojiMessage], list[KojiMessage]]:
    """Task state changes: those that start or cancel, and those that end."""
    starting: list[KojiMessage] = []
    ending: list[KojiMessage] = []
    for task_id in sorted(new.tasks):
        task = new.tasks[task_id]
        before = old.tasks.get(task_id)
        if before is not None and before.state == task.state:
            continue
        message = _task_message(task, None if before is None else before.state)
        (ending if task.state in _ENDING else starting).append(message)
    return starting, ending


def _task_message(task: Task, old_state: int | None) -> KojiMessage:
    """``task.<state>``: the task's dict (make_task's options when it is new)."""
    old = None if old_state is None else TASK[old_state]
    new = TASK[task.state]
    if old_state is None:
        info = _new_task_options(task)
    else:
        info = task_view(task, request=True)
        if task.state == TASK["CLOSED"]:
            info["result"] = decoded_result(task)
    props = {
        "type": "TaskStateChange",
        "id": task.id,
        "parent": task.parent,
        "method": task.method,
        "attribute": "state",
        "old": old,
        "new": new,
    }
    body = {"attribute": "state", "old": old, "new": new, "info": info}
    return KojiMessage(f"task.{new.lower()}", props, body)


def _new_task_options(task: Task) -> dict[str, Any]:
    """What Koji's make_task passes as ``info``: raw request XML, no times."""
    return {
        "priority": task.priority,
        "arch": task.arch,
        "channel_id": task.channel_id,
        "owner": task.owner,
        "parent": task.parent,
        "label": task.label,
        "request": task.request,
        "state": task.state,
        "method": task.method,
        "id": task.id,
    }


def _build_messages(old: HubState, new: HubState) -> list[KojiMessage]:
    """``build.<state>`` for each new build and each build state change."""
    messages = []
    for build_id in sorted(new.builds):
        build = new.builds[build_id]
        before = old.builds.get(build_id)
        if before is not None and before.create_event != build.create_event:
            before = None  # a FAILED or CANCELED build's id, reused: a new build
        if before is not None and before.state == build.state:
            continue
        messages.append(
            _build_message(new, build, None if before is None else before.state)
        )
    return messages


def _build_message(state: HubState, build: Build, old: int | None) -> KojiMessage:
    """``build.<state>``: names in the props, numbers in the body."""
    new = BUILD[build.state]
    info = build_view(state, build)
    props = {
        "type": "BuildStateChange",
        "name": info["name"],
        "version": build.version,
        "release": build.release,
        "attribute": "state",
        "old": None if old is None else BUILD[old],
        "new": new,
    }
    body = {
        "attribute": "state",
        "old": old,
        "new": build.state,
        "info": info,
        "btypes": _btypes(state, build),
    }
    return KojiMessage(f"build.{new.lower()}", props, body)


def _btypes(state: HubState, build: Build) -> dict[str, Any]:
    """A build's types with their typeinfo: a build task's build is an
    ``rpm`` build from the start; a content generator's has the types its
    import gave it (none while reserved)."""
    typeinfo = (build.extra or {}).get("typeinfo", {})
    types = {
        state.btypes[i]: typeinfo.get(state.btypes[i])
        for i in state.build_btypes.get(build.id, [])
    }
    if build.task_id is not None:
        types.setdefault("rpm", None)
    return types


def _tagging_messages(old: HubState, new: HubState) -> list[KojiMessage]:
    """``build.untag`` then ``build.tag`` for the taggings this commit changed.

    A forced retag revokes the old tagging silently, and a deleted tag's
    builds go without messages, as in Koji.
    """
    added = new.taggings[len(old.taggings) :]
    retagged = {(t.tag_id, t.build_id) for t in added}
    mover = _tag_task_owner(old, new)
    untags = [
        _tagging_message(new, after, "untag", mover, force=False)
        for before, after in zip(old.taggings, new.taggings, strict=False)
        if before.revoke_event is None
        and after.revoke_event is not None
        and (after.tag_id, after.build_id) not in retagged
        and new.tags[after.tag_id].active
    ]
    tags = []
    for tagging in added:
        force = any(
            (t.tag_id, t.build_id) == (tagging.tag_id, tagging.build_id)
            for t in old.taggings
            if t.revoke_event is None
        )
        tags.append(
            _tagging_message(new, tagging, "tag", tagging.creator_id, force=force)
        )
        if tagging.revoke_event is not None:
            tags.append(_tagging_message(new, tagging, "untag", mover, force=False))
    return untags + tags


def _tag_task_owner(old: HubState, new: HubState) -> int | None:
    """The owner of a tagBuild task this commit closes (who moved a build)."""
    for task in new.tasks.values():
        before = old.tasks.get(task.id)
        if (
            task.method == "tagBuild"
            and task.state == TASK["CLOSED"]
            and (before is None or before.state != task.state)
        ):
            return task.owner
    return None


def _tagging_message(
    state: HubState, tagging: Tagging, action: str, user_id: int | None, *, force: bool
) -> KojiMessage:
    """``build.tag`` or ``build.untag`` (the user is unknown for a direct untag)."""
    tag = state.tags[tagging.tag_id]
    build = state.builds[tagging.build_id]
    user = state.users.get(user_id) if user_id is not None else None
    props = {
        "type": action.capitalize(),
        "tag": tag.name,
        "name": state.packages[build.package_id],
        "version": build.version,
        "release": build.release,
        "user": user.name if user else None,
    }
    body: dict[str, Any] = {
        "tag": tag_view(state, tag),
        "build": build_view(state, build),
        "user": user_view(user) if user else None,
        "force": force,
    }
    if action == "untag":
        body["strict"] = True
    return KojiMessage(f"build.{action}", props, body)


def _repo_messages(old: HubState, new: HubState) -> list[KojiMessage]:
    """``repo.init`` for new repos, ``repo.done`` for repos that became READY."""
    messages = []
    for repo_id in sorted(new.repos):
        repo = new.repos[repo_id]
        before = old.repos.get(repo_id)
        if before is None:
            messages.append(_repo_init(new, repo))
        ready = repo.state == koji.REPO_STATES["READY"]
        if ready and (before is None or before.state != repo.state):
            messages.append(_repo_done(new, repo))
    return messages


def _repo_init(state: HubState, repo: Repo) -> KojiMessage:
    """``repo.init``: the tag, the repo id, its event and options."""
    tag = state.tags[repo.tag_id]
    props = {
        "type": "RepoInit",
        "tag": tag.name,
        "repo_id": repo.id,
        "task_id": repo.task_id,
    }
    body = {
        "tag": tag_view(state, tag),
        "repo_id": repo.id,
        "event": repo.create_event,
        "opts": dict(repo.opts),
        "task_id": repo.task_id,
    }
    return KojiMessage("repo.init", props, body)


def _repo_done(state: HubState, repo: Repo) -> KojiMessage:
    """``repo.done``: repoInfo from before READY (state INIT); task_id null in the body."""
    initial = dataclasses.replace(repo, state=koji.REPO_STATES["INIT"])
    props = {
        "type": "RepoDone",
        "tag": state.tags[repo.tag_id].name,
        "repo_id": repo.id,
        "task_id": repo.task_id,
        "expire": False,
    }
    body = {
        "repo": repo_view(state, initial),
        "data": {},
        "expire": False,
        "task_id": None,
    }
    return KojiMessage("repo.done", props, body)


class CommitPublisher:
    """A commit hook that sends each commit's messages to an L{EventSink}."""

    log = Logger()

    def __init__(self, *, core: HubCore, sink: EventSink, prefix: str) -> None:
        """Publish the changes to ``core.state`` from now on, under ``prefix``."""
        self._core = core
        self._sink = sink
        self._prefix = prefix
        self._seen = core.state

    def committed(self) -> None:
        """Emit the messages for what the last commit changed.

        A bug here is logged; it must not fail the request that committed.
        """
        previous, self._seen = self._seen, self._core.state
        with self.log.failuresHandled("kojisim could not publish a commit"):
            for message in messages_between(previous, self._seen):
                self._sink.emit(
                    self._prefix + message.address,
                    message.headers(),
                    message.encoded_body(),
                )
