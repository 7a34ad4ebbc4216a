"""The YAML reader and the document envelope of ridad.modulemd."""

from __future__ import annotations

import pytest

from ridad.errors import Unprocessable
from ridad.modulemd.parse import load_modulemd
from ridad.modulemd.yamltree import (
    MAX_DEPTH,
    YamlMapping,
    YamlScalar,
    YamlSequence,
    read_yaml_stream,
)

VALID = """\
document: modulemd
version: 2
data:
  name: foo
  stream: 1.10
  version: 2
  summary: S
  description: D
  license:
    module: [MIT]
"""


def _refusal(text: str | bytes) -> Unprocessable:
    """Load text that must be refused and return the error."""
    with pytest.raises(Unprocessable) as raised:
        load_modulemd(text)
    return raised.value


def test_scalars_stay_the_strings_the_yaml_held() -> None:
    """Numbers, booleans and nulls are read as their exact text."""
    stream = read_yaml_stream("a: 1.10\nb: 010\nc: yes\nd: ~\ne:\n")
    root = stream.documents[0].root
    assert isinstance(root, YamlMapping)
    values = {key.value: value for key, value in root.entries}
    assert {k: v.value for k, v in values.items() if isinstance(v, YamlScalar)} == {
        "a": "1.10",
        "b": "010",
        "c": "yes",
        "d": "~",
        "e": "",
    }


def test_stream_1_10_stays_the_string_1_10() -> None:
    """A stream written as 1.10 is returned as "1.10", not the float 1.1."""
    document = load_modulemd(VALID)
    assert document.stream == "1.10"
    assert document.version == 2


def test_nodes_keep_one_based_line_and_column() -> None:
    """Every node records the 1-based line and column where it starts."""
    root = read_yaml_stream("a:\n  - x\n  - y\n").documents[0].root
    assert isinstance(root, YamlMapping)
    key, value = root.entries[0]
    assert (key.location.line, key.location.column) == (1, 1)
    assert isinstance(value, YamlSequence)
    assert (value.items[1].location.line, value.items[1].location.column) == (3, 5)


def test_duplicate_keys_are_reported_with_both_lines() -> None:
    """A repeated key anywhere is a problem naming both occurrences."""
    error = _refusal(VALID + "  components:\n    rpms:\n      a: {}\n      a: {}\n")
    assert error.details["errors"] == [
        {
            "path": "data.components.rpms.a",
            "line": 14,
            "column": 7,
            "message": "duplicate key 'a' (first at line 13 col 7)",
        }
    ]
    assert "[line 14 col 7]" in error.message


def test_duplicate_root_key_is_refused() -> None:
    """A second ``document`` key at the root is a problem."""
    error = _refusal(VALID + "document: modulemd\n")
    assert error.details["errors"][0]["path"] == "document"
    assert "duplicate key" in error.message


def test_aliases_are_refused_so_a_bomb_cannot_expand() -> None:
    """A billion-laughs document is refused at its first alias."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 10) + "]" for n in range(1, 9)
    ]
    error = _refusal("\n".join(lines) + "\n")
    assert "aliases" in error.message
    assert error.details["errors"][0]["line"] == 2


def test_python_tags_never_construct_anything() -> None:
    """A !!python tag is inert: its node is read as plain YAML."""
    text = VALID + "  xmd: !!python/object/apply:os.system ['false']\n"
    document = load_modulemd(text)
    assert document.xmd == ["false"]


def test_deep_nesting_is_refused() -> None:
    """Collections nested past MAX_DEPTH are refused, not a RecursionError."""
    depth = MAX_DEPTH + 10
    error = _refusal("[" * depth + "]" * depth)
    assert "nested deeper" in error.message


def test_yaml_syntax_error_names_the_line() -> None:
    """Text that is not YAML is refused with the location of the error."""
    error = _refusal("document: modulemd\nversion: 2\ndata: {\n")
    assert error.message.startswith("the file is not valid YAML")
    assert error.details["errors"][0]["line"] == 4


def test_non_utf8_bytes_are_refused() -> None:
    """Bytes that are not UTF-8 are refused, naming the offset."""
    error = _refusal(b"document: modulemd\nsummary: \xff\n")
    assert "not UTF-8" in error.message
    assert error.details["errors"][0]["line"] == 2


def test_utf8_bytes_are_decoded_into_text() -> None:
    """UTF-8 bytes are accepted and ``text`` is the decoded input."""
    data = VALID.replace("summary: S", "summary: caf\u00e9").encode("utf-8")
    document = load_modulemd(data)
    assert document.summary == "caf\u00e9"
    assert document.text == data.decode("utf-8")


def test_control_characters_are_refused() -> None:
    """A NUL character is refused as not YAML."""
    assert "U+0000" in _refusal("a: \x00\n").message


def test_several_documents_are_refused_with_their_count() -> None:
    """A stream of documents is refused, naming how many and the first one's type."""
    error = _refusal(
        VALID + "---\n" + VALID + "...\n---\ndocument: modulemd-defaults\n"
    )
    assert error.message.startswith("the file holds 3 YAML documents")
    assert "the first is modulemd version 2" in error.message
    assert error.message.endswith("submit exactly one [line 12 col 1]")


