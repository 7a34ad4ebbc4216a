"""MBS's ``import_mmd`` rules (docs/mbs-resolution.md §1), with MBS's
messages, on the modulemd ridad reads and writes for an import."""

from __future__ import annotations

import pytest

from ridad.domain.imported_modules import (
    ImportedBuild,
    base_stream_version,
    check_import,
)
from ridad.domain.modulemd import Dependencies
from ridad.errors import Unprocessable
from ridad.modulemd.imported import configured_base_module, load_import
from ridad.modulemd.source import read_source

BASES = ("platform", "bootstrap")


def document(
    name: str = "platform",
    stream: str = "f29.1.0",
    extra: str = "",
    *,
    xmd: str = "  xmd: {mbs: {koji_tag: module-f29-build, mse: TRUE}}\n",
    head: str = "document: modulemd\nversion: 2\n",
) -> str:
    """A modulemd v2 document to import."""
    return (
        head
        + "data:\n"
        + (f"  name: {name}\n" if name else "")
        + (f"  stream: {stream}\n" if stream else "")
        + "  summary: A base module\n"
        "  description: The base of every build.\n"
        "  license: {module: [MIT]}\n" + xmd + extra
    )


def test_a_base_module_gets_the_default_context_and_its_stream_version() -> None:
    """Context 00000000, the right-padded stream version, the tag, profiles
    and the completed xmd kept in the recorded text."""
    profiles = "  profiles:\n    buildroot: {rpms: [bash, rpm-build]}\n"
    accepted = load_import(document(extra=profiles), base_module_names=BASES)
    module = accepted.module
    assert module.nsvc == "platform:f29.1.0:0:00000000"
    assert module.stream_version == 290100.0
    assert module.koji_tag == "module-f29-build"
    assert module.buildrequires == {}
    recorded = read_source(accepted.text)
    assert recorded.context == "00000000"
    assert recorded.xmd["mbs"]["buildrequires"] == {}
    assert recorded.profiles["buildroot"].rpms == ("bash", "rpm-build")


@pytest.mark.parametrize(
    ("stream", "expected"),
    [("f29.1.0", 290100.0), ("el8", 80000.0), ("f29", 290000.0), ("rawhide", None)],
)
def test_stream_versions_are_mbs_right_padded_ones(
    stream: str, expected: float | None
) -> None:
    """MBS's vectors: f29.1.0 → 290100, el8 → 80000; no digit, none."""
    assert base_stream_version(stream) == expected


def test_a_given_context_and_version_are_kept_and_other_modules_have_no_stream_version() -> (
    None
):
    """A non-base module keeps its context; it gets no stream version."""
    extra = "  version: 7\n  context: c0ffee00\n"
    module = load_import(
        document("nodejs", "12", extra), base_module_names=BASES
    ).module
    assert module.nsvc == "nodejs:12:7:c0ffee00"
    assert module.stream_version is None and not module.base_module


def test_no_xmd_mbs_gets_mse_true_and_an_absent_koji_tag_is_metadata_only() -> None:
    """MBS's step 1: ``{"mse": True}``; step 7: no koji_tag is allowed."""
    module = load_import(document(xmd=""), base_module_names=BASES).module
    assert module.xmd == {"mbs": {"mse": True, "buildrequires": {}}}
    assert module.koji_tag is None


def test_virtual_streams_are_recorded() -> None:
    """``xmd.mbs.virtual_streams`` as a tuple."""
    xmd = "  xmd: {mbs: {koji_tag: t, virtual_streams: [f29, fedora]}}\n"
    module = load_import(document(xmd=xmd), base_module_names=BASES).module
    assert module.virtual_streams == ("f29", "fedora")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            document(name=""),
            "Both the name and stream must be set for the modulemd being imported.",
        ),
        (
            document(stream=""),
            "Both the name and stream must be set for the modulemd being imported.",
        ),
        (
            document(stream="f29-beta"),
            "The stream cannot contain a dash unless disttag_marking is set",
        ),
        (
            document(xmd="  xmd: {mbs: {disttag_marking: f-29}}\n"),
            "The disttag_marking cannot contain a dash",
        ),
        (
            document(xmd="  xmd: {mbs: {virtual_streams: f29}}\n"),
            "The virtual streams must be a list of strings",
        ),
        (
            document(
                extra="  dependencies:\n  - buildrequires: {platform: [f29]}\n"
                "  - buildrequires: {platform: [f30]}\n"
            ),
            "The imported module's dependencies list should contain just one element",
        ),
        (
            document(
                "nodejs",
                "12",
                "  dependencies:\n  - buildrequires: {platform: [f29]}\n",
            ),
            "The imported module buildrequires other modules, but the metadata in"
            ' the xmd["mbs"]["buildrequires"] dictionary is missing entries',
        ),
    ],
)
def test_mbs_refusals(text: str, message: str) -> None:
    """Each rule of import_mmd, with MBS's own message."""
    with pytest.raises(Unprocessable) as caught:
        load_import(text, base_module_names=BASES)
    assert caught.value.message == message


