"""Components, dependencies, artifacts and service levels in load_modulemd."""

from __future__ import annotations

import textwrap

import pytest

from ridad.domain.modulemd import (
    Dependencies,
    ModuleComponentSpec,
    RpmComponentSpec,
)
from ridad.errors import Unprocessable
from ridad.modulemd.artifacts import is_valid_nevra
from ridad.modulemd.parse import load_modulemd

HEADER = "document: modulemd\nversion: 2\ndata:\n"
MINIMAL = "summary: S\ndescription: D\nlicense:\n  module: [MIT]\n"


def _doc(extra: str) -> str:
    """Build a v2 stream with ``extra`` under data."""
    return HEADER + textwrap.indent(MINIMAL + textwrap.dedent(extra), "  ")


def _messages(text: str) -> list[str]:
    """Load text that must be refused and return ``path: message`` lines."""
    with pytest.raises(Unprocessable) as raised:
        load_modulemd(text)
    return [f"{e['path']}: {e['message']}" for e in raised.value.details["errors"]]


def test_rpm_components_are_returned_in_document_order() -> None:
    """Every rpm component field is read, keeping the document's order."""
    extra = """\
    components:
      rpms:
        zed:
          name: zed-real
          rationale: R
          repository: https://example.com/zed.git
          cache: https://example.com/cache
          ref: 8
          buildorder: -9223372036854775808
          buildonly: true
          buildroot: true
          srpm-buildroot: false
          arches: x86_64
          multilib: [x86_64]
        alpha: {}
      modules:
        inc: {rationale: R, repository: r, ref: main, buildorder: 100}
    """
    document = load_modulemd(_doc(extra))
    assert document.rpm_components == (
        RpmComponentSpec(
            key="zed",
            name="zed-real",
            rationale="R",
            repository="https://example.com/zed.git",
            cache="https://example.com/cache",
            ref="8",
            buildorder=-(2**63),
            buildonly=True,
            buildroot=True,
            arches=("x86_64",),
            multilib=("x86_64",),
        ),
        RpmComponentSpec(key="alpha"),
    )
    assert document.module_components == (
        ModuleComponentSpec(
            key="inc", rationale="R", repository="r", ref="main", buildorder=100
        ),
    )


@pytest.mark.parametrize(
    "value", ["9223372036854775808", "-9223372036854775809", "4294967296000000000000"]
)
def test_buildorder_outside_int64_is_rejected(value: str) -> None:
    """buildorder is range-checked as int64 (libmodulemd truncates to 32 bits)."""
    messages = _messages(
        _doc(f"components: {{rpms: {{a: {{buildorder: {value}}}}}}}\n")
    )
    assert messages == [
        f"data.components.rpms.a.buildorder: the integer {value} is out of the int64 range"
    ]


def test_buildorder_beyond_32_bits_is_kept_exactly() -> None:
    """4294967296 stays 4294967296, so it still conflicts with buildafter."""
    extra = "components: {rpms: {a: {buildorder: 4294967296}, b: {buildafter: [a]}}}\n"
    assert _messages(_doc(extra)) == [
        "data.components.rpms: the rpm components mix buildorder and buildafter; use one scheme for the whole stream"
    ]


def test_buildorder_and_buildafter_on_one_component_are_rejected() -> None:
    """A component cannot have a non-zero buildorder and a buildafter."""
    extra = "components: {rpms: {a: {}, b: {buildorder: 1, buildafter: [a]}}}\n"
    assert _messages(_doc(extra)) == [
        "data.components.rpms.b: a component cannot have both a non-zero buildorder and a buildafter"
    ]


def test_buildorder_zero_next_to_buildafter_is_accepted() -> None:
    """buildorder 0 counts as unset (probe)."""
    extra = "components: {rpms: {a: {buildorder: 0}, b: {buildafter: [a]}}}\n"
    assert load_modulemd(_doc(extra)).rpm_components[1].buildafter == ("a",)


def test_module_buildorder_with_rpm_buildafter_is_accepted() -> None:
    """Module components are outside the per-stream exclusivity check (probe)."""
    extra = "components: {rpms: {a: {}, b: {buildafter: [a]}}, modules: {m: {buildorder: 5}}}\n"
    assert load_modulemd(_doc(extra)).module_components[0].buildorder == 5


def test_module_component_refuses_buildafter() -> None:
    """components.modules entries have no buildafter key."""
    messages = _messages(_doc("components: {modules: {m: {buildafter: [x]}}}\n"))
    assert messages[0].startswith(
        "data.components.modules.m.buildafter: unknown key 'buildafter'"
    )


def test_buildafter_must_name_a_component_key() -> None:
    """A buildafter target must be a key of components.rpms, not a real name."""
    extra = "components: {rpms: {a: {name: real}, b: {buildafter: [real]}}}\n"
    assert _messages(_doc(extra)) == [
        "data.components.rpms.b.buildafter: buildafter 'real' is not a key of data.components.rpms"
    ]


def test_buildafter_cycles_are_not_checked_here() -> None:
    """A self-reference passes, as in libmodulemd; the scheduler checks cycles."""
    assert load_modulemd(_doc("components: {rpms: {a: {buildafter: [a]}}}\n"))


