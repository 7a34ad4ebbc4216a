"""``buildrequire_overrides`` and ``require_overrides``: MBS's checks and effect."""

from __future__ import annotations

from typing import Any

import pytest

from ridad.domain.overrides import (
    BUILDREQUIRE_OVERRIDES,
    REQUIRE_OVERRIDES,
    apply_overrides,
    parse_overrides,
)
from ridad.errors import InvalidRequest
from tests.unit.domain.mse_fixtures import deps


@pytest.mark.parametrize("value", [None, {}, [], ""])
def test_a_falsy_value_is_no_override(value: Any) -> None:
    """MBS skips the check when the parameter is falsy."""
    assert parse_overrides(BUILDREQUIRE_OVERRIDES, value) == {}


@pytest.mark.parametrize(
    "value",
    [["platform"], {"platform": "f40"}, {"platform": [40]}, "f40", {"p": None}],
)
def test_the_shape_is_checked(value: Any) -> None:
    """An object of module names to arrays of strings, else MBS's 400."""
    with pytest.raises(InvalidRequest) as raised:
        parse_overrides(REQUIRE_OVERRIDES, value)
    assert raised.value.message == (
        'The "require_overrides" parameter must be an object with the keys as'
        " module names and the values as arrays of streams"
    )


def test_overrides_replace_each_entry_s_list_on_their_side() -> None:
    """Every entry that names the module gets the override; the other side
    keeps its streams."""
    entries = [
        deps({"platform": ["f39"], "gtk": ["3"]}, {"platform": ["f39"]}),
        deps({"platform": ["f38"]}, {"gtk": ["3"]}),
    ]
    result = apply_overrides(
        entries,
        parse_overrides(BUILDREQUIRE_OVERRIDES, {"platform": ["f40"]}),
        parse_overrides(REQUIRE_OVERRIDES, {"gtk": []}),
    )
    assert result == (
        deps({"platform": ["f40"], "gtk": ["3"]}, {"platform": ["f39"]}),
        deps({"platform": ["f40"]}, {"gtk": []}),
    )


def test_inapplicable_overrides_are_named_sorted() -> None:
    """MBS: "The buildrequire overrides for the following modules aren't
    applicable: a, b"; a require-only name does not count for buildrequires."""
    entries = [deps({"platform": ["f39"]}, {"gtk": ["3"]})]
    with pytest.raises(InvalidRequest) as raised:
        apply_overrides(entries, {"zeta": ("1",), "gtk": ("3",)}, {})
    assert raised.value.message == (
        "The buildrequire overrides for the following modules aren't applicable:"
        " gtk, zeta"
    )
    with pytest.raises(InvalidRequest, match="The require overrides .* platform$"):
        apply_overrides(entries, {}, {"platform": ("f40",)})
