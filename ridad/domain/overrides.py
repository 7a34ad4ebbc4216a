"""``buildrequire_overrides`` and ``require_overrides``: MBS's submission keys.

A client may replace the streams a modulemd names without editing it
(``{"platform": ["f40"]}``). The override replaces the whole stream list of
that module in every ``dependencies`` entry that names it, on its own side
only; ``[]`` and ``-stream`` are allowed as in the document. The checks and
their 400 messages are MBS's, so clients written for MBS read the same
answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ridad.domain.modulemd import Dependencies
from ridad.errors import InvalidRequest

BUILDREQUIRE_OVERRIDES = "buildrequire_overrides"
REQUIRE_OVERRIDES = "require_overrides"

#: Module name → the stream list that replaces the document's.
Overrides = Mapping[str, tuple[str, ...]]


def parse_overrides(key: str, value: Any) -> dict[str, tuple[str, ...]]:
    """Read one override parameter of a submission body.

    A missing or empty value (``None``, ``{}``) means no override, as in MBS.

    :raises InvalidRequest: not an object of module names to string arrays.
    """
    if not value:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(streams, list) and all(isinstance(s, str) for s in streams)
        for streams in value.values()
    ):
        raise InvalidRequest(
            f'The "{key}" parameter must be an object with the keys as module'
            " names and the values as arrays of streams"
        )
    return {str(name): tuple(streams) for name, streams in value.items()}


def apply_overrides(
    entries: Sequence[Dependencies],
    buildrequire_overrides: Overrides,
    require_overrides: Overrides,
) -> tuple[Dependencies, ...]:
    """``entries`` with the overridden stream lists in place.

    :raises InvalidRequest: an override names a module that no entry names
        on its side (MBS: "... overrides for the following modules aren't
        applicable: a, b", sorted).
    """
    _refuse_inapplicable(
        "buildrequire",
        buildrequire_overrides,
        {n for e in entries for n in e.buildrequires},
    )
    _refuse_inapplicable(
        "require", require_overrides, {n for e in entries for n in e.requires}
    )
    return tuple(
        Dependencies(
            buildrequires=_replaced(entry.buildrequires, buildrequire_overrides),
            requires=_replaced(entry.requires, require_overrides),
        )
        for entry in entries
    )


def _replaced(
    streams: Mapping[str, tuple[str, ...]], overrides: Overrides
) -> dict[str, tuple[str, ...]]:
    return {name: overrides.get(name, listed) for name, listed in streams.items()}


def _refuse_inapplicable(side: str, overrides: Overrides, named: set[str]) -> None:
    unused = sorted(set(overrides) - named)
    if unused:
        raise InvalidRequest(
            f"The {side} overrides for the following modules aren't applicable:"
            f" {', '.join(unused)}"
        )
