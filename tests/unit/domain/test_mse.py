"""Stream expansion end to end, on the scenarios of MBS's test_mse.py."""

from __future__ import annotations

import re

import pytest

from ridad.domain.candidates import CandidatePool
from ridad.domain.contexts import build_context, module_context, runtime_context
from ridad.domain.modulemd import Dependencies
from ridad.domain.mse import NOTHING_SATISFIED, ExpansionRules, expand, first_names
from ridad.errors import Unprocessable
from tests.unit.domain.mse_fixtures import (
    base,
    build,
    buildrequired_streams,
    chosen_nsvcs,
    default_modules,
    deps,
    required_streams,
    run,
)

F28, F29 = "platform:f28:0:c10", "platform:f29:0:c11"


def test_contexts_are_mbs_values() -> None:
    """MBS's test_generate_expanded_mmds_context: {e1e005fb, ce132a1e}."""
    entry = deps({"platform": ["f28"], "gtk": ["1", "2"]}, {"gtk": ["1", "2"]})
    siblings = run([entry], default_modules())
    assert {s.context for s in siblings} == {"e1e005fb", "ce132a1e"}
    assert {s.contexts.build_context for s in siblings} == {
        build_context({"gtk": "1", "platform": "f28"}),
        build_context({"gtk": "2", "platform": "f28"}),
    }


@pytest.mark.parametrize(
    ("entry", "expected_xmd", "expected_buildrequires"),
    [
        (
            deps({"platform": ["f28"], "gtk": ["1", "2"]}, {"gtk": ["1", "2"]}),
            [{F28, "gtk:2:0:c4"}, {F28, "gtk:1:0:c2"}],
            [{"gtk:1", "platform:f28"}, {"gtk:2", "platform:f28"}],
        ),
        (
            deps(
                {"platform": ["f28"], "foo": ["1"], "gtk": ["1", "2"]}, {"foo": ["1"]}
            ),
            [{"foo:1:0:c2", "gtk:1:0:c2", F28}, {"foo:1:0:c2", "gtk:2:0:c4", F28}],
            [{"foo:1", "gtk:1", "platform:f28"}, {"foo:1", "gtk:2", "platform:f28"}],
        ),
        (
            deps(
                {"platform": ["f28"], "gtk": ["1"], "foo": ["1"]},
                {"gtk": ["1"], "foo": ["1"]},
            ),
            [{"foo:1:0:c2", "gtk:1:0:c2", F28}],
            [{"foo:1", "gtk:1", "platform:f28"}],
        ),
        (
            deps(
                {"platform": ["f28"], "gtk": ["-2"], "foo": ["-2"]},
                {"gtk": ["-2"], "foo": ["-2"]},
            ),
            [{"foo:1:0:c2", "gtk:1:0:c2", F28}],
            [{"foo:1", "gtk:1", "platform:f28"}],
        ),
        (
            deps({"platform": ["f28"], "gtk": ["1"]}, {"gtk": ["1"], "foo": ["1"]}),
            [{"gtk:1:0:c2", F28}],
            [{"gtk:1", "platform:f28"}],
        ),
        (
            deps({"platform": ["f28"], "gtk": ["1"]}, {"gtk": []}),
            [{"gtk:1:0:c2", F28}],
            [{"gtk:1", "platform:f28"}],
        ),
        (
            deps({"platform": ["f29"], "app": ["1"]}),
            [{"app:1:0:c6", F29}],
            [{"app:1", "platform:f29"}],
        ),
    ],
)
def test_buildrequires_of_each_sibling(
    entry: Dependencies,
    expected_xmd: list[set[str]],
    expected_buildrequires: list[set[str]],
) -> None:
    """MBS's test_generate_expanded_mmds_buildrequires."""
    siblings = run([entry], default_modules())
    assert chosen_nsvcs(siblings) == {frozenset(e) for e in expected_xmd}
    assert buildrequired_streams(siblings) == {
        frozenset(e) for e in expected_buildrequires
    }
    for sibling in siblings:
        assert {
            f"{n}:{i['stream']}:{i['version']}:{i['context']}"
            for n, i in sibling.buildrequires.items()
        } == {c.nsvc for c in sibling.chosen.values()}


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            deps({"platform": [], "gtk": ["1", "2"]}, {"gtk": ["1", "2"]}),
            [{"gtk:1"}, {"gtk:2"}],
        ),
        (
            deps({"platform": [], "gtk": ["1"]}, {"gtk": ["1", "2"]}),
            [{"gtk:1", "gtk:2"}],
        ),
        (
            deps(
                {"platform": [], "gtk": ["1"], "foo": ["1"]},
                {"gtk": ["1"], "foo": ["1"]},
            ),
            [{"foo:1", "gtk:1"}],
        ),
        (
            deps(
                {"platform": [], "gtk": ["-2"], "foo": ["-2"]},
                {"gtk": ["-2"], "foo": ["-2"]},
            ),
            [{"foo:1", "gtk:1"}],
        ),
        (
            deps({"platform": [], "gtk": ["1"], "foo": ["1"]}, {"gtk": [], "foo": []}),
            [set()],
        ),
    ],
)
def test_requires_of_each_sibling(
    entry: Dependencies, expected: list[set[str]]
) -> None:
    """MBS's test_generate_expanded_mmds_requires."""
    assert required_streams(run([entry], default_modules())) == {
        frozenset(e) for e in expected
    }


