"""The final modulemd: artifacts, licenses, per-arch documents, xmd.mbs, stable bytes."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
import yaml

from ridad.errors import Unprocessable
from ridad.modulemd.events import looks_like_number
from ridad.modulemd.final import BuiltRpm, FinalModulemd, final_modulemd
from ridad.modulemd.parse import load_modulemd
from tests.unit.modulemd.final_fixtures import (
    ARCHES,
    BUILD,
    COMMIT,
    COMPONENTS,
    LICENSES,
    METADATA_ONLY,
    PER_ARCH,
    RICH,
    RPMS,
    SCMURL,
    WHOLE,
    foo,
    rpm,
)


def final(**changes: Any) -> FinalModulemd:
    """The final modulemd of the demo build, with some inputs changed."""
    inputs: dict[str, Any] = {
        "build": BUILD,
        "components": COMPONENTS,
        "rpms": RPMS,
        "arches": ARCHES,
    }
    inputs.update(changes)
    return final_modulemd(**inputs)


def data(text: str) -> dict[str, Any]:
    """The ``data`` section of a document, read with PyYAML."""
    return yaml.load(text, Loader=yaml.CSafeLoader)["data"]


def test_artifacts_are_the_built_rpms_minus_filters() -> None:
    """modulemd.txt lists every RPM built in the module, sources too, but the filtered."""
    result = final()
    assert set(result.artifacts) == WHOLE
    assert list(result.artifacts) == sorted(WHOLE)
    assert data(result.text)["artifacts"]["rpms"] == sorted(WHOLE)


def test_debuginfo_of_a_filtered_package_is_dropped() -> None:
    """foo-devel is filtered, so foo-devel-debuginfo goes; foo-debuginfo stays."""
    artifacts = final().artifacts
    assert not [a for a in artifacts if a.startswith("foo-devel")]
    assert foo("foo-debuginfo", "x86_64") in artifacts
    assert foo("foo-debugsource", "x86_64") in artifacts


def test_filtering_the_package_drops_its_debuginfo_but_keeps_the_others() -> None:
    """Filtering bar (MBS's rule) takes bar-debuginfo and bar's source RPM with it."""
    source = BUILD.modulemd.replace("rpms: [foo-devel]", "rpms: [foo-devel, bar]")
    artifacts = final(build=replace(BUILD, modulemd=source)).artifacts
    assert not [a for a in artifacts if a.startswith("bar")]
    assert set(artifacts) == {a for a in WHOLE if not a.startswith("bar")}


def test_debug_rpm_without_its_package_follows_its_component() -> None:
    """No baz binary exists, so baz-debugsource stays while baz-libs does."""
    assert foo("baz-debugsource", "aarch64") in final().artifacts
    alone = [r for r in RPMS if r.name != "baz-libs"]
    artifacts = final(rpms=alone).artifacts
    assert not [a for a in artifacts if a.startswith("baz")]


def test_buildonly_component_rpms_are_filtered_and_named_in_filter() -> None:
    """tool is buildonly: its RPMs are no artifacts and its names join filter.rpms."""
    result = final()
    assert not [a for a in result.artifacts if a.startswith("tool")]
    assert data(result.text)["filter"]["rpms"] == ["foo-devel", "tool"]


def test_module_build_macros_rpms_are_not_artifacts() -> None:
    """module-build-macros is built in the module but is neither artifact nor component."""
    result = final()
    assert not [a for a in result.artifacts if "macros" in a]
    text = data(result.text)
    assert "module-build-macros" not in text["components"]["rpms"]
    assert "module-build-macros" not in text["xmd"]["mbs"]["rpms"]
    assert "module-build-macros" not in text["filter"]["rpms"]


def test_licenses_are_the_union_of_the_kept_binary_rpms() -> None:
    """license.content: kept binaries' License headers, sorted, once; module kept."""
    result = final()
    assert result.licenses == LICENSES
    license = data(result.text)["license"]
    assert license == {"module": ["MIT"], "content": list(LICENSES)}


def test_a_module_without_licensed_rpms_has_no_content_licenses() -> None:
    """With no License headers, license.content is left out (not the stale one)."""
    unlicensed = [replace(r, license=None) for r in RPMS]
    result = final(rpms=unlicensed)
    assert result.licenses == ()
    assert data(result.text)["license"] == {"module": ["MIT"]}


def test_per_arch_documents_hold_their_arch_noarch_and_sources() -> None:
    """modulemd.<arch>.txt: that arch, noarch and the sources of what stays."""
    result = final()
    assert sorted(result.per_arch) == sorted(ARCHES)
    for arch, text in result.per_arch.items():
        assert set(data(text)["artifacts"]["rpms"]) == PER_ARCH[arch], arch
        assert data(text)["arch"] == arch


def test_multilib_brings_i686_rpms_into_x86_64_only_for_listed_components() -> None:
    """foo lists multilib x86_64, so foo.i686 is in x86_64's document; bar.i686 is not."""
    x86_64 = set(data(final().per_arch["x86_64"])["artifacts"]["rpms"])
    assert foo("foo", "i686") in x86_64
    assert foo("foo-debuginfo", "i686") in x86_64
    assert not [a for a in x86_64 if a.startswith("bar-2") and a.endswith(".i686")]
    no_multilib = BUILD.modulemd.replace(", multilib: [x86_64]", "")
    result = final(build=replace(BUILD, modulemd=no_multilib))
    x86_64 = set(data(result.per_arch["x86_64"])["artifacts"]["rpms"])
    assert not [a for a in x86_64 if a.endswith(".i686")]


def test_per_arch_licenses_are_those_of_the_arch() -> None:
    """An arch's document lists the licenses of its own artifacts."""
    aarch64 = final(rpms=[r for r in RPMS if r.name != "foo-doc"]).per_arch["aarch64"]
    assert data(aarch64)["license"]["content"] == [
        "BSD-3-Clause",
        "GPL-2.0-or-later",
        "MIT",
    ]


def test_per_arch_documents_leave_out_xmd_mbs_and_component_locations() -> None:
    """As MBS's per-arch files: no xmd.mbs, no repository or cache; xmd otherwise kept."""
    for text in final().per_arch.values():
        document = data(text)
        assert document["xmd"] == {"packager": {"flag": True, "note": "kept"}}
        for spec in document["components"]["rpms"].values():
            assert "repository" not in spec and "cache" not in spec


def test_xmd_mbs_records_what_mbs_records() -> None:
    """xmd.mbs: resolved buildrequires and requires, rpms refs, scmurl, commit, mse."""
    xmd = data(final().text)["xmd"]
    assert xmd["packager"] == {"flag": True, "note": "kept"}
    mbs = xmd["mbs"]
    assert mbs["scmurl"] == SCMURL
    assert mbs["commit"] == COMMIT
    assert mbs["mse"] is True
    assert mbs["rpms"] == {
        "foo": {"ref": "2" * 40},
        "bar": {"ref": "3" * 40},
        "tool": {"ref": "4" * 40},
        "libbaz": {"ref": "5" * 40},
    }
    platform = {
        "stream": "f40",
        "version": "",
        "context": "",
        "koji_tag": "f40-build",
        "ref": "",
        "filtered_rpms": [],
    }
    assert mbs["buildrequires"] == {
        "platform": platform,
        "tools": {
            "stream": "main",
            "version": "20240101000000",
            "context": "deadbeef",
            "koji_tag": "module-tools-main-20240101000000-deadbeef",
            "ref": "",
            "filtered_rpms": [],
        },
    }
    assert mbs["requires"] == {"platform": platform}


def test_xmd_mbs_takes_a_recorded_ref_and_filtered_rpms() -> None:
    """A buildrequirement's ref and filtered NVRs, when recorded, are written."""
    tools = dict(BUILD.buildrequires["tools"], ref="b" * 40, filtered_rpms=["x-0:1-1"])
    build = replace(BUILD, buildrequires={**BUILD.buildrequires, "tools": tools})
    entry = data(final(build=build).text)["xmd"]["mbs"]["buildrequires"]["tools"]
    assert entry["ref"] == "b" * 40 and entry["filtered_rpms"] == ["x-0:1-1"]


def test_identity_and_components_are_the_built_ones() -> None:
    """name, stream, version, context from the build; repository and ref as built."""
    document = data(final().text)
    assert (document["name"], document["stream"]) == ("demo", "main")
    assert (document["version"], document["context"]) == (4020261201000000, "c0ffee00")
    assert document["components"]["rpms"]["libbaz"]["repository"] == (
        "https://git.example/rpms/baz"
    )
    assert document["components"]["rpms"]["bar"]["cache"] == "https://cache.example/bar"


def test_v1_and_packager_documents_become_stream_v2() -> None:
    """A v1 source is upgraded: one dependencies item, eol as servicelevel rawhide."""
    v1 = """\
document: modulemd
version: 1
data:
  summary: S
  description: D
  eol: 2030-06-01
  license: {module: [MIT]}
  dependencies: {buildrequires: {platform: f40}, requires: {platform: f40}}
  components: {rpms: {foo: {rationale: R}}}
"""
    document = data(final(build=replace(BUILD, modulemd=v1)).text)
    assert document["servicelevels"] == {"rawhide": {"eol": date(2030, 6, 1)}}
    assert document["dependencies"] == [
        {"buildrequires": {"platform": ["f40"]}, "requires": {"platform": ["f40"]}}
    ]
    packager = v1.replace("document: modulemd", "document: modulemd-packager")
    packager = packager.replace("version: 1", "version: 2").replace(
        "  eol: 2030-06-01\n", ""
    )
    packager = packager.replace(
        "{buildrequires: {platform: f40}, requires: {platform: f40}}",
        "[{buildrequires: {platform: [f40]}}]",
    )
    text = final(build=replace(BUILD, modulemd=packager)).text
    assert text.startswith("---\ndocument: modulemd\nversion: 2\ndata:\n  name: demo\n")


def test_every_section_of_the_source_is_kept() -> None:
    """Text, profiles, references, service levels and buildopts survive as written."""
    source = load_modulemd(RICH)
    result = final(build=replace(BUILD, modulemd=RICH))
    for text in (result.text, *result.per_arch.values()):
        document = load_modulemd(text)
        assert (document.summary, document.description) == (
            source.summary,
            source.description,
        )
        assert (document.rpm_macros, document.rpm_whitelist) == (
            source.rpm_macros,
            tuple(sorted(source.rpm_whitelist)),
        )
        assert document.static_context and document.context == BUILD.context
        written = data(text)
        assert written["references"]["community"] == "https://community.example/#a: b"
        assert written["profiles"]["default"] == {
            "description": "The default.",
            "rpms": ["bar", "foo"],
            "default": True,
        }
        assert sorted(written["servicelevels"]) == ["rawhide", "stable"]
        assert written["demodularized"] == {"rpms": ["old"]}
        assert written["xmd"]["packager"]["number"] == "1.10"


def test_same_input_in_any_order_gives_the_same_bytes() -> None:
    """The documents depend on the input's content only, never its order."""
    first = final()
    shuffled_rpms = list(RPMS)
    random.Random(20261201).shuffle(shuffled_rpms)
    again = final(
        rpms=shuffled_rpms,
        components=tuple(reversed(COMPONENTS)),
        arches=tuple(reversed(ARCHES)) + ("x86_64",),
    )
    assert again == first
    assert again.text.encode() == first.text.encode()
    assert dict(again.per_arch) == dict(first.per_arch)


def test_final_documents_pass_ridads_validator() -> None:
    """modulemd.txt and every modulemd.<arch>.txt load with ridad's own validator."""
    result = final()
    for text in (result.text, *result.per_arch.values()):
        document = load_modulemd(text)
        assert (document.document, document.mdversion) == ("modulemd", 2)
        assert (document.name, document.version) == ("demo", BUILD.version)
    empty = final(rpms=(), arches=())
    assert empty.artifacts == () and empty.per_arch == {}
    assert "artifacts" not in data(empty.text)
    load_modulemd(empty.text)


def test_a_metadata_only_module_has_documents_without_components_or_artifacts() -> None:
    """No components, no RPMs: every document is valid, lists no components,
    artifacts or content licenses, and xmd.mbs.rpms is empty."""
    result = final(
        build=replace(BUILD, modulemd=METADATA_ONLY),
        components=(),
        rpms=(),
        arches=("x86_64", "aarch64"),
    )
    assert (result.artifacts, result.licenses) == ((), ())
    assert sorted(result.per_arch) == ["aarch64", "x86_64"]
    for text in (result.text, *result.per_arch.values()):
        assert load_modulemd(text).rpm_components == ()
        written = data(text)
        assert not {"components", "artifacts"} & set(written), text
        assert written["license"] == {"module": ["MIT"]}
        assert written["profiles"]["default"]["rpms"] == ["bash"]
    assert data(result.text)["xmd"]["mbs"]["rpms"] == {}


def test_noarch_and_src_are_not_architectures() -> None:
    """Asking for noarch or src writes no per-arch document for them."""
    assert sorted(final(arches=("noarch", "src", "x86_64")).per_arch) == ["x86_64"]


def test_invalid_submitted_modulemd_is_unprocessable() -> None:
    """A build whose stored modulemd is not valid raises ridad's own error."""
    with pytest.raises(Unprocessable):
        final(build=replace(BUILD, modulemd="document: modulemd\nversion: 2\n"))


def test_epoch_none_is_written_as_zero() -> None:
    """NEVRAs always carry an epoch: 0 when Koji has none."""
    built = BuiltRpm("foo", None, "1", "2", "noarch", None, "foo")
    assert built.nevra == "foo-0:1-2.noarch"
    assert rpm("x", "src", "foo", None, evr=(3, "1", "2")).nevra == "x-3:1-2.src"


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("", True),
        ("1", True),
        ("1.10", True),
        ("-5", True),
        (".5", True),
        ("1.5e+3", True),
        ("0x1F", True),
        ("0o17", True),
        (".nan", True),
        ("-.inf", True),
        ("26ca0c0", False),
        ("1e5", False),
        ("1.2.3", False),
        ("0x", False),
        ("+", False),
        ("f40", False),
        ("main", False),
    ],
)
def test_number_like_strings_are_the_ones_libmodulemd_quotes(
    text: str, number: bool
) -> None:
    """The quoting rule of libmodulemd 2.15: empty or number-like strings only."""
    assert looks_like_number(text) is number
