"""The values and field checks shared by the parsers of Koji's bus events
(:mod:`ridad.bus.events`): the ``KojiEvent`` value, Koji's state names, and
strict readers of JSON bodies and message headers that raise ``ValueError``
saying what is wrong."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

EventKind = Literal["task", "build", "tag", "untag", "repo"]
SourceFormat = Literal["koji", "fedora"]

#: Koji's task states by number, lower-case (``koji.TASK_STATES``).
TASK_STATE_NAMES = ("free", "open", "closed", "canceled", "assigned", "failed")
#: Koji's build states by number, lower-case (``koji.BUILD_STATES``).
BUILD_STATE_NAMES = ("building", "complete", "deleted", "failed", "canceled")

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


def matched_suffix(destination: str, suffixes: Mapping[str, Any]) -> str | None:
    """The known suffix ``destination`` ends with, after a separator or alone."""
    for suffix in suffixes:
        if destination == suffix:
            return suffix
        if destination.endswith(suffix):
            before = destination[-len(suffix) - 1]
            if before in "./:":
                return suffix
    return None


def json_object(body: bytes) -> dict[str, Any]:
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


def typed_field(
    data: Mapping[str, Any] | None, key: str, where: str, kind: type
) -> Any:
    """``data[key]`` checked to be of type ``kind``; None when absent or null.

    :raises ValueError: present with another type.
    """
    value = None if data is None else data.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
        raise ValueError(
            f"{where}.{key} is {shortened(value)}, not {_TYPE_NAMES[kind]}"
        )
    return value


def shortened(value: Any) -> str:
    """A value's repr, cut short for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def header_text(headers: Mapping[str, str], key: str) -> str | None:
    """A header's value, None when absent or a null spelling.

    :raises ValueError: the value is not a string.
    """
    value = headers.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"header {key} is {shortened(value)}, not a string")
    return None if value is None or value in _NULL_HEADERS else value


def header_int(headers: Mapping[str, str], key: str) -> int | None:
    """A header holding an id, None when absent.

    :raises ValueError: not a decimal number.
    """
    value = header_text(headers, key)
    if value is None:
        return None
    if not _ID.fullmatch(value):
        raise ValueError(f"header {key} is {shortened(value)}, not an id")
    return int(value)


def agree(name: str, *values: int | str | None) -> Any:
    """The one value several places give for ``name`` (None if none does).

    :raises ValueError: two places disagree.
    """
    found = [v for v in values if v is not None]
    if any(v != found[0] for v in found[1:]):
        raise ValueError(f"{name} disagrees between fields: {found!r}")
    return found[0] if found else None


def check_state(name: str, value: str | None, state: str) -> None:
    """Check a state name given next to the address's.

    :raises ValueError: it names another state.
    """
    if value is not None and value.lower() != state:
        raise ValueError(f"{name} is {shortened(value)} but the address says {state}")


def build_state(number: int | None, where: str) -> str | None:
    """The name of build state ``number`` (None stays None).

    :raises ValueError: not a build state.
    """
    if number is not None and not 0 <= number < len(BUILD_STATE_NAMES):
        raise ValueError(f"{where} is {number}, not a build state")
    return None if number is None else BUILD_STATE_NAMES[number]


def nvr_of(where: str, *sources: Mapping[str, Any] | None) -> str | None:
    """``name-version-release`` from the first source that has all three.

    :raises ValueError: a part has the wrong type.
    """
    for source in sources:
        parts = [
            typed_field(source, key, where, str)
            for key in ("name", "version", "release")
        ]
        if all(parts):
            return "-".join(p for p in parts if p)
    return None
