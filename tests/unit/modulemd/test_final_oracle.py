"""libmodulemd reads the final modulemd back, and writes it again as ridad wrote it.

libmodulemd itself (Debian's gir1.2-modulemd-2.0, through the system
``/usr/bin/python3`` and ``tests/modulemd_readback.py`` in one child
process) reads every document ``final_modulemd`` writes for three builds:
the demo module, one whose source uses every section of stream v2, and a v1
source. It must find the same identity, artifacts, licenses and xmd, and
writing what it read must give ridad's text: the same events, key order and
styles, except that libmodulemd 2.14 leaves plain the number-like strings
2.15 double-quotes (with 2.15 or later the bytes must be equal).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from ridad.modulemd.events import looks_like_number
from ridad.modulemd.final import final_modulemd
from ridad.modulemd.parse import load_modulemd
from tests.helpers import missing
from tests.unit.modulemd.final_fixtures import (
    ARCHES,
    BUILD,
    COMPONENTS,
    METADATA_ONLY,
    RICH,
    RPMS,
    V1,
)

SYSTEM_PYTHON = "/usr/bin/python3"
ORACLE = Path(__file__).resolve().parents[2] / "modulemd_readback.py"
PACKAGES = "apt-get install -y gir1.2-modulemd-2.0 python3-gi"


@dataclass(frozen=True)
class Written:
    """One document ridad wrote, what it should hold, and libmodulemd's reading."""

    label: str
    text: str
    arch: str | None
    artifacts: list[str]
    reading: dict[str, Any]


def _require_libmodulemd() -> None:
    """Skip (fail under CI) when the system Python has no libmodulemd."""
    if Path(SYSTEM_PYTHON).exists():
        probe = subprocess.run(
            [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('Modulemd', '2.0')"],
            capture_output=True,
            timeout=60,
        )
        if probe.returncode == 0:
            return
    missing(f"libmodulemd is not available to {SYSTEM_PYTHON} ({PACKAGES})")


def _documents() -> list[tuple[str, str, str | None, list[str]]]:
    """Every document of the three builds: label, text, arch, artifacts."""
    documents = []
    for label, source in (("demo", BUILD.modulemd), ("rich", RICH), ("v1", V1)):
        result = final_modulemd(
            build=replace(BUILD, modulemd=source),
            components=COMPONENTS,
            rpms=RPMS,
            arches=ARCHES,
        )
        documents.append((label, result.text, None, list(result.artifacts)))
        for arch, text in sorted(result.per_arch.items()):
            artifacts = yaml.load(text, Loader=yaml.CSafeLoader)["data"]["artifacts"]
            documents.append((f"{label}.{arch}", text, arch, artifacts["rpms"]))
    return documents


def _read_back(texts: list[str]) -> list[dict[str, Any]]:
    """libmodulemd's reading of each text, from one oracle process."""
    done = subprocess.run(
        [SYSTEM_PYTHON, "-W", "ignore", str(ORACLE)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"the oracle failed: {done.stderr[-2000:]}"
    readings = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(readings) == len(texts)
    return readings


@pytest.fixture(scope="module")
def written() -> list[Written]:
    """libmodulemd's reading of every document, from one oracle process."""
    _require_libmodulemd()
    documents = _documents()
    readings = _read_back([text for _, text, _, _ in documents])
    return [
        Written(label, text, arch, artifacts, reading)
        for (label, text, arch, artifacts), reading in zip(
            documents, readings, strict=True
        )
    ]


def test_libmodulemd_reads_what_ridad_wrote(written: list[Written]) -> None:
    """Identity, arch, artifacts, licenses, filters and xmd as ridad wrote and reads them."""
    assert len(written) == 12
    for document in written:
        reading = document.reading
        assert reading["valid"], (document.label, reading.get("message"))
        ours = load_modulemd(document.text)
        data = yaml.load(document.text, Loader=yaml.CSafeLoader)["data"]
        assert (reading["name"], reading["stream"]) == (BUILD.name, BUILD.stream)
        assert (reading["version"], reading["context"]) == (
            BUILD.version,
            BUILD.context,
        )
        if document.arch is not None:
            assert reading["arch"] == document.arch, document.label
        assert sorted(reading["artifacts"]) == sorted(document.artifacts)
        assert document.artifacts, document.label
        license = data["license"]
        assert sorted(reading["module_licenses"]) == license["module"]
        assert sorted(reading["content_licenses"]) == license.get("content", [])
        filters = data.get("filter", {}).get("rpms", [])
        assert sorted(reading["rpm_filters"]) == filters
        assert reading["xmd"] == ours.xmd, document.label


def test_libmodulemd_sees_the_build_systems_xmd(written: list[Written]) -> None:
    """xmd.mbs reaches libmodulemd with its booleans and strings; per-arch has none."""
    for document in written:
        mbs = document.reading["xmd"].get("mbs")
        if document.arch is not None:
            assert mbs is None, document.label
            continue
        assert mbs["mse"] is True
        assert mbs["commit"] == BUILD.scm_commit
        assert mbs["buildrequires"]["tools"]["version"] == "20240101000000"
        assert set(mbs["rpms"]) >= {"foo", "bar"}


def _events(text: str) -> list[Any]:
    """The YAML events of a text."""
    return list(yaml.parse(text, Loader=yaml.CSafeLoader))


def _difference(ours: str, theirs: str) -> str | None:
    """Where libmodulemd's text departs from ours beyond 2.14's quoting, if it does."""
    mine, other = _events(ours), _events(theirs)
    if len(mine) != len(other):
        return f"{len(mine)} events against libmodulemd's {len(other)}"
    for index, (a, b) in enumerate(zip(mine, other, strict=True)):
        if type(a) is not type(b):
            return f"event {index}: {a} against {b}"
        if isinstance(a, yaml.ScalarEvent):
            quoted_by_2_15 = (
                a.style == '"' and not b.style and looks_like_number(a.value)
            )
            if a.value != b.value or (a.style != b.style and not quoted_by_2_15):
                return f"event {index}: {a} against {b}"
        if isinstance(a, yaml.CollectionStartEvent) and a.flow_style != b.flow_style:
            return f"event {index}: {a} against {b}"
    return None


def test_libmodulemd_writes_each_document_as_ridad_did(written: list[Written]) -> None:
    """Written again by libmodulemd, each document has ridad's events, order and styles."""
    for document in written:
        theirs = document.reading["written"]
        assert _difference(document.text, theirs) is None, document.label
        version = tuple(int(p) for p in document.reading["libmodulemd"].split("."))
        if version >= (2, 15):
            assert theirs == document.text, document.label
        else:
            numbers = [
                e.value
                for e in _events(document.text)
                if isinstance(e, yaml.ScalarEvent) and e.style == '"'
            ]
            assert numbers, document.label


def test_libmodulemd_reads_a_metadata_only_module() -> None:
    """A module without components: libmodulemd finds every document valid,
    with no artifacts or content licenses, and writes it as ridad did."""
    _require_libmodulemd()
    result = final_modulemd(
        build=replace(BUILD, modulemd=METADATA_ONLY),
        components=(),
        rpms=(),
        arches=ARCHES,
    )
    texts = [result.text, *(text for _, text in sorted(result.per_arch.items()))]
    for text, reading in zip(texts, _read_back(texts), strict=True):
        assert reading["valid"], reading.get("message")
        assert (reading["artifacts"], reading["content_licenses"]) == ([], [])
        assert reading["module_licenses"] == ["MIT"]
        assert _difference(text, reading["written"]) is None
    assert len(texts) == 1 + len(ARCHES)
