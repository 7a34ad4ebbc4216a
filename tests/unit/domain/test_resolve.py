"""The resolver alone, on the scenarios of MBS's test_mmd_resolver.py.

MBS's resolver tests put every build in the pool, with no base-module
filtering; so do these (the filtering is test_mse_pool.py's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from ridad.domain.candidates import Candidate, newest_first
from ridad.domain.resolve import (
    Requirement,
    Resolver,
    ResolverRules,
    StreamWant,
    buildtime_requirements,
    provides,
    requirement,
    runtime_clause,
)
from ridad.errors import Unprocessable
from tests.unit.domain.mse_fixtures import base, build

RULES = ResolverRules()


def resolver(builds: Sequence[Candidate], rules: ResolverRules = RULES) -> Resolver:
    pool: dict[str, list[Candidate]] = {}
    for b in builds:
        pool.setdefault(b.name, []).append(b)
    return Resolver({n: newest_first(bs) for n, bs in pool.items()}, rules)


def solve_all(
    builds: Sequence[Candidate], buildrequires: Mapping[str, Sequence[str]]
) -> set[frozenset[str]]:
    r = resolver(builds)
    needs = buildtime_requirements(
        {k: tuple(v) for k, v in buildrequires.items()}, RULES
    )
    return {frozenset(c.nsvc for c in s.values()) for s in r.stream_combinations(needs)}


def classic() -> list[Candidate]:
    """test_solve's modules: gtk:3/4 and qt:4/5 on f28 and f29, and mess:1."""
    out = [base("platform:f28:0:c0"), base("platform:f29:0:c0")]
    for nsv in ("gtk:3:0", "gtk:4:0", "qt:4:0", "qt:5:0"):
        out.append(build(f"{nsv}:c8", requires=[{"platform": ["f28"]}]))
        out.append(build(f"{nsv}:c9", requires=[{"platform": ["f29"]}]))
    out.append(
        build(
            "mess:1:0:c0",
            requires=[
                {"gtk": ["3"], "platform": ["f28"]},
                {"gtk": ["4"], "platform": ["f29"]},
            ],
        )
    )
    return out


F28, F29 = "platform:f28:0:c0", "platform:f29:0:c0"


@pytest.mark.parametrize(
    ("buildrequires", "expected"),
    [
        ({"platform": []}, [[F28], [F29]]),
        ({"platform": ["f28"]}, [[F28]]),
        (
            {"gtk": [], "qt": []},
            [
                ["gtk:3:0:c8", "qt:4:0:c8", F28],
                ["gtk:4:0:c8", "qt:4:0:c8", F28],
                ["gtk:3:0:c8", "qt:5:0:c8", F28],
                ["gtk:4:0:c8", "qt:5:0:c8", F28],
            ],
        ),
        (
            {"gtk": [], "qt": [], "platform": []},
            [
                [g, q, p]
                for p, c in ((F28, "c8"), (F29, "c9"))
                for g in (f"gtk:3:0:{c}", f"gtk:4:0:{c}")
                for q in (f"qt:4:0:{c}", f"qt:5:0:{c}")
            ],
        ),
        ({"mess": []}, [["mess:1:0:c0", "gtk:3:0:c8", F28]]),
        (
            {"mess": [], "platform": []},
            [["mess:1:0:c0", "gtk:3:0:c8", F28], ["mess:1:0:c0", "gtk:4:0:c9", F29]],
        ),
    ],
)
def test_one_solution_per_stream_combination(
    buildrequires: dict[str, list[str]], expected: list[list[str]]
) -> None:
    """MBS's test_solve: every satisfiable combination of streams, once."""
    assert solve_all(classic(), buildrequires) == {frozenset(e) for e in expected}


def virtual() -> list[Candidate]:
    """test_solve_virtual_streams's modules: el8.x platforms and builds on them."""
    on = "platform:{}:0:c0".format
    return [
        base(on("el8.0.0"), virtual=["el8"]),
        base(on("el8.1.0"), virtual=["el8"]),
        base(on("el8.2.0.z"), virtual=["el8"]),
        base(on("el7.6.0"), virtual=["el7"]),
        build("gtk:3:0:c8", requires=[{"platform": ["el8"]}], on=on("el8.0.0")),
        build("gtk:3:1:c8", requires=[{"platform": ["el8"]}], on=on("el8.2.0.z")),
        build(
            "mess:1:0:c0",
            requires=[{"gtk": ["3"], "platform": ["el8"]}],
            on=on("el8.1.0"),
        ),
    ]


