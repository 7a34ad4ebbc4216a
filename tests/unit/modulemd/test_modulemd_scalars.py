"""The corrected scalar rules: empty scalars as lists, integers as strtoll reads them, tabs."""

from __future__ import annotations

import textwrap

import pytest

from ridad.errors import Unprocessable
from ridad.modulemd.parse import load_modulemd

HEADER = "document: modulemd\nversion: 2\ndata:\n"
MINIMAL = "summary: S\ndescription: D\nlicense:\n  module: [MIT]\n"


def _doc(extra: str = "", *, base: str = MINIMAL) -> str:
    """Build a stream v2 document with ``base`` and ``extra`` under data."""
    return HEADER + textwrap.indent(base + textwrap.dedent(extra), "  ")


def _messages(text: str) -> list[str]:
    """Load text that must be refused and return its problem messages."""
    with pytest.raises(Unprocessable) as raised:
        load_modulemd(text)
    return [error["message"] for error in raised.value.details["errors"]]


def test_empty_module_license_is_the_license_empty_string() -> None:
    """``license: {module: }`` is valid: the licenses are [""], not missing."""
    document = load_modulemd(
        _doc(base="summary: S\ndescription: D\nlicense:\n  module:\n")
    )
    assert document.module_licenses == ("",)


def test_empty_buildafter_names_a_missing_component() -> None:
    """``buildafter:`` is [""], a component key that does not exist."""
    extra = "components:\n  rpms:\n    a:\n      rationale: r\n      buildafter:\n"
    assert _messages(_doc(extra)) == [
        "buildafter '' is not a key of data.components.rpms"
    ]


def test_empty_artifact_rpms_is_an_invalid_nevra() -> None:
    """``artifacts: {rpms: }`` holds the artifact '', which is no N-E:V-R.A."""
    messages = _messages(_doc("artifacts:\n  rpms:\n"))
    assert messages == ["artifact '' is not in N-E:V-R.A form (the epoch is required)"]


def test_empty_component_arches_are_not_within_module_arches() -> None:
    """An empty component ``arches:`` is the arch '', outside buildopts.arches."""
    extra = (
        "buildopts:\n  arches: [x86_64]\n"
        "components:\n  rpms:\n    a:\n      rationale: r\n      arches:\n"
    )
    assert _messages(_doc(extra)) == [
        "arch '' is not in data.buildopts.arches (x86_64)"
    ]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("' 5'", 5),
        ('"\\t\\n\\v\\f\\r5"', 5),
        ("+5", 5),
        ("0" * 48 + "42", 42),
        ("'  0000000000000000000000018446744073709551615'", 2**64 - 1),
    ],
)
def test_integers_skip_leading_whitespace_and_zeros(
    written: str, expected: int
) -> None:
    """Leading whitespace, a plus sign and any number of leading zeros are accepted."""
    assert load_modulemd(_doc(f"version: {written}\n")).version == expected


@pytest.mark.parametrize("written", ["'5 '", "' '", "'- 5'", "'5\\t'"])
def test_integers_refuse_trailing_or_only_whitespace(written: str) -> None:
    """Whitespace after the digits, or with no digits, is not an integer."""
    assert "is not a base-10 integer" in _messages(_doc(f"version: {written}\n"))[0]


def test_negative_after_whitespace_is_still_negative() -> None:
    """``' -5'`` on an unsigned field is refused (libmodulemd wraps it round 2**64)."""
    assert _messages(_doc("version: ' -5'\n")) == ["the integer value is negative"]


def test_signed_buildorder_takes_leading_whitespace_and_zeros() -> None:
    """A buildorder of ``' -007'`` is -7."""
    extra = (
        "components:\n  rpms:\n    a:\n      rationale: r\n      buildorder: ' -007'\n"
    )
    assert load_modulemd(_doc(extra)).rpm_components[0].buildorder == -7


def test_metadata_version_takes_leading_whitespace() -> None:
    """``version: ' 2'`` at the root is metadata version 2."""
    text = "document: modulemd\nversion: ' 2'\ndata:\n" + textwrap.indent(MINIMAL, "  ")
    assert load_modulemd(text).mdversion == 2


@pytest.mark.parametrize("line", ["summary:\tS", "summary: a\tb", "summary:\t \tS"])
def test_tabs_are_inline_whitespace(line: str) -> None:
    """A tab after the colon or inside a plain scalar is accepted, as libyaml does."""
    text = _doc(base=MINIMAL.replace("summary: S", line))
    assert load_modulemd(text).summary == line.split(":", 1)[1].strip(" \t")
