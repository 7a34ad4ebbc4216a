"""Koji's bus events, from either of its two message formats, as one value.

Koji's own ``protonmsg`` plugin (``parse_koji_message``) names the event in
the address (``task.closed``, ``build.complete``, ``build.tag``,
``repo.done``, ...) after a site prefix, sends flat properties (which reach a
STOMP subscriber as headers) and a JSON body of the callback's arguments.
Fedora's ``koji-fedoramessaging`` plugin (``parse_fedora_message``) uses
``buildsys.*`` topics and flat JSON bodies (both described in docs/koji.md).
Both parsers answer a ``KojiEvent``, None for a kind of message ridad does
not use, or raise ``ValueError`` saying what is wrong with a malformed one;
the value and the field checks live in :mod:`ridad.bus.event_fields`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ridad.bus.event_fields import (
    BUILD_STATE_NAMES,
    TASK_STATE_NAMES,
    EventKind,
    KojiEvent,
    agree,
    build_state,
    check_state,
    header_int,
    header_text,
    json_object,
    matched_suffix,
    nvr_of,
    typed_field,
)

__all__ = [
    "BUILD_STATE_NAMES",
    "TASK_STATE_NAMES",
    "KojiEvent",
    "parse_fedora_message",
    "parse_koji_message",
]

#: The state a repo event reports: ``repo.done`` means the repo is READY.
_REPO_READY = "ready"

# Koji addresses ridad uses -> (kind, state). Anything else is ignored.
_KOJI_ADDRESSES: dict[str, tuple[EventKind, str | None]] = {
    **{f"task.{name}": ("task", name) for name in TASK_STATE_NAMES},
    **{f"build.{name}": ("build", name) for name in BUILD_STATE_NAMES},
    "build.tag": ("tag", None),
    "build.untag": ("untag", None),
    "repo.done": ("repo", _REPO_READY),
}
_FEDORA_TOPICS: dict[str, EventKind] = {
    "buildsys.task.state.change": "task",
    "buildsys.build.state.change": "build",
    "buildsys.tag": "tag",
    "buildsys.untag": "untag",
    "buildsys.repo.done": "repo",
}


def parse_koji_message(
    destination: str, headers: Mapping[str, str], body: bytes
) -> KojiEvent | None:
    """The event of one message of Koji's protonmsg plugin, as delivered by STOMP.

    :returns: the event, or None for a kind ridad does not use
        (``package.*``, ``import.*``, ``sign.*``, ``repo.init``, ...).
    :raises ValueError: the message is malformed (the text says how).
    """
    if not isinstance(destination, str):
        raise ValueError(f"destination is {destination!r}, not a string")
    address = matched_suffix(destination, _KOJI_ADDRESSES)
    if address is None:
        return None
    kind, state = _KOJI_ADDRESSES[address]
    data = json_object(body)
    if kind == "task":
        assert state is not None
        return _koji_task(state, headers, data)
    if kind == "build":
        assert state is not None
        return _koji_build(state, headers, data)
    if kind == "repo":
        return _koji_repo(headers, data)
    return _koji_tagging(kind, headers, data)


def _koji_task(
    state: str, headers: Mapping[str, str], data: dict[str, Any]
) -> KojiEvent:
    """A ``task.<state>`` message.

    :raises ValueError: no task id, a bad field, or a state that contradicts the address.
    """
    info = typed_field(data, "info", "body", dict)
    task_id = agree(
        "task id", header_int(headers, "id"), typed_field(info, "id", "info", int)
    )
    if task_id is None:
        raise ValueError("task message has no task id (header id or info.id)")
    check_state("body new", typed_field(data, "new", "body", str), state)
    check_state("header new", header_text(headers, "new"), state)
    parent = agree(
        "parent task id",
        header_int(headers, "parent"),
        typed_field(info, "parent", "info", int),
    )
    return KojiEvent(
        kind="task",
        task_id=task_id,
        parent_task_id=parent,
        state=state,
        source_format="koji",
    )


def _koji_build(
    state: str, headers: Mapping[str, str], data: dict[str, Any]
) -> KojiEvent:
    """A ``build.<state>`` message.

    :raises ValueError: no build named, a bad field, or a contradicting state.
    """
    info = typed_field(data, "info", "body", dict)
    build_state(typed_field(data, "old", "body", int), "body.old")
    check_state(
        "body new",
        build_state(typed_field(data, "new", "body", int), "body.new"),
        state,
    )
    check_state("header new", header_text(headers, "new"), state)
    build_id = agree(
        "build id",
        typed_field(info, "id", "info", int),
        typed_field(info, "build_id", "info", int),
    )
    nvr = typed_field(info, "nvr", "info", str) or nvr_of("info", info, headers)
    if build_id is None and nvr is None:
        raise ValueError("build message names no build (info.id or an NVR)")
    return KojiEvent(
        kind="build",
        task_id=typed_field(info, "task_id", "info", int),
        build_id=build_id,
        nvr=nvr,
        state=state,
        source_format="koji",
    )


def _koji_tagging(
    kind: EventKind, headers: Mapping[str, str], data: dict[str, Any]
) -> KojiEvent:
    """A ``build.tag`` or ``build.untag`` message.

    :raises ValueError: no tag or no build named, or a bad field.
    """
    build = typed_field(data, "build", "body", dict)
    tag = agree(
        "tag name",
        header_text(headers, "tag"),
        typed_field(typed_field(data, "tag", "body", dict), "name", "tag", str),
    )
    build_id = agree(
        "build id",
        typed_field(build, "id", "build", int),
        typed_field(build, "build_id", "build", int),
    )
    nvr = typed_field(build, "nvr", "build", str) or nvr_of("build", build, headers)
    if tag is None:
        raise ValueError(f"{kind} message names no tag (header tag or tag.name)")
    if build_id is None and nvr is None:
        raise ValueError(f"{kind} message names no build (build.id or an NVR)")
    return KojiEvent(
        kind=kind,
        task_id=typed_field(build, "task_id", "build", int),
        build_id=build_id,
        nvr=nvr,
        tag=tag,
        source_format="koji",
    )


def _koji_repo(headers: Mapping[str, str], data: dict[str, Any]) -> KojiEvent:
    """A ``repo.done`` message (the body's ``task_id`` is null; the prop has it).

    :raises ValueError: no repo id, or a bad field.
    """
    repo = typed_field(data, "repo", "body", dict)
    repo_id = agree(
        "repo id", header_int(headers, "repo_id"), typed_field(repo, "id", "repo", int)
    )
    if repo_id is None:
        raise ValueError("repo message has no repo id (header repo_id or repo.id)")
    task_id = agree(
        "repo task id",
        header_int(headers, "task_id"),
        typed_field(repo, "task_id", "repo", int),
        typed_field(data, "task_id", "body", int),
    )
    tag = agree(
        "tag name",
        header_text(headers, "tag"),
        typed_field(repo, "tag_name", "repo", str),
    )
    return KojiEvent(
        kind="repo",
        task_id=task_id,
        repo_id=repo_id,
        tag=tag,
        state=_REPO_READY,
        source_format="koji",
    )


def parse_fedora_message(destination: str, body: bytes) -> KojiEvent | None:
    """The event of one message of Fedora's koji-fedoramessaging plugin.

    :returns: the event, or None for a topic ridad does not use
        (``buildsys.repo.init``, ``buildsys.rpm.sign``, ...).
    :raises ValueError: the message is malformed (the text says how).
    """
    if not isinstance(destination, str):
        raise ValueError(f"destination is {destination!r}, not a string")
    topic = matched_suffix(destination, _FEDORA_TOPICS)
    if topic is None:
        return None
    kind = _FEDORA_TOPICS[topic]
    data = json_object(body)
    if kind == "task":
        return _fedora_task(data)
    if kind == "build":
        return _fedora_build(data)
    if kind == "repo":
        repo_id = _required(typed_field(data, "repo_id", "body", int), "repo_id")
        tag = _required(typed_field(data, "tag", "body", str), "tag")
        return KojiEvent(
            kind="repo",
            repo_id=repo_id,
            tag=tag,
            state=_REPO_READY,
            source_format="fedora",
        )
    return KojiEvent(
        kind=kind,
        build_id=_required(typed_field(data, "build_id", "body", int), "build_id"),
        nvr=_required(nvr_of("body", data), "name, version and release"),
        tag=_required(typed_field(data, "tag", "body", str), "tag"),
        source_format="fedora",
    )


def _required(value: Any, what: str) -> Any:
    """``value``, which the message must have.

    :raises ValueError: it is missing.
    """
    if value is None:
        raise ValueError(f"body has no {what}")
    return value


def _fedora_task(data: dict[str, Any]) -> KojiEvent:
    """A ``buildsys.task.state.change`` body.

    :raises ValueError: no id or state, or a bad field.
    """
    task_id = _required(typed_field(data, "id", "body", int), "id")
    new = _required(typed_field(data, "new", "body", str), "new")
    if new.lower() not in TASK_STATE_NAMES:
        raise ValueError(f"body.new is {new!r}, not a task state")
    info = typed_field(data, "info", "body", dict)
    agree("task id", task_id, typed_field(info, "id", "info", int))
    return KojiEvent(
        kind="task",
        task_id=task_id,
        parent_task_id=typed_field(info, "parent", "info", int),
        state=new.lower(),
        source_format="fedora",
    )


def _fedora_build(data: dict[str, Any]) -> KojiEvent:
    """A ``buildsys.build.state.change`` body (``new`` is a state number).

    :raises ValueError: a missing or bad field.
    """
    state = build_state(
        _required(typed_field(data, "new", "body", int), "new"), "body.new"
    )
    build_state(typed_field(data, "old", "body", int), "body.old")
    return KojiEvent(
        kind="build",
        task_id=typed_field(data, "task_id", "body", int),
        build_id=_required(typed_field(data, "build_id", "body", int), "build_id"),
        nvr=_required(nvr_of("body", data), "name, version and release"),
        state=state,
        source_format="fedora",
    )
