"""libmodulemd's scalar, mandatory-field and per-version rules in load_modulemd."""

from __future__ import annotations

import textwrap

import pytest

from ridad.domain.modulemd import Dependencies
from ridad.errors import Unprocessable
from ridad.modulemd.parse import load_modulemd

STREAM_V2 = "document: modulemd\nversion: 2\n"
STREAM_V1 = "document: modulemd\nversion: 1\n"
PACKAGER_V2 = "document: modulemd-packager\nversion: 2\n"
MINIMAL = "summary: S\ndescription: D\nlicense:\n  module: [MIT]\n"


def _doc(extra: str = "", *, header: str = STREAM_V2, base: str = MINIMAL) -> str:
    """Build a document: header, then ``base`` and ``extra`` under data."""
    body = base + textwrap.dedent(extra)
    return header + "data:\n" + textwrap.indent(body, "  ")


def _errors(text: str) -> list[dict[str, object]]:
    """Load text that must be refused and return its problem list."""
    with pytest.raises(Unprocessable) as raised:
        load_modulemd(text)
    return raised.value.details["errors"]


def _messages(text: str) -> list[str]:
    """Load text that must be refused and return ``path: message`` lines."""
    return [f"{e['path']}: {e['message']}" for e in _errors(text)]


@pytest.mark.parametrize("literal", ["True", "yes", "on", "1", "TRUE", "'True'"])
def test_booleans_other_than_true_and_false_are_rejected(literal: str) -> None:
    """Only the literals true and false are booleans."""
    errors = _errors(_doc(f"static_context: {literal}\n"))
    assert errors[0]["path"] == "data.static_context"
    assert "expected true or false" in str(errors[0]["message"])


def test_quoted_true_is_a_boolean() -> None:
    """libmodulemd reads events, so a quoted "true" is still true."""
    assert load_modulemd(_doc("static_context: 'true'\n")).static_context is True


@pytest.mark.parametrize("literal", ["0x1F", "10.0", "1e3", "1_000", "", "'٣'"])
def test_integers_must_be_whole_base_10_strings(literal: str) -> None:
    """Hex, decimals, exponents, underscores and non-ASCII digits are not integers."""
    assert "is not a base-10 integer" in str(
        _errors(_doc(f"version: {literal}\n"))[0]["message"]
    )


def test_version_overflowing_uint64_is_rejected() -> None:
    """A version of 2**64 is out of range."""
    errors = _errors(_doc("version: 18446744073709551616\n"))
    assert (
        errors[0]["message"]
        == "the integer 18446744073709551616 is out of the uint64 range"
    )


def test_version_at_uint64_max_is_accepted() -> None:
    """A version of 2**64 - 1 fits."""
    assert load_modulemd(_doc("version: 18446744073709551615\n")).version == 2**64 - 1


def test_huge_digit_strings_are_out_of_range_not_a_crash() -> None:
    """Five thousand digits give a range problem, not Python's int() limit error."""
    assert "out of the uint64 range" in str(
        _errors(_doc("version: " + "9" * 5000 + "\n"))[0]["message"]
    )


def test_negative_unsigned_value_is_rejected() -> None:
    """A leading '-' on an unsigned field is 'the integer value is negative'."""
    errors = _errors(_doc("version: -1\n"))
    assert errors == [
        {
            "path": "data.version",
            "line": 8,
            "column": 12,
            "message": "the integer value is negative",
        }
    ]


@pytest.mark.parametrize(
    ("written", "expected"), [("0", None), ("20180816123422", 20180816123422)]
)
def test_version_zero_means_unset(written: str, expected: int | None) -> None:
    """Version 0 (like an absent version) is returned as None."""
    assert load_modulemd(_doc(f"version: {written}\n")).version == expected


def test_single_scalar_is_a_one_element_list() -> None:
    """``module: MIT`` is the list [MIT]."""
    document = load_modulemd(
        _doc(base="summary: S\ndescription: D\nlicense: {module: MIT}\n")
    )
    assert document.module_licenses == ("MIT",)


def test_empty_scalar_is_the_one_element_list_of_the_empty_string() -> None:
    """``arches:`` with no value is the list [""], as libmodulemd reads it."""
    assert load_modulemd(_doc("buildopts:\n  arches:\n")).arches == ("",)


def test_list_of_mappings_where_strings_are_expected_is_rejected() -> None:
    """A mapping inside a string list is a shape problem at its index."""
    assert _messages(_doc("api:\n  rpms: [a, {b: c}]\n")) == [
        "data.api.rpms[1]: expected a string, found a mapping"
    ]


def test_string_where_a_mapping_is_expected_is_rejected() -> None:
    """``references: foo`` is a shape problem."""
    assert _messages(_doc("references: foo\n")) == [
        "data.references: expected a mapping, found a scalar"
    ]


def test_summary_may_be_any_scalar() -> None:
    """``summary: 42`` is the summary "42"."""
    assert (
        load_modulemd(
            _doc(base="summary: 42\ndescription: D\nlicense: {module: [MIT]}\n")
        ).summary
        == "42"
    )


def test_missing_mandatory_fields_are_all_reported() -> None:
    """Summary, description and license.module are each reported when missing."""
    assert _messages(_doc(base="name: foo\n")) == [
        "data.summary: the module summary is missing",
        "data.description: the module description is missing",
        "data.license.module: the module license is missing",
    ]


def test_license_with_only_content_is_missing_the_module_license() -> None:
    """A license mapping with only ``content`` lacks ``module``."""
    base = "summary: S\ndescription: D\nlicense:\n  content: [MIT]\n"
    assert _messages(_doc(base=base)) == [
        "data.license.module: the module license is missing"
    ]


