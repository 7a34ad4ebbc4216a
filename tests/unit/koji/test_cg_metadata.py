"""The import's metadata against what the real hub accepted (exchange 166):
fed the recorded module, its uploaded documents and log and its RPMs, ridad
makes the same ``build`` and ``output`` sections and uploads the same bytes."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from ridad.domain.module_import import module_koji_nvr
from ridad.errors import KojiError
from ridad.koji.cg_metadata import (
    INLINE_METADATA_BYTES,
    METADATA_FILE,
    ImportSource,
    KojiRpm,
    ModuleContent,
    import_metadata,
    metadata_argument,
)
from ridad.modulemd.final import BuiltRpm
from tests.unit.koji.cg_recorded import BUILD, DOCUMENTS, LOG, answer, request, uploaded

LICENSES = {5: "MIT", 6: "MIT", 7: "GPL-2.0-or-later", 8: "GPL-2.0-or-later", 9: "MIT"}


def _rpms() -> tuple[KojiRpm, ...]:
    """The module's RPMs as Koji listed them (125, 126)."""
    found = []
    for info in answer(125) + answer(126):
        built = BuiltRpm(
            info["name"],
            info["epoch"],
            info["version"],
            info["release"],
            info["arch"],
            LICENSES[info["id"]],
            info["name"].removesuffix("-devel"),
        )
        found.append(KojiRpm(built, info["id"], info["payloadhash"]))
    return tuple(found)


def _source(**changes: Any) -> ImportSource:
    source = ImportSource(
        build=BUILD,
        nvr=module_koji_nvr(BUILD),
        build_id=6,
        documents=DOCUMENTS,
        log=LOG,
        content=ModuleContent(rpms=_rpms(), arches=("x86_64",), owner_known=True),
        generator="module-build-service",
        generator_version="0.1.0",
        host={"os": "Fedora 40", "arch": "x86_64"},
        end_time=1796283851,
    )
    return replace(source, **changes)


def _by_filename(outputs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Outputs by file, their rpm components in a stable order."""
    found = {}
    for output in outputs:
        entry = dict(output)
        if "components" in entry:
            entry["components"] = sorted(
                entry["components"], key=lambda c: (c["name"], c["arch"])
            )
        found[entry["filename"]] = entry
    return found


def test_the_metadata_of_the_recorded_module_is_what_the_hub_accepted() -> None:
    """build and output equal 166's (components compared in a stable
    order); metadata_version 0; one buildroot with the keys the hub needs."""
    _, args, _ = request(166)
    recorded = args[0]
    metadata, _ = import_metadata(_source())
    assert metadata["metadata_version"] == 0
    assert metadata["build"] == recorded["build"]
    assert _by_filename(metadata["output"]) == _by_filename(recorded["output"])
    (buildroot,) = metadata["buildroots"]
    assert set(buildroot) == set(recorded["buildroots"][0])
    assert buildroot["content_generator"] == {
        "name": "module-build-service",
        "version": "0.1.0",
    }
    assert buildroot["host"] == {"os": "Fedora 40", "arch": "x86_64"}
    assert buildroot["container"] == {"type": "none", "arch": "x86_64"}


def test_the_files_are_the_recorded_uploads_in_order() -> None:
    """modulemd.txt, modulemd.x86_64.txt, build.log: 145, 148, 151's bytes."""
    _, files = import_metadata(_source())
    assert files == [
        ("modulemd.txt", uploaded(145)),
        ("modulemd.x86_64.txt", uploaded(148)),
        ("build.log", uploaded(151)),
    ]


def test_the_filtered_rpm_is_no_component_of_any_output() -> None:
    """cgbeta-devel is filtered: Koji built it, no output lists it."""
    metadata, _ = import_metadata(_source())
    names = {
        component["name"]
        for output in metadata["output"]
        for component in output.get("components", [])
    }
    assert names == {"cgalpha", "cgbeta"}


def test_an_owner_koji_does_not_know_is_not_named() -> None:
    """Without a Koji user of that name the importing user owns the build."""
    content = ModuleContent(rpms=_rpms(), arches=("x86_64",), owner_known=False)
    metadata, _ = import_metadata(_source(content=content))
    assert "owner" not in metadata["build"]


def test_an_artifact_koji_does_not_have_is_an_error() -> None:
    """A document listing an RPM that none of the builds has cannot be
    imported: Koji would not link it."""
    content = ModuleContent(rpms=_rpms()[:2], arches=("x86_64",), owner_known=True)
    with pytest.raises(KojiError, match="modulemd.txt lists cgalpha-0:1.0-1"):
        import_metadata(_source(content=content))


def test_small_metadata_goes_inline_with_the_outputs_alone() -> None:
    """The recorded module's metadata is sent as the struct (166)."""
    metadata, files = import_metadata(_source())
    argument, uploads = metadata_argument(metadata, files)
    assert argument is metadata
    assert uploads == files


def test_metadata_over_a_mebibyte_goes_as_an_uploaded_file_last() -> None:
    """A module whose modulemd alone is over 1 MiB (as one of thousands of
    RPMs is): the metadata is uploaded as metadata.json after the outputs,
    and CGImport gets the file's name, as the hub reads it."""
    metadata, files = import_metadata(_source())
    module = metadata["build"]["extra"]["typeinfo"]["module"]
    module["modulemd_str"] += "#" * INLINE_METADATA_BYTES
    argument, uploads = metadata_argument(metadata, files)
    assert argument == METADATA_FILE == "metadata.json"
    assert uploads[:-1] == files
    name, data = uploads[-1]
    assert name == METADATA_FILE and len(data) > INLINE_METADATA_BYTES
    assert json.loads(data) == metadata
