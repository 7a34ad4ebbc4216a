"""Readers for ``data.dependencies``: the v2 list and the v1 single mapping.

v2 (and packager v2) write a list of ``{buildrequires, requires}`` items,
each mapping a module name to a stream list. A stream list may include
streams or exclude them (``-f27``) but not both. v1 writes one mapping with
a single stream per module; it becomes one item with 1-tuples.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ridad.domain.modulemd import Dependencies
from ridad.modulemd.problems import ProblemLog, child_path, item_path
from ridad.modulemd.scalars import (
    expect_mapping,
    expect_sequence,
    read_record,
    read_str,
    read_str_list,
)
from ridad.modulemd.yamltree import YamlNode

_SIDES = ("buildrequires", "requires")


def _read_streams_v2(
    node: YamlNode, path: str, log: ProblemLog
) -> dict[str, tuple[str, ...]] | None:
    """Read ``{module: [streams]}``, refusing lists that mix signs."""
    mapping = expect_mapping(node, path, log)
    if mapping is None:
        return None
    modules: dict[str, tuple[str, ...]] = {}
    for key, value in mapping.entries:
        module_path = child_path(path, key.value)
        streams = read_str_list(value, module_path, log)
        if streams is None:
            continue
        excluded = [stream.startswith("-") for stream in streams]
        if any(excluded) and not all(excluded):
            log.add(
                module_path,
                value.location,
                "the stream list mixes streams with excluded (-) streams;"
                " list either only streams or only exclusions",
            )
            continue
        modules[key.value] = streams
    return modules


def _read_streams_v1(
    node: YamlNode, path: str, log: ProblemLog
) -> dict[str, tuple[str, ...]] | None:
    """Read v1's ``{module: stream}`` as ``{module: (stream,)}``."""
    mapping = expect_mapping(node, path, log)
    if mapping is None:
        return None
    modules: dict[str, tuple[str, ...]] = {}
    for key, value in mapping.entries:
        stream = read_str(value, child_path(path, key.value), log)
        if stream is not None:
            modules[key.value] = (stream,)
    return modules


def _to_dependencies(values: Mapping[str, Any] | None) -> Dependencies:
    """Build one Dependencies item from read ``buildrequires``/``requires``."""
    values = values or {}
    buildrequires = values.get("buildrequires") or {}
    requires = values.get("requires") or {}
    return Dependencies(buildrequires=buildrequires, requires=requires)


def read_dependencies_v2(
    node: YamlNode, path: str, log: ProblemLog
) -> tuple[Dependencies, ...] | None:
    """Read the v2 ``dependencies`` list.

    :return: one Dependencies per item, or None if the shape is wrong.
    """
    sequence = expect_sequence(node, path, log)
    if sequence is None:
        return None
    readers = {side: _read_streams_v2 for side in _SIDES}
    items = []
    for index, item in enumerate(sequence.items):
        values = read_record(item, item_path(path, index), log, readers)
        items.append(_to_dependencies(values))
    return tuple(items)


def read_dependencies_v1(
    node: YamlNode, path: str, log: ProblemLog
) -> tuple[Dependencies, ...] | None:
    """Read the v1 ``dependencies`` mapping as a single v2-style item.

    :return: a one-item tuple, or None if the shape is wrong.
    """
    readers = {side: _read_streams_v1 for side in _SIDES}
    values = read_record(node, path, log, readers)
    if values is None:
        return None
    return (_to_dependencies(values),)