def test_component_arches_must_be_within_buildopts_arches() -> None:
    """Component arches must be a subset of buildopts.arches when that is set."""
    extra = "buildopts: {arches: [x86_64]}\ncomponents: {rpms: {a: {arches: [x86_64, i686], multilib: [s390x]}}}\n"
    assert _messages(_doc(extra)) == [
        "data.components.rpms.a.arches: arch 'i686' is not in data.buildopts.arches (x86_64)"
    ]


def test_v1_component_arches_are_not_checked_against_buildopts_arches() -> None:
    """A v1 stream's component arches may lie outside buildopts.arches, as libmodulemd allows."""
    extra = "buildopts: {arches: [x86_64]}\ncomponents: {rpms: {a: {arches: [i686]}}}\n"
    text = _doc(extra).replace("version: 2", "version: 1")
    assert load_modulemd(text).rpm_components[0].arches == ("i686",)


def test_components_accept_only_rpms_and_modules() -> None:
    """Other keys under components are unknown."""
    assert _messages(_doc("components: {flatpaks: {}}\n"))[0].startswith(
        "data.components.flatpaks: unknown key"
    )


def test_v2_dependencies_are_returned_as_written() -> None:
    """Stream lists keep negations and empty lists exactly."""
    extra = """\
    dependencies:
      - buildrequires: {platform: [-f27, -f28], tools: []}
        requires: {platform: f29}
      - {}
    """
    assert load_modulemd(_doc(extra)).dependencies == (
        Dependencies(
            buildrequires={"platform": ("-f27", "-f28"), "tools": ()},
            requires={"platform": ("f29",)},
        ),
        Dependencies(),
    )


def test_mixed_stream_signs_are_rejected() -> None:
    """A stream list mixing streams and exclusions is rejected where it is."""
    messages = _messages(_doc("dependencies:\n  - requires: {platform: [f27, -f28]}\n"))
    assert messages == [
        (
            "data.dependencies[0].requires.platform: the stream list mixes streams"
            " with excluded (-) streams; list either only streams or only exclusions"
        )
    ]


def test_duplicate_module_in_dependencies_is_rejected() -> None:
    """The same module twice in one buildrequires mapping is an error."""
    messages = _messages(
        _doc("dependencies:\n  - buildrequires: {platform: [a], platform: [b]}\n")
    )
    assert messages[0].startswith(
        "data.dependencies[0].buildrequires.platform: duplicate key 'platform'"
    )


def test_unknown_dependency_item_key_is_rejected() -> None:
    """Dependency items accept only buildrequires and requires."""
    assert _messages(_doc("dependencies:\n  - suggests: {}\n"))[0].startswith(
        "data.dependencies[0].suggests"
    )


@pytest.mark.parametrize(
    ("nevra", "valid"),
    [
        ("bar-0:1.23-1.module_deadbeef.x86_64", True),
        ("npm-1:5.6.0-1.8.11.4.1.module_2030+42747d40.x86_64", True),
        ("MissingEpoch-0-0.src", False),
        ("bar-x:1-1.noarch", False),
        ("bar-0:1-1", False),
        ("bar0:1-1.noarch", False),
    ],
)
def test_nevra_shape_follows_libmodulemd(nevra: str, valid: bool) -> None:
    """N-E:V-R.A needs an arch, a release, a ':' and an epoch starting with a digit."""
    assert is_valid_nevra(nevra) is valid


def test_artifact_without_epoch_is_rejected() -> None:
    """artifacts.rpms entries need an epoch."""
    assert _messages(_doc("artifacts:\n  rpms: [a-0:1-1.x86_64, b-1-1.x86_64]\n")) == [
        "data.artifacts.rpms[1]: artifact 'b-1-1.x86_64' is not in N-E:V-R.A form (the epoch is required)"
    ]


def test_rpm_map_entries_must_be_complete_and_consistent() -> None:
    """Each rpm-map entry needs every field and a matching nevra."""
    extra = """\
    artifacts:
      rpm-map:
        sha256:
          aaa: {name: a, epoch: 0, version: '1.0', release: '1', arch: x86_64, nevra: a-0:1.0-1.x86_64}
          bbb: {name: b, version: '1', release: '1', arch: x86_64, nevra: b-0:1-1.x86_64}
          ccc: {name: c, epoch: 1, version: '1', release: '1', arch: x86_64, nevra: c-0:1-1.x86_64}
    """
    assert _messages(_doc(extra)) == [
        "data.artifacts.rpm-map.sha256.bbb: the rpm-map entry has no 'epoch'",
        "data.artifacts.rpm-map.sha256.ccc.nevra: nevra 'c-0:1-1.x86_64' does not match the entry's fields ('c-1:1-1.x86_64')",
    ]


@pytest.mark.parametrize(
    ("eol", "message"),
    [("2020-13-45", "is not a valid date"), ("notadate", "is not a YYYY-MM-DD date")],
)
def test_impossible_or_malformed_eol_is_rejected(eol: str, message: str) -> None:
    """An impossible date is an error, not a crash as in libmodulemd."""
    messages = _messages(_doc(f"servicelevels:\n  rawhide: {{eol: {eol}}}\n"))
    assert messages == [f"data.servicelevels.rawhide.eol: '{eol}' {message}"]


def test_leap_day_eol_is_accepted() -> None:
    """2024-02-29 exists."""
    assert load_modulemd(_doc("servicelevels: {rawhide: {eol: 2024-02-29}}\n"))
