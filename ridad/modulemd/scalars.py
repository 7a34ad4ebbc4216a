"""Typed readers for modulemd values, following libmodulemd's scalar rules.

Every reader takes ``(node, path, log)``, returns the typed value, and on a
bad value logs a problem and returns None. The rules (``docs/modulemd.md``,
section 1): a boolean is only the literal ``true`` or ``false``; an integer
is base 10 as ``strtoll`` reads it: leading whitespace and leading zeros are
skipped (a 50-digit ``000...042`` is 42), an optional sign, then digits up
to the end of the string; unsigned fields reject a ``-`` (even after
whitespace, where libmodulemd wraps the value round 2**64: ridad is stricter
there); values outside int64/uint64 are rejected; where a list of strings
is expected, a single scalar is a one-element list, and so is an empty
scalar (``key:`` is ``[""]``, never an empty list).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from typing import Any

from ridad.modulemd.problems import ProblemLog, child_path, item_path
from ridad.modulemd.yamltree import (
    YamlMapping,
    YamlNode,
    YamlScalar,
    YamlSequence,
    kind_of,
)

#: Reads one value: ``(node, path, log) -> value or None``.
FieldReader = Callable[[YamlNode, str, ProblemLog], Any]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1

# strtoll's grammar: isspace() characters, a sign, digits, and nothing after.
_INTEGER = re.compile(r"[ \t\n\v\f\r]*([+-]?)0*([0-9]+)")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
# More significant digits than this cannot fit in 64 bits (and int() would
# refuse strings past 4300 digits).
_MAX_DIGITS = 20


def read_str(node: YamlNode, path: str, log: ProblemLog) -> str | None:
    """Read a string (any scalar).

    :return: the scalar's text, or None if the node is not a scalar.
    """
    if isinstance(node, YamlScalar):
        return node.value
    log.add(path, node.location, f"expected a string, found {kind_of(node)}")
    return None


def read_bool(node: YamlNode, path: str, log: ProblemLog) -> bool | None:
    """Read a boolean: only the literals ``true`` and ``false``.

    :return: the boolean, or None if the value is anything else.
    """
    if isinstance(node, YamlScalar) and node.value in ("true", "false"):
        return node.value == "true"
    shown = repr(node.value) if isinstance(node, YamlScalar) else kind_of(node)
    log.add(path, node.location, f"expected true or false, found {shown}")
    return None


def _read_integer(
    node: YamlNode, path: str, log: ProblemLog, *, unsigned: bool
) -> int | None:
    """Read a base-10 integer that must fit int64 or, if unsigned, uint64."""
    if not isinstance(node, YamlScalar):
        log.add(path, node.location, f"expected an integer, found {kind_of(node)}")
        return None
    text = node.value
    match = _INTEGER.fullmatch(text)
    if match is None:
        log.add(path, node.location, f"{text!r} is not a base-10 integer")
        return None
    sign, digits = match.groups()
    if unsigned and sign == "-":
        log.add(path, node.location, "the integer value is negative")
        return None
    low, high, kind = (
        (0, UINT64_MAX, "uint64") if unsigned else (INT64_MIN, INT64_MAX, "int64")
    )
    value = int(sign + digits) if len(digits) <= _MAX_DIGITS else None
    if value is None or not low <= value <= high:
        log.add(path, node.location, f"the integer {text} is out of the {kind} range")
        return None
    return value


def read_int64(node: YamlNode, path: str, log: ProblemLog) -> int | None:
    """Read a signed 64-bit integer.

    :return: the integer, or None if it is not one or is out of range.
    """
    return _read_integer(node, path, log, unsigned=False)


def read_uint64(node: YamlNode, path: str, log: ProblemLog) -> int | None:
    """Read an unsigned 64-bit integer.

    :return: the integer, or None if it is not one, negative or too large.
    """
    return _read_integer(node, path, log, unsigned=True)


def read_date(node: YamlNode, path: str, log: ProblemLog) -> datetime.date | None:
    """Read a ``YYYY-MM-DD`` date that exists in the calendar.

    :return: the date, or None if it is malformed or impossible.
    """
    if not isinstance(node, YamlScalar):
        log.add(path, node.location, f"expected a date, found {kind_of(node)}")
        return None
    match = _DATE.fullmatch(node.value)
    if match is None:
        log.add(path, node.location, f"{node.value!r} is not a YYYY-MM-DD date")
        return None
    year, month, day = (int(part) for part in match.groups())
    try:
        return datetime.date(year, month, day)
    except ValueError:
        log.add(path, node.location, f"{node.value!r} is not a valid date")
        return None


def read_str_list(node: YamlNode, path: str, log: ProblemLog) -> tuple[str, ...] | None:
    """Read a list of strings; a scalar, even an empty one, is a one-element list.

    ``key:`` is ``[""]`` as in libmodulemd, so an empty ``buildafter:``
    names the component ``""``; only ``[]`` is an empty list. Repeated
    entries are kept once, as libmodulemd keeps them in a set.

    :return: the strings in document order, or None if the shape is wrong.
    """
    if isinstance(node, YamlScalar):
        return (node.value,)
    if isinstance(node, YamlMapping):
        log.add(path, node.location, "expected a list of strings, found a mapping")
        return None
    values: dict[str, None] = {}
    good = True
    for index, item in enumerate(node.items):
        if isinstance(item, YamlScalar):
            values[item.value] = None
            continue
        good = False
        log.add(
            item_path(path, index),
            item.location,
            f"expected a string, found {kind_of(item)}",
        )
    return tuple(values) if good else None


def expect_mapping(node: YamlNode, path: str, log: ProblemLog) -> YamlMapping | None:
    """Check that a node is a mapping.

    :return: the mapping, or None (logged) if it is not one.
    """
    if isinstance(node, YamlMapping):
        return node
    log.add(path, node.location, f"expected a mapping, found {kind_of(node)}")
    return None


def expect_sequence(node: YamlNode, path: str, log: ProblemLog) -> YamlSequence | None:
    """Check that a node is a sequence.

    :return: the sequence, or None (logged) if it is not one.
    """
    if isinstance(node, YamlSequence):
        return node
    log.add(path, node.location, f"expected a sequence, found {kind_of(node)}")
    return None


def read_record(
    node: YamlNode,
    path: str,
    log: ProblemLog,
    readers: Mapping[str, FieldReader],
    refused: Mapping[str, str] | None = None,
) -> dict[str, Any] | None:
    """Read a mapping with a fixed set of keys (libmodulemd's strict mode).

    Each known key's value goes through its reader; an unknown key is a
    problem, worded by ``refused`` when it names the key.

    :return: key -> read value (None where the value was bad; absent keys
        are missing), or None if the node is not a mapping.
    """
    mapping = expect_mapping(node, path, log)
    if mapping is None:
        return None
    values: dict[str, Any] = {}
    for key, value in mapping.entries:
        key_path = child_path(path, key.value)
        reader = readers.get(key.value)
        if reader is not None:
            values[key.value] = reader(value, key_path, log)
        elif refused and key.value in refused:
            log.add(key_path, key.location, refused[key.value])
        else:
            allowed = ", ".join(sorted(readers))
            log.add(
                key_path,
                key.location,
                f"unknown key {key.value!r} (expected one of: {allowed})",
            )
    return values


def map_of(reader: FieldReader) -> FieldReader:
    """Make a reader for a mapping of arbitrary names to ``reader`` values.

    :return: a reader giving ``dict`` name -> value (None where bad).
    """

    def read(node: YamlNode, path: str, log: ProblemLog) -> dict[str, Any] | None:
        """Read every entry of the mapping with ``reader``."""
        mapping = expect_mapping(node, path, log)
        if mapping is None:
            return None
        return {
            key.value: reader(value, child_path(path, key.value), log)
            for key, value in mapping.entries
        }

    return read


def record_of(
    readers: Mapping[str, FieldReader], refused: Mapping[str, str] | None = None
) -> FieldReader:
    """Make a reader for a mapping with the fixed keys of ``readers``.

    :return: a reader behaving as ``read_record`` with these keys.
    """

    def read(node: YamlNode, path: str, log: ProblemLog) -> dict[str, Any] | None:
        """Read the mapping's fixed keys."""
        return read_record(node, path, log, readers, refused)

    return read
