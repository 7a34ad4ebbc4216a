"""Koji's bus events, from either of its two message formats, as one value.

Koji's own ``protonmsg`` plugin (``parse_koji_message``) names the event in
the address (``task.closed``, ``build.complete``, ``build.tag``,
``repo.done``, ...) after a site prefix, sends flat properties (which reach a
STOMP subscriber as headers) and a JSON body of the callback's arguments.
Fedora's ``koji-fedoramessaging`` plugin (``parse_fedora_message``) uses
``buildsys.*`` topics and flat JSON bodies. Both parsers answer a
L{KojiEvent}, None for a kind of message ridad does not use, or raise
``ValueError`` saying what is wrong with a malformed one (KOJI.md section 6).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "BUILD_STATE_NAMES",
    "TASK_STATE_NAMES",
    "KojiEvent",
    "parse_fedora_message",
    "parse_koji_message",
]

EventKind = Literal["task", "build", "tag", "untag", "repo"]
SourceFormat = Literal["koji", "fedora"]

#: Koji's task states by number, lower-case (``koji.TASK_STATES``).
TASK_STATE_NAMES = ("free", "open", "closed", "canceled", "assigned", "failed")
#: Koji's build states by number, lower-case (``koji.BUILD_STATES``).
BUILD_STATE_NAMES = ("building", "complete", "deleted", "failed", "canceled")

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
_ID = re.compile(r"[0-9]{1,18}")
_NULL_HEADERS = frozenset({"", "None", "null"})


@dataclass(frozen=True, kw_only=True)
class KojiEvent:
    """Something that happened in Koji, as far as ridad cares.

    ``state`` is the lower-case name of the new task or build state
    (``"ready"`` for a repo, None for tagging). For build and tag events
    ``task_id`` is the build's own task, when the message says.
    """

    kind: EventKind
    task_id: int | None = None
    parent_task_id: int | None = None
    build_id: int | None = None
    nvr: str | None = None
    tag: str | None = None
    repo_id: int | None = None
    state: str | None = None
    source_format: SourceFormat


def _matched_suffix(destination: str, suffixes: Mapping[str, Any]) -> str | None:
    """The known suffix ``destination`` ends with, after a separator or alone."""
    for suffix in suffixes:
        if destination == suffix:
            return suffix
        if destination.endswith(suffix):
            before = destination[-len(suffix) - 1]
            if before in "./:":
                return suffix
    return None


def _json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object.

    :raises ValueError: not bytes, not UTF-8, not JSON, or not an object.
    """
    if not isinstance(body, bytes | bytearray | memoryview):
        raise ValueError(f"body is {type(body).__name__}, not bytes")
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"body is not UTF-8 (byte {e.start}: {e.reason})") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("body is JSON nested too deeply") from None
    except ValueError as e:
        raise ValueError(f"body is not JSON: {e}") from None
    if not isinstance(data, dict):
        raise ValueError(f"body is a JSON {type(data).__name__}, not an object")
    return data


_TYPE_NAMES = {int: "an integer", str: "a string", dict: "an object"}


def _field(data: Mapping[str, Any] | None, key: str, where: str, kind: type) -> Any:
    """``data[key]`` checked to be of type ``kind``; None when absent or null.

    :raises ValueError: present with another type.
    """
    value = None if data is None else data.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
        raise ValueError(f"{where}.{key} is {_short(value)}, not {_TYPE_NAMES[kind]}")
    return value