def test_a_dash_is_allowed_in_a_base_stream_with_a_disttag_marking() -> None:
    """``f29-beta`` with ``disttag_marking: f29beta`` imports."""
    xmd = "  xmd: {mbs: {koji_tag: t, disttag_marking: f29beta}}\n"
    module = load_import(
        document(stream="f29-beta", xmd=xmd), base_module_names=BASES
    ).module
    assert module.stream == "f29-beta" and module.stream_version == 290000.0


def test_a_dash_in_a_non_base_stream_is_fine() -> None:
    """The dash rules are for base modules only."""
    module = load_import(document("nodejs", "12-x"), base_module_names=BASES).module
    assert module.stream == "12-x"


def test_recorded_buildrequires_cover_the_buildtime_names() -> None:
    """A buildrequire named in xmd.mbs.buildrequires is accepted and kept."""
    xmd = (
        "  xmd: {mbs: {koji_tag: t, buildrequires:"
        " {platform: {stream: f29, version: '1', context: '00000000'}}}}\n"
    )
    deps = "  dependencies:\n  - buildrequires: {platform: [f29]}\n"
    module = load_import(
        document("nodejs", "12", deps, xmd=xmd), base_module_names=BASES
    ).module
    assert module.buildrequires["platform"]["stream"] == "f29"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("not: [valid", "not valid YAML"),
        (document(head="document: modulemd\nversion: 1\n"), "stream v2"),
    ],
)
def test_only_valid_modulemd_v2_is_imported(text: str, fragment: str) -> None:
    """ridad's validator refuses bad documents; v1 is refused too."""
    with pytest.raises(Unprocessable) as caught:
        load_import(text, base_module_names=BASES)
    assert fragment in caught.value.message


def test_check_import_defaults_the_version_to_zero() -> None:
    """No version is version 0, as MBS takes it."""
    module = check_import(
        name="platform",
        stream="el8",
        version=None,
        context="",
        xmd=None,
        dependencies=(Dependencies(),),
        base_module_names=BASES,
    )
    assert module.nsvc == "platform:el8:0:00000000"
    assert module.stream_version == 80000.0


def test_a_configured_base_module_is_a_valid_import() -> None:
    """A ``koji.base_module_tags`` entry becomes name:stream:0:00000000 with
    xmd.mbs koji_tag, mse, buildrequires {} and the stream as commit."""
    accepted = configured_base_module(
        "platform", "el8", "el8-build", base_module_names=BASES
    )
    assert accepted.module.nsvc == "platform:el8:0:00000000"
    assert accepted.module.stream_version == 80000.0
    assert accepted.module.xmd == {
        "mbs": {
            "buildrequires": {},
            "commit": "el8",
            "koji_tag": "el8-build",
            "mse": True,
        }
    }
    assert load_import(accepted.text, base_module_names=BASES).text == accepted.text


def test_an_import_without_a_fetch_records_the_commit_of_its_xmd() -> None:
    """MBS takes a buildrequired module's ``ref`` from ``xmd.mbs.commit``:
    a modulemd given in the request keeps it; a fetched commit wins."""
    xmd = "  xmd: {mbs: {koji_tag: module-f29-build, commit: 0123abcd}}\n"
    accepted = load_import(document(xmd=xmd), base_module_names=BASES)
    given = ImportedBuild(accepted.module, accepted.text, "admin")
    assert given.columns()["scm_commit"] == "0123abcd"
    fetched = ImportedBuild(accepted.module, accepted.text, "admin", "git://x", "ff00")
    assert fetched.columns()["scm_commit"] == "ff00"
    bare = load_import(document(), base_module_names=BASES)
    assert ImportedBuild(bare.module, bare.text, "admin").columns()["scm_commit"] == ""