def test_every_platform_stream_gets_its_sibling() -> None:
    """``platform: []`` over f28 and f29: one build per platform stream."""
    siblings = run([deps({"platform": [], "gtk": ["1"]})], default_modules())
    assert chosen_nsvcs(siblings) == {
        frozenset({F29, "gtk:1:0:c3"}),
        frozenset({F28, "gtk:1:0:c2"}),
    }
    assert [s.base_stream for s in siblings] == ["f29", "f28"]
    assert len({s.context for s in siblings}) == 2


def test_three_platforms_two_compatible() -> None:
    """Compatible platforms do not merge: each stream is its own sibling,
    and a build made on the older compatible one is cherry-picked."""
    el810 = base("platform:el8.1.0:0:c1", virtual=["el8"])
    el820 = base("platform:el8.2.0:0:c1", virtual=["el8"])
    el9 = base("platform:el9.0.0:0:c1", virtual=["el9"])
    builds = [
        el810,
        el820,
        el9,
        build("gtk:3:1:c1", requires=[{"platform": ["el8"]}], on=el810.nsvc),
        build("gtk:3:2:c2", requires=[{"platform": ["el9"]}], on=el9.nsvc),
    ]
    siblings = run([deps({"platform": [], "gtk": ["3"]}, {"platform": []})], builds)
    assert chosen_nsvcs(siblings) == {
        frozenset({el9.nsvc, "gtk:3:2:c2"}),
        frozenset({el820.nsvc, "gtk:3:1:c1"}),
        frozenset({el810.nsvc, "gtk:3:1:c1"}),
    }
    assert [s.base_stream for s in siblings] == ["el9.0.0", "el8.2.0", "el8.1.0"]


def test_a_virtual_stream_names_the_newest_base_that_offers_it() -> None:
    """``platform:el8`` with no such stream means el8.2.0; requires keep el8."""
    builds = [
        base("platform:el8.1.0:0:c1", virtual=["el8"]),
        base("platform:el8.2.0:0:c1", virtual=["el8"]),
    ]
    (sibling,) = run([deps({"platform": ["el8"]}, {"platform": ["el8"]})], builds)
    assert sibling.base_stream == "el8.2.0"
    assert sibling.dependencies == deps(
        {"platform": ["el8.2.0"]}, {"platform": ["el8"]}
    )


def test_the_newest_compatible_build_is_chosen() -> None:
    """Of two ready builds of gtk:3 the newer; one made on a newer base never."""
    el810 = base("platform:el8.1.0:0:c1", virtual=["el8"])
    el820 = base("platform:el8.2.0:0:c1", virtual=["el8"])
    builds = [
        el810,
        el820,
        build("gtk:3:1:c1", requires=[{"platform": ["el8"]}], on=el810.nsvc),
        build("gtk:3:2:c1", requires=[{"platform": ["el8"]}], on=el810.nsvc),
        build("gtk:3:3:c1", requires=[{"platform": ["el8"]}], on=el820.nsvc),
    ]
    (on810,) = run([deps({"platform": ["el8.1.0"], "gtk": ["3"]})], builds)
    assert on810.chosen["gtk"].nsvc == "gtk:3:2:c1"
    (on820,) = run([deps({"platform": ["el8.2.0"], "gtk": ["3"]})], builds)
    assert on820.chosen["gtk"].nsvc == "gtk:3:3:c1"


def test_xmd_buildrequires_hold_the_whole_resolution() -> None:
    """The base module and transitive requires are recorded, MBS's fields."""
    f29 = base("platform:f29:0:c1")
    builds = [
        f29,
        build(
            "lib:1:4:c9",
            requires=[{"platform": ["f29"]}],
            on=f29.nsvc,
            filtered=["lib-devel-0:1.0-1.module_f29"],
        ),
        build("gtk:3:7:c2", requires=[{"lib": ["1"]}], on=f29.nsvc),
    ]
    (sibling,) = run([deps({"platform": ["f29"], "gtk": ["3"]})], builds)
    assert sibling.buildrequires["lib"] == {
        "stream": "1",
        "version": "4",
        "context": "c9",
        "koji_tag": "module-lib-1-4-c9",
        "ref": "commit-c9",
        "filtered_rpms": ["lib-devel-0:1.0-1.module_f29"],
        "base_module": False,
        "module_build_id": None,
    }
    assert sibling.buildrequires["platform"]["base_module"] is True
    assert sibling.contexts.build_context == build_context(
        {"gtk": "3", "lib": "1", "platform": "f29"}
    )
    assert sibling.contexts.build_context_no_bms == build_context(
        {"gtk": "3", "lib": "1"}
    )
    assert sibling.mse is True