P = "platform:{}:0:c0".format


@pytest.mark.parametrize(
    ("buildrequires", "expected"),
    [
        (
            {"platform": []},
            [[P("el8.2.0.z")], [P("el8.1.0")], [P("el8.0.0")], [P("el7.6.0")]],
        ),
        ({"platform": ["el8"]}, [[P("el8.2.0.z")], [P("el8.1.0")], [P("el8.0.0")]]),
        ({"platform": ["el8.1.0"]}, [[P("el8.1.0")]]),
        # gtk:3 was built on el8.0.0 and el8.2.0.z: el8.1.0 cherry-picks the first.
        ({"platform": ["el8.1.0"], "gtk": ["3"]}, [[P("el8.1.0"), "gtk:3:0:c8"]]),
        ({"platform": ["el8.2.0.z"], "gtk": ["3"]}, [[P("el8.2.0.z"), "gtk:3:1:c8"]]),
        (
            {"platform": ["el8.2.0.z"], "mess": ["1"]},
            [[P("el8.2.0.z"), "mess:1:0:c0", "gtk:3:1:c8"]],
        ),
        (
            {"platform": ["el8.1.0"], "mess": ["1"]},
            [[P("el8.1.0"), "mess:1:0:c0", "gtk:3:0:c8"]],
        ),
        # mess:1 was built on el8.1.0: it cannot serve the older el8.0.0.
        ({"platform": ["el8.0.0"], "mess": ["1"]}, []),
    ],
)
def test_base_stream_versions_pick_compatible_builds(
    buildrequires: dict[str, list[str]], expected: list[list[str]]
) -> None:
    """MBS's test_solve_virtual_streams: x.y.z streams compared by version."""
    assert solve_all(virtual(), buildrequires) == {frozenset(e) for e in expected}


def test_a_new_platform_without_builds_gets_no_sibling() -> None:
    """MBS's test_solve_new_platform: gtk:3 exists for f28 and f29 only."""
    builds = [
        base("platform:f28:0:c0"),
        base("platform:f29:0:c0"),
        base("platform:f30:0:c0"),
        build("gtk:3:0:c8", requires=[{"platform": ["f28"]}]),
        build("gtk:3:0:c9", requires=[{"platform": ["f29"]}]),
    ]
    assert solve_all(builds, {"platform": [], "gtk": ["3"]}) == {
        frozenset({"gtk:3:0:c8", F28}),
        frozenset({"gtk:3:0:c9", F29}),
    }


def test_a_build_requiring_any_platform_serves_an_older_one() -> None:
    """MBS's test_solve_requires_any_platform."""
    builds = [
        base("platform:f28:0:c0"),
        base("platform:f29:0:c0"),
        build("foo:1:0:c8", requires=[{"platform": []}], on="platform:f29:0:c0"),
    ]
    assert solve_all(builds, {"platform": ["f28"], "foo": ["1"]}) == {
        frozenset({"foo:1:0:c8", F28})
    }


@pytest.mark.parametrize(
    "chain",
    [
        # app -> gtk:1 -> bar:1; app -> foo:1 -> bar:2
        [("gtk:1:1:c01", "bar", "1"), ("foo:1:1:c03", "bar", "2")],
        # app -> gtk:1 -> bar:1; app -> foo:1 -> baz:1 -> bar:2
        [("gtk:1:1:c01", "bar", "1"), ("foo:1:1:c03", "baz", "1")],
    ],
)
def test_transitive_stream_collision_is_reported(
    chain: list[tuple[str, str, str]],
) -> None:
    """MBS's test_solve_stream_conflicts: one stream per name, and it says so."""
    builds = [
        base("platform:f29:0:c0"),
        build("bar:1:0:c02", requires=[{"platform": ["f29"]}]),
        build("bar:2:0:c05", requires=[{"platform": ["f29"]}]),
        build("baz:1:1:c04", requires=[{"bar": ["2"]}]),
    ] + [build(nsvc, requires=[{name: [stream]}]) for nsvc, name, stream in chain]
    r = resolver(builds)
    needs = buildtime_requirements({"gtk": ("1",), "foo": ("1",)}, RULES)
    assert list(r.stream_combinations(needs)) == []
    (reason,) = r.reasons
    assert "gtk:1:1:c01 requires bar:[1]" in reason, reason
    assert ("foo:1:1:c03" if chain[1][1] == "bar" else "baz:1:1:c04") in reason
    assert "requires bar:[2]" in reason and "which chose bar:" in reason