def _short(value: Any) -> str:
    """A value's repr, cut short for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _header(headers: Mapping[str, str], key: str) -> str | None:
    """A header's value, None when absent or a null spelling.

    :raises ValueError: the value is not a string.
    """
    value = headers.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"header {key} is {_short(value)}, not a string")
    return None if value is None or value in _NULL_HEADERS else value


def _header_int(headers: Mapping[str, str], key: str) -> int | None:
    """A header holding an id, None when absent.

    :raises ValueError: not a decimal number.
    """
    value = _header(headers, key)
    if value is None:
        return None
    if not _ID.fullmatch(value):
        raise ValueError(f"header {key} is {_short(value)}, not an id")
    return int(value)


def _agree(name: str, *values: int | str | None) -> Any:
    """The one value several places give for ``name`` (None if none does).

    :raises ValueError: two places disagree.
    """
    found = [v for v in values if v is not None]
    if any(v != found[0] for v in found[1:]):
        raise ValueError(f"{name} disagrees between fields: {found!r}")
    return found[0] if found else None


def _check_state(name: str, value: str | None, state: str) -> None:
    """Check a state name given next to the address's.

    :raises ValueError: it names another state.
    """
    if value is not None and value.lower() != state:
        raise ValueError(f"{name} is {_short(value)} but the address says {state}")


def _build_state(number: int | None, where: str) -> str | None:
    """The name of build state ``number`` (None stays None).

    :raises ValueError: not a build state.
    """
    if number is not None and not 0 <= number < len(BUILD_STATE_NAMES):
        raise ValueError(f"{where} is {number}, not a build state")
    return None if number is None else BUILD_STATE_NAMES[number]


def _nvr(where: str, *sources: Mapping[str, Any] | None) -> str | None:
    """``name-version-release`` from the first source that has all three.

    :raises ValueError: a part has the wrong type.
    """
    for source in sources:
        parts = [
            _field(source, key, where, str) for key in ("name", "version", "release")
        ]
        if all(parts):
            return "-".join(p for p in parts if p)
    return None


def parse_koji_message(
    destination: str, headers: Mapping[str, str], body: bytes
) -> KojiEvent | None:
    """The event of one message of Koji's protonmsg plugin, as delivered by STOMP.

    :return: the event, or None for a kind ridad does not use
        (``package.*``, ``import.*``, ``sign.*``, ``repo.init``, ...).
    :raises ValueError: the message is malformed (the text says how).
    """
    if not isinstance(destination, str):
        raise ValueError(f"destination is {destination!r}, not a string")
    address = _matched_suffix(destination, _KOJI_ADDRESSES)
    if address is None:
        return None
    kind, state = _KOJI_ADDRESSES[address]
    data = _json_object(body)
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
    info = _field(data, "info", "body", dict)
    task_id = _agree(
        "task id", _header_int(headers, "id"), _field(info, "id", "info", int)
    )
    if task_id is None:
        raise ValueError("task message has no task id (header id or info.id)")
    _check_state("body new", _field(data, "new", "body", str), state)
    _check_state("header new", _header(headers, "new"), state)
    parent = _agree(
        "parent task id",
        _header_int(headers, "parent"),
        _field(info, "parent", "info", int),
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
    info = _field(data, "info", "body", dict)
    _build_state(_field(data, "old", "body", int), "body.old")
    _check_state(
        "body new", _build_state(_field(data, "new", "body", int), "body.new"), state
    )
    _check_state("header new", _header(headers, "new"), state)
    build_id = _agree(
        "build id",
        _field(info, "id", "info", int),
        _field(info, "build_id", "info", int),
    )
    nvr = _field(info, "nvr", "info", str) or _nvr("info", info, headers)
    if build_id is None and nvr is None:
        raise ValueError("build message names no build (info.id or an NVR)")
    return KojiEvent(
        kind="build",
        task_id=_field(info, "task_id", "info", int),
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
    build = _field(data, "build", "body", dict)
    tag = _agree(
        "tag name",
        _header(headers, "tag"),
        _field(_field(data, "tag", "body", dict), "name", "tag", str),
    )
    build_id = _agree(
        "build id",
        _field(build, "id", "build", int),
        _field(build, "build_id", "build", int),
    )
    nvr = _field(build, "nvr", "build", str) or _nvr("build", build, headers)
    if tag is None:
        raise ValueError(f"{kind} message names no tag (header tag or tag.name)")
    if build_id is None and nvr is None:
        raise ValueError(f"{kind} message names no build (build.id or an NVR)")
    return KojiEvent(
        kind=kind,
        task_id=_field(build, "task_id", "build", int),
        build_id=build_id,
        nvr=nvr,
        tag=tag,
        source_format="koji",
    )


def _koji_repo(headers: Mapping[str, str], data: dict[str, Any]) -> KojiEvent:
    """A ``repo.done`` message (the body's ``task_id`` is null; the prop has it).

    :raises ValueError: no repo id, or a bad field.
    """
    repo = _field(data, "repo", "body", dict)
    repo_id = _agree(
        "repo id", _header_int(headers, "repo_id"), _field(repo, "id", "repo", int)
    )
    if repo_id is None:
        raise ValueError("repo message has no repo id (header repo_id or repo.id)")
    task_id = _agree(
        "repo task id",
        _header_int(headers, "task_id"),
        _field(repo, "task_id", "repo", int),
        _field(data, "task_id", "body", int),
    )
    tag = _agree(
        "tag name", _header(headers, "tag"), _field(repo, "tag_name", "repo", str)
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

    :return: the event, or None for a topic ridad does not use
        (``buildsys.repo.init``, ``buildsys.rpm.sign``, ...).
    :raises ValueError: the message is malformed (the text says how).
    """
    if not isinstance(destination, str):
        raise ValueError(f"destination is {destination!r}, not a string")
    topic = _matched_suffix(destination, _FEDORA_TOPICS)
    if topic is None:
        return None
    kind = _FEDORA_TOPICS[topic]
    data = _json_object(body)
    if kind == "task":
        return _fedora_task(data)
    if kind == "build":
        return _fedora_build(data)
    if kind == "repo":
        repo_id = _required(_field(data, "repo_id", "body", int), "repo_id")
        tag = _required(_field(data, "tag", "body", str), "tag")
        return KojiEvent(
            kind="repo",
            repo_id=repo_id,
            tag=tag,
            state=_REPO_READY,
            source_format="fedora",
        )
    return KojiEvent(
        kind=kind,
        build_id=_required(_field(data, "build_id", "body", int), "build_id"),
        nvr=_required(_nvr("body", data), "name, version and release"),
        tag=_required(_field(data, "tag", "body", str), "tag"),
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
    task_id = _required(_field(data, "id", "body", int), "id")
    new = _required(_field(data, "new", "body", str), "new")
    if new.lower() not in TASK_STATE_NAMES:
        raise ValueError(f"body.new is {new!r}, not a task state")
    info = _field(data, "info", "body", dict)
    _agree("task id", task_id, _field(info, "id", "info", int))
    return KojiEvent(
        kind="task",
        task_id=task_id,
        parent_task_id=_field(info, "parent", "info", int),
        state=new.lower(),
        source_format="fedora",
    )


def _fedora_build(data: dict[str, Any]) -> KojiEvent:
    """A ``buildsys.build.state.change`` body (``new`` is a state number).

    :raises ValueError: a missing or bad field.
    """
    state = _build_state(_required(_field(data, "new", "body", int), "new"), "body.new")
    _build_state(_field(data, "old", "body", int), "body.old")
    return KojiEvent(
        kind="build",
        task_id=_field(data, "task_id", "body", int),
        build_id=_required(_field(data, "build_id", "body", int), "build_id"),
        nvr=_required(_nvr("body", data), "name, version and release"),
        state=state,
        source_format="fedora",
    )
