"""load_modulemd gives libmodulemd's verdict on every file of the corpus.

The corpus is the repository's test data (``tests/data/modulemd-corpus``);
its README lists each file with libmodulemd's verdict. Single stream v1/v2 and packager v2 documents must get
the same verdict; everything else must be refused naming what it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from ridad.domain.modulemd import ModuleStreamDocument
from ridad.errors import Unprocessable
from ridad.modulemd.parse import load_modulemd
from tests.data import MODULEMD_CORPUS

EXPECTED_FILES = 59
EXPECTED_VALID = 42
EXPECTED_INVALID = 17
EXPECTED_IN_SCOPE = 41
EXPECTED_IN_SCOPE_INVALID = 9

_IN_SCOPE_KINDS = {"modulemd/v1", "modulemd/v2", "modulemd-packager/v2"}
_ENTRY = re.compile(
    r"^(?P<name>\S+\.yaml)\n(?:    .*\n)*?"
    r"    verdict: (?P<verdict>valid|invalid|error) \((?P<kind>[^)]*)\)",
    re.MULTILINE,
)
_MULTI = re.compile(r"multi\[(?P<count>[0-9]+)\]:")


@dataclass(frozen=True)
class CorpusEntry:
    """One corpus file and libmodulemd's verdict on it."""

    name: str
    verdict: str
    kind: str

    @property
    def in_scope(self) -> bool:
        """Whether ridad must agree with libmodulemd on this file."""
        return self.kind in _IN_SCOPE_KINDS

    def read(self) -> bytes:
        """Read the file's bytes."""
        return (CORPUS / self.name).read_bytes()


CORPUS = MODULEMD_CORPUS


def _entries() -> list[CorpusEntry]:
    """Parse the README's file list (empty when the corpus is missing)."""
    readme = CORPUS / "README.txt"
    if not readme.is_file():
        return []
    text = readme.read_text(encoding="utf-8")
    return [
        CorpusEntry(match["name"], match["verdict"], match["kind"])
        for match in _ENTRY.finditer(text)
    ]


ENTRIES = _entries()
IN_SCOPE = [entry for entry in ENTRIES if entry.in_scope]
OUT_OF_SCOPE = [entry for entry in ENTRIES if not entry.in_scope]


def _ids(entries: list[CorpusEntry]) -> list[str]:
    """Use each file name as its test id."""
    return [entry.name for entry in entries]


def test_corpus_has_the_expected_files_and_verdicts() -> None:
    """The README lists every file on disk with the advertised verdict counts."""
    on_disk = {str(path.relative_to(CORPUS)) for path in CORPUS.rglob("*.yaml")}
    listed = [entry.name for entry in ENTRIES]
    assert len(listed) == EXPECTED_FILES
    assert set(listed) == on_disk
    verdicts = [entry.verdict for entry in ENTRIES]
    assert verdicts.count("valid") == EXPECTED_VALID
    assert verdicts.count("invalid") == EXPECTED_INVALID
    assert len(IN_SCOPE) == EXPECTED_IN_SCOPE
    in_scope_invalid = [e for e in IN_SCOPE if e.verdict == "invalid"]
    assert len(in_scope_invalid) == EXPECTED_IN_SCOPE_INVALID
    assert len(IN_SCOPE) + len(OUT_OF_SCOPE) == EXPECTED_FILES


@pytest.mark.parametrize("entry", IN_SCOPE, ids=_ids(IN_SCOPE))
def test_single_stream_document_gets_libmodulemd_verdict(entry: CorpusEntry) -> None:
    """A single stream v1/v2 or packager v2 file is accepted iff libmodulemd accepts it."""
    data = entry.read()
    if entry.verdict == "valid":
        document = load_modulemd(data)
        assert isinstance(document, ModuleStreamDocument)
        kind, version = entry.kind.split("/v")
        assert (document.document, document.mdversion) == (kind, int(version))
        assert document.text == data.decode("utf-8")
        return
    with pytest.raises(Unprocessable) as raised:
        load_modulemd(data)
    errors = raised.value.details["errors"]
    assert errors and all(error["line"] >= 1 for error in errors)


def _named_kind(entry: CorpusEntry) -> str:
    """What the refusal message must mention for an out-of-scope file."""
    multi = _MULTI.match(entry.kind)
    if multi:
        return f"holds {multi['count']} YAML documents"
    kind, version = entry.kind.split("/v")
    return f"{kind} version {version}"


@pytest.mark.parametrize("entry", OUT_OF_SCOPE, ids=_ids(OUT_OF_SCOPE))
def test_other_document_kinds_are_refused_naming_them(entry: CorpusEntry) -> None:
    """Defaults, obsoletes, translations, packager v3 and multi-document files are refused by name."""
    with pytest.raises(Unprocessable) as raised:
        load_modulemd(entry.read())
    assert _named_kind(entry) in raised.value.message
