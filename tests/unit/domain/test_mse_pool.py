"""Which builds stream expansion may use: MBS's test_get_required_modules_*."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from ridad.domain.candidates import Candidate, CandidatePool, compatible_base_modules
from ridad.domain.mse_pool import expand_entry, gather, resolve_virtual_streams
from tests.unit.domain.mse_fixtures import base, build, default_modules, deps


def gathered(
    entries: Sequence[Mapping[str, Sequence[str]]], builds: Sequence[Candidate]
) -> set[str]:
    pool = CandidatePool.of(builds)
    expanded = [expand_entry(deps(e), pool) for e in entries]
    return {c.nsvc for cs in gather(expanded, pool, ("platform",)).values() for c in cs}


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (
            [{"platform": [], "gtk": ["1", "2"]}],
            {"platform:f29:0:c11", "gtk:2:0:c4", "gtk:2:0:c5", "platform:f28:0:c10",
             "gtk:1:0:c2", "gtk:1:0:c3"},
        ),
        (
            [{"platform": [], "gtk": ["1"], "foo": ["1"]}],
            {"platform:f28:0:c10", "gtk:1:0:c2", "gtk:1:0:c3", "foo:1:0:c2",
             "foo:1:0:c3", "platform:f29:0:c11"},
        ),
        (
            [{"gtk": ["1"], "foo": ["1"], "platform": ["f28"]}],
            {"platform:f28:0:c10", "gtk:1:0:c2", "foo:1:0:c2"},
        ),
        (
            [
                {"platform": [], "gtk": ["1"], "foo": ["1"]},
                {"platform": [], "gtk": ["2"], "foo": ["2"]},
            ],
            {"foo:1:0:c2", "foo:1:0:c3", "foo:2:0:c4", "foo:2:0:c5",
             "platform:f28:0:c10", "platform:f29:0:c11", "gtk:1:0:c2", "gtk:1:0:c3",
             "gtk:2:0:c4", "gtk:2:0:c5"},
        ),
        (
            [{"platform": [], "gtk": ["-2"], "foo": ["-2"]}],
            {"foo:1:0:c2", "foo:1:0:c3", "platform:f29:0:c11", "platform:f28:0:c10",
             "gtk:1:0:c2", "gtk:1:0:c3"},
        ),
    ],
)  # fmt: skip
def test_simple(entries: list[dict[str, list[str]]], expected: set[str]) -> None:
    """MBS's test_get_required_modules_simple."""
    assert gathered(entries, default_modules()) == expected


def recursion() -> list[Candidate]:
    """gtk:1 → foo:1 → bar:1 and lorem:1 → base:f29 → platform:f29."""
    on = "platform:f29:0:c11"
    r = lambda name, stream: [{name: [stream]}]  # noqa: E731
    return [
        base(on),
        build("gtk:1:0:c2", requires=r("foo", "unknown"), on=on),
        build("gtk:1:1:c2", requires=r("foo", "1"), on=on),
        build("foo:1:0:c2", requires=r("bar", "unknown"), on=on),
        build("foo:1:1:c2", requires=[{"bar": ["1"], "lorem": ["1"]}], on=on),
        build("bar:1:0:c2", requires=r("base", "unknown"), on=on),
        build("bar:1:1:c2", requires=r("base", "f29"), on=on),
        build("lorem:1:0:c2", requires=r("base", "unknown"), on=on),
        build("lorem:1:1:c2", requires=r("base", "f29"), on=on),
        build("base:f29:0:c3", requires=r("platform", "f29"), on=on),
    ]


@pytest.mark.parametrize(
    ("buildrequires", "expected"),
    [
        (
            {"platform": [], "gtk": ["1"]},
            {"foo:1:1:c2", "base:f29:0:c3", "platform:f29:0:c11", "bar:1:1:c2",
             "gtk:1:1:c2", "lorem:1:1:c2"},
        ),
        (
            {"platform": [], "foo": ["1"]},
            {"foo:1:1:c2", "base:f29:0:c3", "platform:f29:0:c11", "bar:1:1:c2",
             "lorem:1:1:c2"},
        ),
    ],
)  # fmt: skip
def test_recursion(buildrequires: dict[str, list[str]], expected: set[str]) -> None:
    """MBS's test_get_required_modules_recursion: newest version, transitively."""
    assert gathered([buildrequires], recursion()) == expected


def test_stream_versions() -> None:
    """MBS's test_get_required_modules_stream_versions: f29.1.0 takes f29.0.0
    as compatible, and of each base only the newest build on it."""
    f0 = base("platform:f29.0.0:0:c11", virtual=["f29"])
    f1 = base("platform:f29.1.0:0:c11", virtual=["f29"])
    f2 = base("platform:f29.2.0:0:c11", virtual=["f29"])
    req = [{"platform": ["f29"]}]
    builds = [
        f0,
        f1,
        f2,
        build("gtk:1:0:c2", requires=req, on=f0.nsvc),
        build("gtk:1:1:c2", requires=req, on=f1.nsvc),
        build("gtk:1:2:c2", requires=req, on=f1.nsvc),
        build("gtk:1:3:c2", requires=req, on=f2.nsvc),
    ]
    assert gathered([{"platform": ["f29.1.0"], "gtk": ["1"]}], builds) == {
        f0.nsvc,
        "gtk:1:0:c2",
        "gtk:1:2:c2",
        f1.nsvc,
    }


def test_compatibility_needs_a_shared_virtual_stream_and_the_same_major() -> None:
    """Same virtual stream, same major, not newer; no virtual streams: none."""
    el8 = [base(f"platform:el8.{m}.0:0:c1", virtual=["el8"]) for m in range(3)]
    el9 = base("platform:el9.0.0:0:c1", virtual=["el8"])
    other = base("platform:el8.0.9:0:c1", virtual=["rhel"])
    everything = el8 + [el9, other]
    found = compatible_base_modules(el8[1], everything, versioned=True)
    assert [b.stream for b in found] == ["el8.0.0", "el8.1.0"]
    assert compatible_base_modules(base("platform:f29:0:c1"), everything, True) == []
    unbounded = compatible_base_modules(el8[0], everything, versioned=False)
    assert {b.stream for b in unbounded} == {"el8.0.0", "el8.1.0", "el8.2.0", "el9.0.0"}


def test_virtual_streams_are_resolved_only_when_no_build_has_the_stream() -> None:
    """A real stream wins; ``-x`` and unknown streams stay as written."""
    pool = CandidatePool.of(
        [
            base("platform:el8:0:c1"),
            base("platform:el8.1.0:0:c1", virtual=["el8", "rhel"]),
            base("platform:el8.2.0:0:c1", virtual=["rhel"]),
        ]
    )
    (entry,) = resolve_virtual_streams(
        [deps({"platform": ["el8", "rhel", "-x", "nope"], "gtk": ["rhel"]})],
        pool,
        ("platform",),
    )
    assert entry.buildrequires == {
        "platform": ("el8", "el8.2.0", "-x", "nope"),
        "gtk": ("rhel",),
    }


def test_the_pool_says_which_names_it_still_needs() -> None:
    """The database loader repeats until nothing required is missing."""
    pool = CandidatePool()
    pool.add([build("gtk:1:0:c1", requires=[{"lib": ["1"]}], on="platform:f1:0:c0")])
    assert pool.unloaded_requires() == {"lib", "platform"}
    pool.add([], names=["lib", "platform"])
    assert pool.unloaded_requires() == set()
    assert [c.nsvc for c in pool.candidates("gtk", ["1"])] == ["gtk:1:0:c1"]
    assert pool.candidates("gtk", ["2"]) == []
