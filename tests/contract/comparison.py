"""Comparing kojisim's XML-RPC answers with the recorded ones.

Wire types must match everywhere (nil vs int vs i8 vs string vs double vs
boolean), struct keys and array lengths too. Values must be equal, except
for fields that carry times or random keys, which are only checked for their
form. Multicall tracebacks are compared by their first and last line.
"""

from __future__ import annotations

import re

from tests.contract.recordings import Typed

TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?\+00:00$")
SESSION_KEY = re.compile(r"^\d+-[A-Za-z0-9]{19}$")


def is_volatile(key: str) -> bool:
    """Whether a struct member holds a time or a random value."""
    return key.endswith(("_time", "_ts")) or key in ("mtime", "ts", "session-key")


def compare(
    recorded: Typed,
    ours: Typed,
    path: str = "$",
    *,
    volatile: bool = False,
    key: str = "",
) -> list[str]:
    """The differences between a recorded value and ours."""
    if recorded.type != ours.type:
        return [f"{path}: type {ours.type} ({ours.value!r}), recorded {recorded.type}"]
    if recorded.type == "struct":
        return _compare_struct(recorded, ours, path)
    if recorded.type == "array":
        if key == "traceback":
            return _compare_traceback(recorded, ours, path)
        if len(recorded.value) != len(ours.value):
            return [f"{path}: {len(ours.value)} items, recorded {len(recorded.value)}"]
        problems = []
        for index, (mine, theirs) in enumerate(
            zip(ours.value, recorded.value, strict=True)
        ):
            problems += compare(theirs, mine, f"{path}[{index}]", volatile=volatile)
        return problems
    if volatile:
        return _check_form(key, ours, path)
    if recorded.value != ours.value:
        return [f"{path}: {ours.value!r}, recorded {recorded.value!r}"]
    return []


def _compare_struct(recorded: Typed, ours: Typed, path: str) -> list[str]:
    """Same keys, and each member compared."""
    mine, theirs = set(ours.value), set(recorded.value)
    if mine != theirs:
        return [f"{path}: keys +{sorted(mine - theirs)} -{sorted(theirs - mine)}"]
    problems = []
    for name in sorted(theirs):
        problems += compare(
            recorded.value[name],
            ours.value[name],
            f"{path}.{name}",
            volatile=is_volatile(name),
            key=name,
        )
    return problems


def _compare_traceback(recorded: Typed, ours: Typed, path: str) -> list[str]:
    """A traceback: a list of strings, same first and last line."""
    if not ours.value or any(item.type != "string" for item in ours.value):
        return [f"{path}: not a list of strings"]
    problems = []
    for index in (0, -1):
        if ours.value[index].value != recorded.value[index].value:
            problems.append(
                f"{path}[{index}]: {ours.value[index].value!r},"
                f" recorded {recorded.value[index].value!r}"
            )
    return problems


def _check_form(key: str, ours: Typed, path: str) -> list[str]:
    """A volatile value must still look right."""
    if ours.type == "string" and key.endswith("_time") and not TIME.match(ours.value):
        return [f"{path}: {ours.value!r} is not a hub timestamp"]
    if key == "session-key" and not SESSION_KEY.match(ours.value):
        return [f"{path}: {ours.value!r} is not a session key"]
    return []


def sort_by_id(value: Typed) -> Typed:
    """An array of structs sorted by their ``id`` member."""
    items = sorted(value.value, key=lambda item: item.value["id"].value)
    return Typed("array", items)