def test_newest_version_first_and_backtracks_to_an_older_one() -> None:
    """The newest build wins unless what it requires cannot be had."""
    builds = [
        base("platform:f29:0:c0"),
        build("gtk:3:2:c1", requires=[{"lib": ["9"]}]),
        build("gtk:3:1:c1", requires=[{"lib": ["1"]}]),
        build("lib:1:5:c1", requires=[{"platform": ["f29"]}]),
    ]
    assert solve_all(builds, {"platform": ["f29"], "gtk": ["3"]}) == {
        frozenset({F29, "gtk:3:1:c1", "lib:1:5:c1"})
    }
    builds.append(build("gtk:3:3:c1", requires=[{"lib": ["1"]}]))
    assert solve_all(builds, {"platform": ["f29"], "gtk": ["3"]}) == {
        frozenset({F29, "gtk:3:3:c1", "lib:1:5:c1"})
    }


def test_exclusions_in_a_dependency_s_requires() -> None:
    """``-stream`` in a build's requires excludes, ``[]`` accepts any."""
    builds = [
        base("platform:f29:0:c0"),
        build("lib:1:0:c1"),
        build("lib:2:0:c1"),
        build("gtk:3:0:c1", requires=[{"lib": ["-2"]}]),
        build("qt:5:0:c1", requires=[{"lib": []}]),
    ]
    assert solve_all(builds, {"gtk": ["3"], "lib": ["2"]}) == set()
    assert solve_all(builds, {"qt": ["5"], "lib": ["2"]}) == {
        frozenset({"qt:5:0:c1", "lib:2:0:c1"})
    }


def test_provides_follow_mbs_solvables() -> None:
    """MBS's test_base_module_provides: stream versions for base modules."""
    assert provides(base("platform:f28:3:c0"), RULES) == {"f28": 28.0}
    assert provides(base("platform:latest:5:c8"), RULES) == {"latest": 5.0}
    assert provides(base("platform:el8.1.0:0:c0", virtual=["el8"]), RULES) == {
        "el8.1.0": 80100.0,
        "el8": 80100.0,
    }
    assert provides(build("gtk:3:7:c1"), RULES) == {"3": 7.0}


def test_requirements_pin_base_streams_for_dependencies() -> None:
    """The module wants its x.y.z base exactly; a dependency at least its own."""
    assert requirement("platform", ["el8.1.0"], RULES).wants == (
        StreamWant("el8.1.0", 80100.0),
    )
    assert requirement("platform", ["f29"], RULES).wants == (StreamWant("f29"),)
    clause = runtime_clause(
        build("gtk:3:0:c1", requires=[{"platform": ["el8"]}], on=P("el8.1.0")), RULES
    )
    assert clause == (
        (
            Requirement(
                "platform",
                (StreamWant("el8", 80100.0, at_least=True),),
                by="gtk:3:0:c1",
            ),
        ),
    )
    assert clause[0][0].describe() == "platform:[el8 >= 80100]"


def test_the_step_limit_refuses_instead_of_running_on() -> None:
    """Past max_steps tried builds the resolution is refused (422)."""
    r = resolver(classic(), ResolverRules(max_steps=3))
    needs = buildtime_requirements({"gtk": (), "qt": (), "platform": ()}, RULES)
    with pytest.raises(Unprocessable, match="gave up after trying 3 builds"):
        list(r.stream_combinations(needs))