def test_alternatives_and_mbs_runtime_context_over_the_other_entries() -> None:
    """Each entry its siblings; MBS keeps the other entries when hashing."""
    first = deps({"platform": ["f28"], "gtk": ["1"]}, {"gtk": ["1"]})
    second = deps({"platform": ["f29"], "gtk": ["2"]}, {"gtk": ["2"]})
    siblings = run([first, second], default_modules())
    assert [s.dependencies_index for s in siblings] == [0, 1]
    assert siblings[0].dependencies == first
    runtime = runtime_context([Dependencies(requires={"gtk": ("1", "2")})])
    for sibling in siblings:
        assert sibling.contexts.runtime_context == runtime
        assert sibling.context == module_context(
            sibling.contexts.build_context, runtime
        )


def test_equal_alternatives_count_once() -> None:
    """Two entries that expand alike give one sibling, not a duplicate NSVC."""
    entry = deps({"platform": ["f28"], "gtk": ["1"]})
    assert len(run([entry, entry], default_modules())) == 1


def test_overrides_replace_the_streams() -> None:
    """``buildrequire_overrides`` / ``require_overrides`` as in MBS."""
    entry = deps({"platform": [], "gtk": ["1"]}, {"gtk": ["1"]})
    siblings = run(
        [entry],
        default_modules(),
        buildrequire_overrides={"platform": ("f29",)},
        require_overrides={"gtk": ("1", "2")},
    )
    assert chosen_nsvcs(siblings) == {frozenset({F29, "gtk:1:0:c3"})}
    assert required_streams(siblings) == {frozenset({"gtk:1", "gtk:2"})}


def test_no_combination_names_what_failed() -> None:
    """422 with MBS's sentence, then each reason."""
    builds = [
        base("platform:f29:0:c1"),
        build("gtk:3:0:c1", requires=[{"lib": ["2"]}], on="platform:f29:0:c1"),
    ]
    with pytest.raises(Unprocessable) as raised:
        run([deps({"platform": ["f29"], "gtk": ["3"]})], builds)
    assert raised.value.message.startswith(NOTHING_SATISFIED + ": ")
    assert "gtk:3:0:c1 requires lib:[2], but no ready build matches" in (
        raised.value.message
    )
    assert raised.value.details["reasons"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (deps({"platform": ["f40"]}), "None of the base module (platform) streams"),
        (deps({"gtk": ["1"]}), "None of the base module (platform) streams"),
        (
            deps({"platform": ["f28"], "gtk": ["9"]}),
            "Cannot find any module builds for gtk:9",
        ),
        (
            deps({"platform": ["f28"], "app": ["1"]}),
            "Cannot find any module builds for app:1 built on platform:f28:0:c10",
        ),
        (deps({"platform": ["f28"], "nope": []}), "buildrequires nope: [] stands for"),
        (deps({"platform": ["-f28", "-f29"]}), "but the excluded ones"),
    ],
)
def test_refusals_before_solving(entry: Dependencies, message: str) -> None:
    """MBS's 422s for what cannot be gathered, with what is missing."""
    with pytest.raises(Unprocessable, match=re.escape(message)):
        run([entry], default_modules())


def test_too_many_siblings_are_refused() -> None:
    """Past max_expansions the submission is refused, not half built."""
    f = base("platform:f1:0:c0")
    builds = [f] + [
        build(f"m{i}:{s}:0:c0", on=f.nsvc) for i in range(3) for s in range(3)
    ]
    entry = deps({"platform": ["f1"], "m0": [], "m1": [], "m2": []})
    assert len(run([entry], builds, ExpansionRules(max_expansions=27))) == 27
    with pytest.raises(Unprocessable, match="more than 26 module builds") as raised:
        run([entry], builds, ExpansionRules(max_expansions=26))
    assert raised.value.details == {"max_expansions": 26}


def test_a_loader_in_rounds_gathers_what_expansion_needs() -> None:
    """First the named modules and base modules, then what they require."""
    everything = CandidatePool.of(default_modules() + [
        build("lib:1:0:c1", on=F29),
        build("top:1:0:c1", requires=[{"lib": ["1"]}], on=F29),
    ])  # fmt: skip
    entry = deps({"platform": ["f29"], "top": ["1"]})
    pool = CandidatePool()
    names = first_names([entry], ExpansionRules())
    while names:
        pool.add([b for n in names for b in everything.candidates(n)], names)
        names = pool.unloaded_requires()
    assert set(pool.by_name) == {"platform", "top", "lib"}
    (sibling,) = expand([entry], pool, ExpansionRules())
    assert set(sibling.chosen) == {"platform", "top", "lib"}
