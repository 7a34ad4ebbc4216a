"""libmodulemd's YAML events: how it writes scalars, lists and xmd values.

libmodulemd drives libyaml's emitter with plain scalars (libyaml quotes them
itself when they need it), double quotes for the strings that are empty or
look like a number (since 2.15), block mappings, and either block or flow
sequences. ``EventWriter`` sends the same events to the same emitter
(PyYAML's ``CSafeDumper``), so the text comes out as libmodulemd's does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

DOUBLE = '"'
FOLDED = ">"


def looks_like_number(text: str) -> bool:
    """Whether libmodulemd 2.15 double-quotes ``text``: empty or number-like.

    Decimal digits with one optional point and, after a point, an exponent;
    ``0x`` hexadecimal, ``0o`` octal, ``.nan`` and ``[+-].inf``; an optional
    leading sign.

    :return: True for the strings YAML readers could take for numbers.
    """
    if text in ("", ".nan"):
        return True
    rest = text[1:] if text[0] in "+-" else text
    if rest == ".inf":
        return True
    digits = "0123456789"
    fractional = False
    if rest.startswith("."):
        fractional, rest = True, rest[1:]
    elif rest.startswith("0x"):
        digits, rest = "0123456789abcdefABCDEF", rest[2:]
    elif rest.startswith("0o"):
        digits, rest = "01234567", rest[2:]
    if not rest:
        return False
    if len(digits) != 10:
        return all(character in digits for character in rest)
    exponent = 0
    for character in rest:
        if character == "." and not fractional:
            fractional = True
        elif character in "eE" and fractional and not exponent:
            exponent = 1
        elif character in "+-" and exponent == 1:
            exponent = 2
        elif character not in digits:
            return False
    return True


class EventWriter:
    """The events of one document, with libmodulemd's emitting helpers."""

    def __init__(self) -> None:
        self.events: list[yaml.Event] = [
            yaml.StreamStartEvent(),
            yaml.DocumentStartEvent(explicit=True),
        ]

    def scalar(self, value: str, style: str | None = None) -> None:
        """A scalar in ``style`` (plain when None), never tagged."""
        self.events.append(
            yaml.ScalarEvent(None, None, (True, True), value, style=style)
        )

    def string(self, value: str) -> None:
        """A string, double-quoted when empty or number-like."""
        self.scalar(value, DOUBLE if looks_like_number(value) else None)

    def start_mapping(self) -> None:
        """Open a block mapping."""
        self.events.append(yaml.MappingStartEvent(None, None, True, flow_style=False))

    def end_mapping(self) -> None:
        """Close the open mapping."""
        self.events.append(yaml.MappingEndEvent())

    def start_sequence(self, *, flow: bool = False) -> None:
        """Open a sequence, block unless ``flow``."""
        self.events.append(yaml.SequenceStartEvent(None, None, True, flow_style=flow))

    def end_sequence(self) -> None:
        """Close the open sequence."""
        self.events.append(yaml.SequenceEndEvent())

    def sequence(
        self, values: Iterable[str], *, flow: bool, quote: bool = True
    ) -> None:
        """A sequence of strings in the given order."""
        self.start_sequence(flow=flow)
        for value in values:
            self.string(value) if quote else self.scalar(value)
        self.end_sequence()

    def string_set(
        self, key: str, values: Iterable[str], *, flow: bool = False
    ) -> None:
        """``key:`` then the values, sorted and once each."""
        self.string(key)
        self.sequence(sorted(set(values)), flow=flow)

    def key_string(self, key: str, value: str | None) -> None:
        """``key: value`` when the value is set."""
        if value is not None:
            self.scalar(key)
            self.string(value)

    def key_true(self, key: str, value: bool) -> None:
        """``key: true`` when the value is true (false is never written)."""
        if value:
            self.scalar(key)
            self.scalar("true")

    def rpm_names(self, key: str, names: tuple[str, ...]) -> None:
        """``key: {rpms: [...]}`` when there are names (api, filter, ...)."""
        if names:
            self.scalar(key)
            self.start_mapping()
            self.string_set("rpms", names)
            self.end_mapping()

    def variant(self, value: Any) -> None:
        """An xmd value: sorted mappings, sequences, booleans, strings."""
        if isinstance(value, bool):
            self.scalar("TRUE" if value else "FALSE")
        elif isinstance(value, Mapping):
            self.start_mapping()
            for key in sorted(value):
                self.string(key)
                self.variant(value[key])
            self.end_mapping()
        elif isinstance(value, list | tuple):
            self.start_sequence()
            for item in value:
                self.variant(item)
            self.end_sequence()
        else:
            self.string(str(value))

    def text(self) -> str:
        """End the document and let libyaml write it."""
        self.events += [yaml.DocumentEndEvent(explicit=True), yaml.StreamEndEvent()]
        return yaml.emit(self.events, Dumper=yaml.CSafeDumper, allow_unicode=True)
