"""A string-preserving YAML reader that keeps every node's line and column.

libyaml (PyYAML's C parser, the parser libmodulemd itself uses) turns the
text into events, and this module builds its own node tree from them;
nothing is ever constructed, so tags such as ``!!python/object`` stay inert
and every scalar stays the exact string the YAML held (``1.10`` is
``"1.10"``, ``2`` is ``"2"``), as libmodulemd reads it. libyaml is also
needed for correctness: it accepts tabs as inline whitespace, which
PyYAML's pure-Python scanner refuses. Aliases are refused, so no document
can expand into a billion nodes, and nesting deeper than ``MAX_DEPTH`` is
refused. Only the first document is read: where a second one starts is
noted, and the rest of the text is never parsed. Duplicate mapping keys
are reported wherever they occur: ridad is deliberately stricter than
libmodulemd here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeAlias

import yaml
from yaml.composer import ComposerError

from ridad.modulemd.problems import (
    Location,
    ProblemLog,
    child_path,
    item_path,
)

if not yaml.__with_libyaml__:  # pragma: no cover - a broken installation
    raise ImportError(
        "PyYAML was installed without libyaml (yaml.__with_libyaml__ is False);"
        " ridad needs its C parser: reinstall PyYAML with libyaml"
    )

from yaml.cyaml import CParser  # noqa: E402 - only once libyaml is known

#: The deepest nesting of collections accepted (modulemd needs about 8).
MAX_DEPTH = 64

# A document start marker: ``---`` at the start of a line, then a blank or
# the end. YAML forbids it inside any scalar, so in well-formed text each
# one starts a document.
_DOCUMENT_MARKER = re.compile(rb"^(?:\xef\xbb\xbf)?---(?=[ \t\r\n]|\Z)", re.MULTILINE)


class YamlScalar(NamedTuple):
    """A scalar, kept as the exact string the YAML held.

    A named tuple holding its position as two numbers: a large document has
    a hundred thousand scalars, and every object the garbage collector
    tracks lengthens its pauses, which stop the reactor thread too.
    """

    value: str
    line: int
    column: int

    @property
    def location(self) -> Location:
        """Where the scalar starts."""
        return Location(self.line, self.column)


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
    """One document of a YAML stream (its key problems go to the log)."""

    root: YamlNode


@dataclass(frozen=True)
class YamlFailure:
    """Why the YAML text could not be read (syntax, alias, nesting)."""

    message: str
    location: Location


@dataclass(frozen=True)
class MoreDocuments:
    """A second document follows the first one; it was not read.

    ``count`` is the number of documents in the stream, counted from the
    document markers (``---``) without parsing them.
    """

    location: Location
    count: int


@dataclass(frozen=True)
class YamlStream:
    """The first document, the failure that stopped reading, if any, and
    whether more documents follow (never read)."""

    documents: tuple[YamlDocument, ...]
    failure: YamlFailure | None
    more: MoreDocuments | None = None


def _location(mark: Any) -> Location:
    """Turn a libyaml mark (0-based) into a 1-based Location."""
    if mark is None:
        return Location(1, 1)
    return Location(mark.line + 1, mark.column + 1)


def _byte_location(data: bytes, position: int) -> Location:
    """Turn a byte offset into the UTF-8 text into a 1-based Location."""
    position = max(0, min(position, len(data)))
    start = data.rfind(b"\n", 0, position) + 1
    column = len(data[start:position].decode("utf-8", "replace"))
    return Location(data.count(b"\n", 0, position) + 1, column + 1)


def _failure(error: yaml.YAMLError, data: bytes) -> YamlFailure:
    """Describe a PyYAML/libyaml error in one line, with its location."""
    if isinstance(error, yaml.MarkedYAMLError):
        parts = [error.problem or "the YAML is malformed"]
        if error.context:
            parts.append(f"({error.context})")
        mark = error.problem_mark or error.context_mark
        return YamlFailure(" ".join(parts), _location(mark))
    if isinstance(error, yaml.reader.ReaderError):
        character = error.character
        shown = f"U+{character:04X}" if isinstance(character, int) else "a byte"
        return YamlFailure(
            f"the character {shown} is not allowed in YAML",
            _byte_location(data, error.position),
        )
    return YamlFailure(str(error), Location(1, 1))


def _refuse(message: str, mark: Any) -> ComposerError:
    """The error that stops reading at an alias or too deep a nesting."""
    return ComposerError(None, None, message, mark)


class _TreeBuilder:
    """Build YamlNodes from libyaml events, logging bad and duplicate keys."""

    def __init__(self, parser: Any, log: ProblemLog) -> None:
        """Read events from ``parser``; log key problems to ``log``."""
        self._parser = parser
        self._log = log

    def node(self, path: str, depth: int) -> YamlNode:
        """Read one node (the next event starts it).

        :raises ComposerError: for an alias or too deep a nesting.
        :raises yaml.YAMLError: for malformed YAML.
        """
        event = self._parser.get_event()
        if isinstance(event, yaml.ScalarEvent):
            mark = event.start_mark
            return YamlScalar(event.value, mark.line + 1, mark.column + 1)
        if isinstance(event, yaml.AliasEvent):
            raise _refuse(
                "aliases (*name) are not accepted in modulemd", event.start_mark
            )
        if depth >= MAX_DEPTH:
            raise _refuse(
                f"collections are nested deeper than {MAX_DEPTH} levels",
                event.start_mark,
            )
        if isinstance(event, yaml.SequenceStartEvent):
            return self._sequence(event, path, depth + 1)
        return self._mapping(event, path, depth + 1)

    def _sequence(self, start: Any, path: str, depth: int) -> YamlSequence:
        """Read the items of a sequence up to its end event."""
        parser = self._parser
        items: list[YamlNode] = []
        while not parser.check_event(yaml.SequenceEndEvent):
            items.append(self.node(item_path(path, len(items)), depth))
        parser.get_event()
        return YamlSequence(tuple(items), _location(start.start_mark))

    def _mapping(self, start: Any, path: str, depth: int) -> YamlMapping:
        """Read a mapping up to its end event, keeping each key's first value."""
        parser = self._parser
        entries: list[tuple[YamlScalar, YamlNode]] = []
        seen: dict[str, YamlScalar] = {}
        while not parser.check_event(yaml.MappingEndEvent):
            event = parser.peek_event()
            if not isinstance(event, yaml.ScalarEvent):
                self._log.add(
                    path, _location(event.start_mark), "a mapping key must be a scalar"
                )
                self._skip(depth)
                self._skip(depth)
                continue
            parser.get_event()
            mark = event.start_mark
            key = YamlScalar(event.value, mark.line + 1, mark.column + 1)
            value_path = child_path(path, key.value)
            first = seen.get(key.value)
            if first is not None:
                self._log.add(
                    value_path,
                    key.location,
                    f"duplicate key '{key.value}' (first at line {first.line}"
                    f" col {first.column})",
                )
                self._skip(depth)
                continue
            seen[key.value] = key
            entries.append((key, self.node(value_path, depth)))
        parser.get_event()
        return YamlMapping(tuple(entries), _location(start.start_mark))

    def _skip(self, depth: int) -> None:
        """Read past one node without building it (aliases still refused).

        :raises ComposerError: for an alias or too deep a nesting.
        """
        parser = self._parser
        level = 0
        while True:
            event = parser.get_event()
            if isinstance(event, yaml.AliasEvent):
                raise _refuse(
                    "aliases (*name) are not accepted in modulemd", event.start_mark
                )
            if isinstance(event, yaml.CollectionStartEvent):
                level += 1
                if depth + level > MAX_DEPTH:
                    raise _refuse(
                        f"collections are nested deeper than {MAX_DEPTH} levels",
                        event.start_mark,
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                level -= 1
            if level == 0:
                return


def _count_documents(text: bytes, first_explicit: bool) -> int:
    """Count a stream's documents from its ``---`` markers, not parsing it."""
    markers = sum(1 for _ in _DOCUMENT_MARKER.finditer(text))
    return markers + (0 if first_explicit else 1)


def _second_document(parser: Any, data: bytes, first_explicit: bool) -> MoreDocuments:
    """Note where the second document starts (its first node), unread."""
    start = parser.get_event()
    location = _location(start.start_mark)
    try:
        if not parser.check_event(yaml.DocumentEndEvent):
            location = _location(parser.peek_event().start_mark)
    except yaml.YAMLError:
        pass  # the second document is refused anyway; its start is enough
    return MoreDocuments(location, max(2, _count_documents(data, first_explicit)))


def _read(parser: Any, data: bytes, log: ProblemLog) -> YamlStream:
    """Read the first document of the stream and look at what follows it."""
    parser.get_event()  # stream start
    if parser.check_event(yaml.StreamEndEvent):
        return YamlStream((), None)
    start = parser.get_event()
    root = _TreeBuilder(parser, log).node("", 0)
    parser.get_event()  # document end
    document = (YamlDocument(root),)
    try:
        if parser.check_event(yaml.StreamEndEvent):
            return YamlStream(document, None)
        return YamlStream(
            document, None, _second_document(parser, data, start.explicit)
        )
    except yaml.YAMLError as error:
        return YamlStream(document, _failure(error, data))


def read_yaml_stream(text: str, *, log: ProblemLog | None = None) -> YamlStream:
    """Read the first document of a YAML stream, without constructing anything.

    Reading stops at the first syntax error, alias or too-deep nesting, and
    at the start of a second document, which is never parsed. Duplicate
    and non-scalar keys go to ``log`` (a private one when not given).

    :return: the document read (if any), the failure, and what follows.
    """
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as error:
        prefix = text[: error.start].encode("utf-8", "replace")
        location = _byte_location(prefix, len(prefix))
        shown = f"U+{ord(text[error.start]):04X}"
        return YamlStream(
            (), YamlFailure(f"the character {shown} is not allowed in YAML", location)
        )
    parser = CParser(data)
    try:
        return _read(parser, data, log if log is not None else ProblemLog())
    except yaml.YAMLError as error:
        return YamlStream((), _failure(error, data))
    finally:
        parser.dispose()


def kind_of(node: YamlNode) -> str:
    """Name the kind of a node for messages.

    :return: ``"a mapping"``, ``"a sequence"`` or ``"a scalar"``.
    """
    if isinstance(node, YamlMapping):
        return "a mapping"
    if isinstance(node, YamlSequence):
        return "a sequence"
    return "a scalar"
