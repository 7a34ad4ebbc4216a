"""Comparing kojisim's XML-RPC answers with the recorded ones.

Wire types must match everywhere (nil vs int vs i8 vs string vs double vs
boolean), struct keys and array lengths too. Values must be equal, except
for fields that carry times or random keys, which are only checked for their
form. Multicall tracebacks are compared by their first and last line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from tests.contract.recordings import Exchange, Typed, parse_document, plain

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


#: Fault strings holding the hub's paths, compared by pattern.
FAULT_PATTERNS = {
    39: re.compile(
        r"upload path exists: /\S+/cli-build/20261101100000\.AbCdEfGh/alpha-1\.0-1\.src\.rpm"
    ),
}


@dataclass(frozen=True)
class Answer:
    """kojisim's reply to one recorded request."""

    code: int
    headers: dict[str, list[str]]
    body: bytes


def assert_answers_like(
    exchange: Exchange,
    ours: Answer,
    *,
    unordered: Collection[int],
    masked: Callable[[Typed], Typed] = lambda value: value,
) -> None:
    """Status, headers, fault and result structure match the recording;
    the results of ``unordered`` exchanges are compared sorted by id, and
    both results through ``masked`` (what cannot be the recording's)."""
    assert ours.code == exchange.status
    for name in ("Koji-Version", "Content-Type", "Allow"):
        recorded = exchange.response_header(name)
        assert (ours.headers.get(name.lower()) or [None])[0] == recorded, name
    if exchange.response_header("Content-Type") != "text/xml":
        assert ours.body == exchange.response_body
        return
    recorded_kind, recorded_value = parse_document(exchange.response_body)
    our_kind, value = parse_document(ours.body)
    assert our_kind == recorded_kind, plain(value)
    if recorded_kind == "fault":
        _assert_same_fault(exchange, plain(recorded_value), plain(value))
        return
    if exchange.number in unordered:
        recorded_value, value = sort_by_id(recorded_value), sort_by_id(value)
    assert compare(masked(recorded_value), masked(value)) == []


def _assert_same_fault(exchange: Exchange, recorded: dict, ours: dict) -> None:
    """Same fault code; same string (or matching the exchange's pattern)."""
    assert set(ours) == {"faultCode", "faultString"}
    assert ours["faultCode"] == recorded["faultCode"]
    pattern = FAULT_PATTERNS.get(exchange.number)
    if pattern is not None:
        assert pattern.fullmatch(ours["faultString"]), ours["faultString"]
    else:
        assert ours["faultString"] == recorded["faultString"]
