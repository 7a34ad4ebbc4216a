"""A string-preserving YAML reader that keeps every node's line and column.

PyYAML's scanner, parser and composer build the node graph; nothing is ever
constructed, so tags such as ``!!python/object`` stay inert and every scalar
stays the exact string the YAML held (``1.10`` is ``"1.10"``, ``2`` is
``"2"``), as libmodulemd reads it. Aliases are refused, so no document can
expand into a billion nodes, and nesting deeper than ``MAX_DEPTH`` is
refused. Duplicate mapping keys are reported wherever they occur: ridad is
deliberately stricter than libmodulemd here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import yaml
from yaml.composer import Composer, ComposerError
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from ridad.modulemd.problems import (
    Location,
    Problem,
    ProblemLog,
    child_path,
    item_path,
)

#: The deepest nesting of collections accepted (modulemd needs about 8).
MAX_DEPTH = 64


@dataclass(frozen=True)
class YamlScalar:
    """A scalar, kept as the exact string the YAML held."""

    value: str
    location: Location


@dataclass(frozen=True)
class YamlSequence:
    """A sequence of nodes."""

    items: tuple[YamlNode, ...]
    location: Location


@dataclass(frozen=True)
class YamlMapping:
    """A mapping with scalar keys, in document order, each key once."""

    entries: tuple[tuple[YamlScalar, YamlNode], ...]
    location: Location

    def get(self, key: str) -> YamlNode | None:
        """Find the value of ``key``.

        :return: the value node, or None when the key is absent.
        """
        for entry_key, value in self.entries:
            if entry_key.value == key:
                return value
        return None


YamlNode: TypeAlias = YamlScalar | YamlSequence | YamlMapping


@dataclass(frozen=True)
class YamlDocument:
    """One document of a YAML stream and the key problems found in it."""

    root: YamlNode
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class YamlFailure:
    """Why the YAML text could not be read (syntax, alias, nesting)."""

    message: str
    location: Location


@dataclass(frozen=True)
class YamlStream:
    """The documents read, and the failure that stopped reading, if any."""

    documents: tuple[YamlDocument, ...]
    failure: YamlFailure | None


class _ComposingLoader(Reader, Scanner, Parser, Composer, BaseResolver):
    """PyYAML's composer, refusing aliases and deep nesting."""

    def __init__(self, text: str) -> None:
        """Prepare to read ``text``.

        :raises yaml.reader.ReaderError: for characters YAML forbids.
        """
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        BaseResolver.__init__(self)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        """Compose one node, refusing aliases and nesting past MAX_DEPTH.

        :raises ComposerError: for an alias or too deep a nesting.
        """
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise ComposerError(
                None,
                None,
                "aliases (*name) are not accepted in modulemd",
                event.start_mark,
            )
        if self._depth >= MAX_DEPTH:
            raise ComposerError(
                None,
                None,
                f"collections are nested deeper than {MAX_DEPTH} levels",
                event.start_mark,
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _location(mark: yaml.Mark | None) -> Location:
    """Turn a PyYAML mark (0-based) into a 1-based Location."""
    if mark is None:
        return Location(1, 1)
    return Location(mark.line + 1, mark.column + 1)


def _failure(error: yaml.YAMLError, text: str) -> YamlFailure:
    """Describe a PyYAML error in one line, with its location."""
    if isinstance(error, yaml.MarkedYAMLError):
        parts = [error.problem or "the YAML is malformed"]
        if error.context:
            parts.append(f"({error.context})")
        mark = error.problem_mark or error.context_mark
        return YamlFailure(" ".join(parts), _location(mark))
    if isinstance(error, yaml.reader.ReaderError):
        position = max(0, min(error.position, len(text)))
        line = text.count("\n", 0, position) + 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1
        character = error.character
        shown = f"U+{character:04X}" if isinstance(character, int) else "a byte"
        return YamlFailure(
            f"the character {shown} is not allowed in YAML",
            Location(line, column),
        )
    return YamlFailure(str(error), Location(1, 1))


def _convert(node: yaml.Node, path: str, log: ProblemLog) -> YamlNode:
    """Turn a PyYAML node into a YamlNode, logging bad and duplicate keys."""
    location = _location(node.start_mark)
    if isinstance(node, yaml.SequenceNode):
        items = tuple(
            _convert(item, item_path(path, index), log)
            for index, item in enumerate(node.value)
        )
        return YamlSequence(items, location)
    if isinstance(node, yaml.MappingNode):
        return _convert_mapping(node, path, log)
    return YamlScalar(str(node.value), location)


def _convert_mapping(node: yaml.MappingNode, path: str, log: ProblemLog) -> YamlNode:
    """Turn a PyYAML mapping into a YamlMapping, keeping each key's first value."""
    entries: list[tuple[YamlScalar, YamlNode]] = []
    seen: dict[str, Location] = {}
    for key_node, value_node in node.value:
        key_location = _location(key_node.start_mark)
        if not isinstance(key_node, yaml.ScalarNode):
            log.add(path, key_location, "a mapping key must be a scalar")
            continue
        key = str(key_node.value)
        first = seen.get(key)
        if first is not None:
            log.add(
                child_path(path, key),
                key_location,
                f"duplicate key '{key}' (first at line {first.line}"
                f" col {first.column})",
            )
            continue
        seen[key] = key_location
        value = _convert(value_node, child_path(path, key), log)
        entries.append((YamlScalar(key, key_location), value))
    return YamlMapping(tuple(entries), _location(node.start_mark))


def read_yaml_stream(text: str) -> YamlStream:
    """Read every document of a YAML stream, without constructing anything.

    Reading stops at the first syntax error, alias or too-deep nesting; the
    documents read before it are kept.

    :return: the documents read and the failure, if any.
    """
    documents: list[YamlDocument] = []
    loader: _ComposingLoader | None = None
    try:
        loader = _ComposingLoader(text)
        while loader.check_node():
            node = loader.get_node()
            log = ProblemLog()
            root = _convert(node, "", log)
            documents.append(YamlDocument(root, log.problems))
    except yaml.YAMLError as error:
        return YamlStream(tuple(documents), _failure(error, text))
    finally:
        if loader is not None:
            loader.dispose()
    return YamlStream(tuple(documents), None)


def kind_of(node: YamlNode) -> str:
    """Name the kind of a node for messages.

    :return: ``"a mapping"``, ``"a sequence"`` or ``"a scalar"``.
    """
    if isinstance(node, YamlMapping):
        return "a mapping"
    if isinstance(node, YamlSequence):
        return "a sequence"
    return "a scalar"
