"""The resolver against brute force, on random small pools.

For every combination of buildrequired streams the resolver must find a
solution exactly when some assignment of one build (or none) per name
satisfies every requirement, and what it returns must be such an
assignment. Brute force tries them all, so the pools stay small.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from ridad.domain.candidates import Candidate, newest_first
from ridad.domain.resolve import (
    Requirement,
    Resolver,
    ResolverRules,
    buildtime_requirements,
)
from tests.unit.domain.mse_fixtures import base, build

RULES = ResolverRules()
NAMES = ("a", "b", "c")
PLATFORMS = ("el8.0.0", "el8.1.0", "f30")
STREAM_LISTS = st.sampled_from(
    [(), ("1",), ("2",), ("1", "2"), ("-1",), ("-2",)]
)  # fmt: skip


@st.composite
def pools(draw: st.DrawFn) -> list[Candidate]:
    """1-3 platforms, and a few builds of a, b, c requiring each other
    (one or two alternative entries each)."""
    chosen = draw(st.lists(st.sampled_from(PLATFORMS), min_size=1, unique=True))
    out = [
        base(f"platform:{p}:0:c0", virtual=["el8"] if "el8" in p else [])
        for p in chosen
    ]
    for index in range(draw(st.integers(1, 6))):
        name = draw(st.sampled_from(NAMES))
        on = draw(st.sampled_from(chosen))
        entries = []
        for _ in range(draw(st.integers(1, 2))):
            entry = {"platform": ("el8",) if "el8" in on else (on,)}
            for other in draw(
                st.lists(st.sampled_from(NAMES), max_size=2, unique=True)
            ):
                if other != name:
                    entry[other] = draw(STREAM_LISTS)
            entries.append(entry)
        nsvc = (
            f"{name}:{draw(st.sampled_from('12'))}:{draw(st.integers(0, 2))}:x{index}"
        )
        out.append(build(nsvc, requires=entries, on=f"platform:{on}:0:c0"))
    return out


def valid(
    resolver: Resolver,
    needs: Sequence[Requirement],
    assignment: Mapping[str, Candidate],
) -> bool:
    """Whether ``assignment`` meets ``needs`` and every chosen build's requires."""

    def met(need: Requirement) -> bool:
        held = assignment.get(need.name)
        return held is not None and resolver.matches(need, held)

    if not all(met(n) for n in needs):
        return False
    for held in assignment.values():
        clause = resolver._clause(held)
        if clause and not any(all(met(r) for r in conj) for conj in clause):
            return False
    return True


def brute_force_keys(
    resolver: Resolver,
    pool: Mapping[str, Sequence[Candidate]],
    needs: Sequence[Requirement],
) -> set[tuple[str, ...]]:
    names = sorted(pool)
    keys = set()
    for picks in itertools.product(*[[None, *pool[n]] for n in names]):
        assignment = {n: b for n, b in zip(names, picks, strict=True) if b is not None}
        if valid(resolver, needs, assignment):
            keys.add(tuple(assignment[n.name].stream for n in needs))
    return keys


@settings(max_examples=150, deadline=None)
@given(
    pools(),
    st.sampled_from([(), ("el8.1.0",), ("el8.0.0", "f30"), ("el8",)]),
    st.dictionaries(st.sampled_from(NAMES), STREAM_LISTS, max_size=2),
)
def test_resolver_agrees_with_brute_force(
    builds: list[Candidate],
    platform: tuple[str, ...],
    others: dict[str, tuple[str, ...]],
) -> None:
    """Same combinations as brute force, and each solution is valid."""
    by_name: dict[str, list[Candidate]] = {}
    for b in builds:
        by_name.setdefault(b.name, []).append(b)
    pool = {n: newest_first(bs) for n, bs in by_name.items()}
    resolver = Resolver(pool, RULES)
    needs = buildtime_requirements({"platform": platform, **others}, RULES)
    solutions = list(resolver.stream_combinations(needs))
    for solution in solutions:
        assert valid(resolver, needs, solution)
    found = {tuple(s[n.name].stream for n in needs) for s in solutions}
    assert len(found) == len(solutions)
    assert found == brute_force_keys(resolver, pool, needs)