def test_second_document_is_refused_without_being_parsed() -> None:
    """Reading stops where a second document starts: its broken YAML is never seen."""
    error = _refusal(VALID + "---\nsummary: [unclosed\n" + "x: {\n" * 10000)
    assert error.message.startswith("the file holds 2 YAML documents")
    assert "not valid YAML" not in error.message
    assert error.details["errors"][0]["line"] == 12


def test_explicit_first_document_is_counted_once() -> None:
    """A first document opened with ``---`` is not counted twice."""
    error = _refusal("---\n" + VALID + "---\n" + VALID)
    assert error.message.startswith("the file holds 2 YAML documents")


def test_garbage_after_the_first_document_is_a_yaml_error() -> None:
    """Text after ``...`` that starts no document is refused as not YAML."""
    error = _refusal(VALID + "...\ngarbage\n")
    assert error.message.startswith(
        "the file is not valid YAML after its first document (modulemd version 2)"
    )


def test_empty_text_is_refused() -> None:
    """Empty input holds no document."""
    assert "no YAML document" in _refusal("").message


def test_root_that_is_not_a_mapping_is_refused() -> None:
    """A list at the root is refused."""
    assert "not a mapping" in _refusal("- a\n- b\n").message


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "document: modulemd-packager\nversion: 3\n",
            "modulemd-packager version 3 is not supported",
        ),
        (
            "document: modulemd-packager\nversion: 1\n",
            "modulemd-packager version 1 is not supported",
        ),
        ("document: modulemd\nversion: 3\n", "modulemd version 3 is not supported"),
        (
            "document: modulemd-defaults\nversion: 1\n",
            "modulemd-defaults version 1 is not supported",
        ),
        (
            "document: modulemd-obsoletes\nversion: 1\n",
            "modulemd-obsoletes version 1 is not supported",
        ),
        (
            "document: modulemd-translations\nversion: 1\n",
            "modulemd-translations version 1",
        ),
        ("document: foo\nversion: 1\n", "unknown document type 'foo'"),
        ("version: 2\n", "no 'document' key"),
        ("document: modulemd\n", "has no 'version' key"),
        ("document: modulemd\nversion: two\n", "metadata version is invalid"),
    ],
)
def test_unsupported_envelopes_are_refused_by_name(header: str, expected: str) -> None:
    """Other types, versions and broken envelopes are refused naming what was found."""
    error = _refusal(header + "data:\n  summary: S\n")
    assert expected in error.message
    assert error.details["errors"][0]["line"] >= 1


def test_modulemd_stream_alias_is_accepted() -> None:
    """``modulemd-stream`` is an alias of ``modulemd``."""
    document = load_modulemd(
        VALID.replace("document: modulemd", "document: modulemd-stream")
    )
    assert document.document == "modulemd"


def test_quoted_metadata_version_is_accepted() -> None:
    """``version: "2"`` is the same as ``version: 2``."""
    document = load_modulemd(VALID.replace("version: 2\ndata", 'version: "2"\ndata'))
    assert document.mdversion == 2


def test_missing_data_is_refused() -> None:
    """A document without a data section is refused."""
    assert "no 'data' section" in _refusal("document: modulemd\nversion: 2\n").message


def test_data_that_is_not_a_mapping_is_refused() -> None:
    """``data: foobar`` is refused with its location."""
    error = _refusal("document: modulemd\nversion: 2\ndata: foobar\n")
    assert error.message == "the data section is a scalar, not a mapping [line 3 col 7]"


def test_unknown_root_key_after_data_is_refused() -> None:
    """An unknown top-level key after data is an error, unlike libmodulemd."""
    error = _refusal(VALID + "extra: 1\n")
    assert error.details["errors"] == [
        {
            "path": "extra",
            "line": 11,
            "column": 1,
            "message": "unknown top-level key 'extra' (expected only: document,"
            " version, data)",
        }
    ]


def test_unknown_root_key_before_data_is_refused() -> None:
    """An unknown top-level key before data is an error, as in libmodulemd."""
    error = _refusal(VALID.replace("data:", "extra: 1\ndata:"))
    assert error.details["errors"][0]["path"] == "extra"
