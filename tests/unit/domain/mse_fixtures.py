"""Candidate builds written as MBS's tests write them: an NSVC and its deps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ridad.domain.candidates import Candidate, CandidatePool
from ridad.domain.contexts import stream_version
from ridad.domain.modulemd import Dependencies
from ridad.domain.mse import Expansion, ExpansionRules, expand

RULES = ExpansionRules()


def base(nsvc: str, *, virtual: Sequence[str] = ()) -> Candidate:
    """A base module build, its stream version derived as at import."""
    name, stream, version, context = nsvc.split(":")
    return Candidate(
        name=name,
        stream=stream,
        version=int(version),
        context=context,
        koji_tag=f"{name}-{stream}-build",
        ref=stream,
        is_base_module=True,
        stream_version=stream_version(stream),
        virtual_streams=tuple(virtual),
    )


def build(
    nsvc: str,
    *,
    requires: Sequence[Mapping[str, Sequence[str]]] = (),
    on: str | None = None,
    filtered: Sequence[str] = (),
) -> Candidate:
    """A ready non-base build of ``nsvc``, built on the base module ``on``."""
    name, stream, version, context = nsvc.split(":")
    return Candidate(
        name=name,
        stream=stream,
        version=int(version),
        context=context,
        koji_tag=f"module-{name}-{stream}-{version}-{context}",
        ref=f"commit-{context}",
        requires=tuple({k: tuple(v) for k, v in r.items()} for r in requires),
        built_on=(on,) if on else (),
        filtered_rpms=tuple(filtered),
    )


def deps(
    buildrequires: Mapping[str, Sequence[str]],
    requires: Mapping[str, Sequence[str]] | None = None,
) -> Dependencies:
    """One ``dependencies`` entry."""
    return Dependencies(
        buildrequires={k: tuple(v) for k, v in buildrequires.items()},
        requires={k: tuple(v) for k, v in (requires or {}).items()},
    )


def run(
    entries: Sequence[Dependencies],
    builds: Iterable[Candidate],
    rules: ExpansionRules = RULES,
    **overrides: Mapping[str, tuple[str, ...]],
) -> list[Expansion]:
    """``expand`` over a pool of ``builds``."""
    return expand(entries, CandidatePool.of(builds), rules, **overrides)


def chosen_nsvcs(expansions: Iterable[Expansion]) -> set[frozenset[str]]:
    """Per sibling, the NSVCs of every module it was resolved against."""
    return {frozenset(c.nsvc for c in e.chosen.values()) for e in expansions}


def buildrequired_streams(expansions: Iterable[Expansion]) -> set[frozenset[str]]:
    """Per sibling, ``name:stream`` of its expanded buildrequires."""
    return {
        frozenset(
            f"{n}:{s}" for n, ss in e.dependencies.buildrequires.items() for s in ss
        )
        for e in expansions
    }


def required_streams(expansions: Iterable[Expansion]) -> set[frozenset[str]]:
    """Per sibling, ``name:stream`` of its expanded requires."""
    return {
        frozenset(f"{n}:{s}" for n, ss in e.dependencies.requires.items() for s in ss)
        for e in expansions
    }


def default_modules() -> list[Candidate]:
    """gtk:1, gtk:2, foo:1, foo:2 on platform:f28 and f29; app:1 on f29.

    The set MBS's ``test_mse.py`` builds its expectations on.
    """
    f28, f29 = base("platform:f28:0:c10"), base("platform:f29:0:c11")
    on28 = {"requires": [{"platform": ["f28"]}], "on": f28.nsvc}
    on29 = {"requires": [{"platform": ["f29"]}], "on": f29.nsvc}
    return [
        f28,
        f29,
        build("gtk:1:0:c2", **on28),
        build("gtk:1:0:c3", **on29),
        build("gtk:2:0:c4", **on28),
        build("gtk:2:0:c5", **on29),
        build("foo:1:0:c2", **on28),
        build("foo:1:0:c3", **on29),
        build("foo:2:0:c4", **on28),
        build("foo:2:0:c5", **on29),
        build("app:1:0:c6", **on29),
    ]
