"""The dicts the hub returns for its records, field for field.

Times are strings (as the hub's marshaller sends database timestamps) next
to ``*_ts`` floats, except in ``listTagged``, which has no ``*_ts`` fields.
"""

from __future__ import annotations

from typing import Any

from koji.xmlrpcplus import getparser

from ridad.kojisim.inheritance import tag_change_events
from ridad.kojisim.state import Build, HubState, Repo, Tag, Task, User, iso
from ridad.kojisim.wire import parse_response

__all__ = [
    "build_view",
    "repo_view",
    "tag_view",
    "tagged_build_view",
    "task_view",
    "user_view",
]


def user_view(user: User) -> dict[str, Any]:
    """``getUser``'s dict."""
    return {
        "id": user.id,
        "name": user.name,
        "status": user.status,
        "usertype": user.usertype,
        "krb_principals": [],
    }


def tag_view(state: HubState, tag: Tag) -> dict[str, Any]:
    """``getTag``'s dict (the tag's own extra only)."""
    perm = state.permissions.get(tag.perm_id) if tag.perm_id is not None else None
    return {
        "arches": tag.arches,
        "id": tag.id,
        "locked": tag.locked,
        "maven_include_all": tag.maven_include_all,
        "maven_support": tag.maven_support,
        "name": tag.name,
        "perm": perm.name if perm else None,
        "perm_id": tag.perm_id,
        "extra": dict(tag.extra),
    }


def task_view(task: Task, *, request: bool = False) -> dict[str, Any]:
    """``getTaskInfo``'s dict; with ``request`` the decoded request list."""
    info: dict[str, Any] = {
        "id": task.id,
        "state": task.state,
        "create_time": iso(task.create_ts),
        "create_ts": task.create_ts,
        "start_time": iso(task.start_ts),
        "start_ts": task.start_ts,
        "completion_time": iso(task.completion_ts),
        "completion_ts": task.completion_ts,
        "channel_id": task.channel_id,
        "host_id": task.host_id,
        "parent": task.parent,
        "label": task.label,
        "waiting": None,
        "awaited": None,
        "owner": task.owner,
        "method": task.method,
        "arch": task.arch,
        "priority": task.priority,
        "weight": task.weight,
    }
    if request:
        info["request"] = list(decoded_request(task))
    return info


def decoded_request(task: Task) -> tuple[Any, ...]:
    """A task's stored request, decoded into its parameters."""
    parser, unmarshaller = getparser()
    parser.feed(task.request.encode("utf-8"))
    parser.close()
    return tuple(unmarshaller.close())


def decoded_result(task: Task) -> Any:
    """A task's stored result, decoded (a stored fault is raised)."""
    return parse_response(task.result) if task.result is not None else None


def _build_common(state: HubState, build: Build) -> dict[str, Any]:
    """The fields getBuild, listBuilds and listTagged share."""
    name = state.packages[build.package_id]
    owner = state.users.get(build.owner_id)
    event = state.events.get(build.create_event)
    return {
        "build_id": build.id,
        "completion_time": iso(build.completion_ts),
        "creation_event_id": build.create_event,
        "creation_time": iso(event.ts) if event else None,
        "draft": False,
        "epoch": build.epoch,
        "name": name,
        "nvr": f"{name}-{build.version}-{build.release}",
        "owner_id": build.owner_id,
        "owner_name": owner.name if owner else None,
        "package_id": build.package_id,
        "package_name": name,
        "promoter_id": None,
        "promoter_name": None,
        "promotion_time": None,
        "release": build.release,
        "start_time": iso(build.start_ts),
        "state": build.state,
        "task_id": build.task_id,
        "version": build.version,
        "volume_id": 0,
        "volume_name": "DEFAULT",
    }


def build_view(
    state: HubState, build: Build, *, listing: bool = False
) -> dict[str, Any]:
    """``getBuild``'s dict, or ``listBuilds``' (no id/cg fields) with ``listing``."""
    info = _build_common(state, build)
    event = state.events.get(build.create_event)
    info.update(
        {
            "completion_ts": build.completion_ts,
            "creation_ts": event.ts if event else None,
            "extra": build.extra,
            "promotion_ts": None,
            "source": build.source,
            "start_ts": build.start_ts,
        }
    )
    if not listing:
        cg_name = state.content_generators.get(build.cg_id or 0)
        info.update({"cg_id": build.cg_id, "cg_name": cg_name, "id": build.id})
    return info


def tagged_build_view(
    state: HubState, build: Build, tag: Tag, create_event: int, *, extra: bool
) -> dict[str, Any]:
    """A ``listTagged`` entry: build fields plus the tagging, without ``*_ts``."""
    info = _build_common(state, build)
    info.update(
        {"id": build.id, "tag_id": tag.id, "tag_name": tag.name},
        create_event=create_event,
    )
    if extra:
        info["extra"] = build.extra
    return info


def repo_view(state: HubState, repo: Repo) -> dict[str, Any]:
    """``getRepo`` / ``repoInfo``'s dict."""
    tag = state.tags[repo.tag_id]
    task = state.tasks.get(repo.task_id) if repo.task_id is not None else None
    end_event = _end_event(state, repo)
    return {
        "begin_event": repo.begin_event,
        "begin_ts": _event_ts(state, repo.begin_event),
        "create_event": repo.create_event,
        "create_ts": _event_ts(state, repo.create_event),
        "creation_time": iso(repo.creation_ts),
        "creation_ts": repo.creation_ts,
        "custom_opts": dict(repo.custom_opts),
        "dist": repo.dist,
        "end_event": end_event,
        "end_ts": _event_ts(state, end_event),
        "id": repo.id,
        "opts": dict(repo.opts),
        "state": repo.state,
        "state_time": iso(repo.state_ts),
        "state_ts": repo.state_ts,
        "tag_id": repo.tag_id,
        "tag_name": tag.name,
        "task_id": repo.task_id,
        "task_state": task.state if task else None,
    }


def _event_ts(state: HubState, event_id: int | None) -> float | None:
    """The time of an event, or None."""
    event = state.events.get(event_id) if event_id is not None else None
    return event.ts if event else None


def _end_event(state: HubState, repo: Repo) -> int | None:
    """The first change to the repo's tag after the repo's event."""
    later = [e for e in tag_change_events(state, repo.tag_id) if e > repo.create_event]
    return min(later) if later else None