def test_unknown_keys_are_rejected_at_every_level() -> None:
    """Strict mode: unknown keys in data, license, profiles and references fail."""
    extra = """\
    colour: blue
    references: {wiki: x}
    profiles: {p: {rpms: [a], extra: 1}}
    """
    paths = [error["path"] for error in _errors(_doc(extra))]
    assert paths == ["data.colour", "data.references.wiki", "data.profiles.p.extra"]


def test_every_problem_is_collected() -> None:
    """Several independent problems are all listed, in text order."""
    errors = _errors(_doc("version: x\nstatic_context: yes\narch: [a]\n"))
    assert [e["path"] for e in errors] == [
        "data.version",
        "data.static_context",
        "data.arch",
    ]


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ("'-'", "may only contain [A-Za-z0-9_]"),
        ("''", "cannot be empty"),
        ("abcdefghij1234", "longer than 13 characters"),
    ],
)
def test_static_context_format_is_checked(context: str, message: str) -> None:
    """With static_context true, the context must be 1-13 of [A-Za-z0-9_]."""
    errors = _errors(_doc(f"static_context: true\ncontext: {context}\n"))
    assert errors[0]["path"] == "data.context"
    assert message in str(errors[0]["message"])


def test_dynamic_context_is_not_checked() -> None:
    """Without static_context any context string is accepted."""
    assert load_modulemd(_doc("context: 'a-b c/d!'\n")).context == "a-b c/d!"


def test_static_context_without_context_is_accepted() -> None:
    """static_context true with no context passes (probe)."""
    assert load_modulemd(_doc("static_context: true\n")).static_context is True


def test_packager_v2_refuses_build_system_fields() -> None:
    """Packager v2 rejects name, xmd, buildopts and license.content."""
    base = "summary: S\ndescription: D\nlicense: {module: [MIT], content: [GPL]}\n"
    extra = "name: foo\nxmd: {}\nbuildopts: {}\n"
    assert _messages(_doc(extra, header=PACKAGER_V2, base=base)) == [
        "data.license.content: license.content is not allowed in a modulemd-packager v2 document",
        "data.name: name is not allowed in a modulemd-packager v2 document",
        "data.xmd: xmd is not allowed in a modulemd-packager v2 document",
        "data.buildopts: buildopts is not allowed in a modulemd-packager v2 document",
    ]


def test_packager_v2_document_is_returned() -> None:
    """A valid packager v2 document loads with its type and no name."""
    extra = "static_context: true\ndemodularized: {rpms: [old]}\n"
    document = load_modulemd(_doc(extra, header=PACKAGER_V2))
    assert (document.document, document.mdversion, document.name) == (
        "modulemd-packager",
        2,
        None,
    )


def test_v1_dependencies_become_one_item_of_one_tuples() -> None:
    """v1's single mapping becomes one Dependencies with 1-tuples."""
    extra = "eol: 2077-10-23\ndependencies:\n  buildrequires: {platform: f28, extra: 1.0}\n  requires: {platform: f28}\n"
    document = load_modulemd(_doc(extra, header=STREAM_V1))
    assert document.dependencies == (
        Dependencies(
            buildrequires={"platform": ("f28",), "extra": ("1.0",)},
            requires={"platform": ("f28",)},
        ),
    )


def test_v1_refuses_v2_only_keys() -> None:
    """v1 has no static_context, demodularized or list-shaped dependencies."""
    extra = "static_context: false\ndemodularized: {rpms: [a]}\ndependencies: []\n"
    paths = [error["path"] for error in _errors(_doc(extra, header=STREAM_V1))]
    assert paths == ["data.static_context", "data.demodularized", "data.dependencies"]


def test_v2_refuses_v1_layout() -> None:
    """v2 rejects ``eol`` and a mapping-shaped ``dependencies``."""
    extra = "eol: 2077-10-23\ndependencies: {buildrequires: {platform: [f28]}}\n"
    assert _messages(_doc(extra)) == [
        "data.eol: eol is a modulemd v1 key; v2 uses servicelevels",
        "data.dependencies: expected a sequence, found a mapping",
    ]


def test_build_options_and_xmd_are_returned() -> None:
    """Macros, whitelist, arches and xmd (TRUE as a boolean) are filled in."""
    extra = """\
    buildopts:
      rpms:
        macros: |
          %demo 1
        whitelist: [a, b]
      arches: [x86_64]
    xmd: {mbs: {mse: TRUE, version: 3, flag: true}}
    """
    document = load_modulemd(_doc(extra))
    assert document.rpm_macros == "%demo 1\n"
    assert document.rpm_whitelist == ("a", "b")
    assert document.arches == ("x86_64",)
    assert document.xmd == {"mbs": {"mse": True, "version": "3", "flag": "true"}}


def test_bad_buildopts_rpms_key_gets_a_usable_message() -> None:
    """An unknown key in buildopts.rpms names itself (libmodulemd has no message)."""
    assert _messages(_doc("buildopts: {rpms: {macro: x}}\n")) == [
        "data.buildopts.rpms.macro: unknown key 'macro' (expected one of: macros, whitelist)"
    ]


def test_bad_api_entry_gets_its_own_message() -> None:
    """A mapping in api.rpms is reported where it is, not as a follow-on error."""
    assert _messages(_doc("api:\n  rpms: {a: b}\n")) == [
        "data.api.rpms: expected a list of strings, found a mapping"
    ]
