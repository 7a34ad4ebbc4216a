"""Module stream expansion: one submitted modulemd, one module build per combination.

``expand`` takes the submitted ``dependencies`` (several entries are
alternatives, ``[]`` every stream that exists, ``-stream`` an exclusion),
the two override parameters and a ``CandidateSource``, and returns the MSE
siblings: per entry of ``dependencies`` and per distinct combination of
buildrequired streams that can be satisfied, the exact build chosen for
every module in the buildroot, the ``xmd.mbs.buildrequires`` to record, the
expanded ``dependencies`` entry and the contexts, as MBS computes them.

Pure and synchronous: the submission runs it off the reactor thread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ridad.domain.candidates import Candidate, CandidateSource
from ridad.domain.contexts import Contexts, StreamSuffixes, contexts
from ridad.domain.modulemd import Dependencies
from ridad.domain.mse_pool import expand_entry, gather, resolve_virtual_streams
from ridad.domain.overrides import Overrides, apply_overrides
from ridad.domain.resolve import Resolver, ResolverRules, buildtime_requirements
from ridad.errors import Unprocessable

#: MBS's words when nothing can be built; ridad answers 422 and says why.
NOTHING_SATISFIED = (
    "No dependency combination was satisfied. Please verify the buildrequires"
    " in your modulemd have previously been built"
)


@dataclass(frozen=True)
class ExpansionRules:
    """The configuration expansion follows.

    ``max_expansions`` bounds the siblings of one submission (MBS has no
    bound: ten buildrequires of five streams each would be 9,765,625
    builds); ``max_steps`` bounds the builds the resolver may try.
    """

    base_module_names: tuple[str, ...] = ("platform",)
    stream_suffixes: StreamSuffixes = ()
    max_expansions: int = 64
    max_steps: int = 200_000

    def resolver_rules(self) -> ResolverRules:
        """The part of these rules the resolver reads."""
        return ResolverRules(
            base_module_names=self.base_module_names,
            stream_suffixes=self.stream_suffixes,
            max_steps=self.max_steps,
        )


@dataclass(frozen=True)
class Expansion:
    """One MSE sibling: what it is built against and how it is named.

    ``chosen`` holds every module of the resolution (the buildrequires,
    what they require, and the base module), by name. ``dependencies`` is
    the one entry the sibling's modulemd keeps, each buildrequire on the
    chosen stream. ``contexts`` are MBS's, which also hash the other
    entries of a multi-entry ``dependencies`` (MBS leaves them in the
    sibling's modulemd).
    """

    dependencies_index: int
    chosen: Mapping[str, Candidate]
    buildrequires: Mapping[str, Mapping[str, Any]]
    dependencies: Dependencies
    contexts: Contexts
    base_module: Candidate | None
    mse: bool = True

    @property
    def context(self) -> str:
        """The C of the sibling's NSVC."""
        return self.contexts.context

    @property
    def base_stream(self) -> str | None:
        """The stream of the base module, whose version prefixes the module's."""
        return self.base_module.stream if self.base_module else None


def expand(
    dependencies: Sequence[Dependencies],
    source: CandidateSource,
    rules: ExpansionRules,
    *,
    buildrequire_overrides: Overrides | None = None,
    require_overrides: Overrides | None = None,
) -> list[Expansion]:
    """Every module build the submitted ``dependencies`` stand for.

    In the order of the entries, then newest base module stream first; two
    combinations that would get the same context count once.

    :raises InvalidRequest: an override names no module of the document.
    :raises Unprocessable: nothing can be built (the message names what
        could not be satisfied), or more than ``rules.max_expansions``
        builds, or more than ``rules.max_steps`` tries.
    """
    entries = apply_overrides(
        dependencies or (Dependencies(),),
        buildrequire_overrides or {},
        require_overrides or {},
    )
    entries = resolve_virtual_streams(entries, source, rules.base_module_names)
    expanded = [expand_entry(entry, source) for entry in entries]
    pool = gather(expanded, source, rules.base_module_names, rules.stream_suffixes)
    resolver_rules = rules.resolver_rules()
    resolver = Resolver(pool, resolver_rules)
    found: dict[str, Expansion] = {}
    for index, streams in enumerate(expanded):
        needs = buildtime_requirements(streams, resolver_rules)
        for solution in resolver.stream_combinations(needs):
            sibling = sibling_of(index, entries, solution, rules)
            found.setdefault(sibling.context, sibling)
            if len(found) > rules.max_expansions:
                raise _too_many(rules.max_expansions)
    if not found:
        reasons = list(resolver.reasons)
        raise Unprocessable(
            NOTHING_SATISFIED + (": " + "; ".join(reasons) if reasons else ""),
            details={"reasons": reasons},
        )
    return list(found.values())


def first_names(
    dependencies: Sequence[Dependencies], rules: ExpansionRules
) -> set[str]:
    """The names whose ready builds a loader fetches first.

    Every buildrequired name and every base module name; then, until
    ``CandidatePool.unloaded_requires`` is empty, the names those builds
    require. Overrides replace streams, never names, so they change nothing.
    """
    return {n for e in dependencies for n in e.buildrequires} | set(
        rules.base_module_names
    )


def sibling_of(
    index: int,
    entries: Sequence[Dependencies],
    solution: Mapping[str, Candidate],
    rules: ExpansionRules,
) -> Expansion:
    """The sibling for one solution of entry ``index``."""
    entry = entries[index]
    written = expanded_dependencies(entry, {n: c.stream for n, c in solution.items()})
    hashed = [e for e in entries if not same_entry(e, entry)] + [written]
    base = next((solution[n] for n in rules.base_module_names if n in solution), None)
    return Expansion(
        dependencies_index=index,
        chosen=dict(sorted(solution.items())),
        buildrequires={
            name: xmd_buildrequire(build, rules)
            for name, build in sorted(solution.items())
        },
        dependencies=written,
        contexts=contexts(
            {n: c.stream for n, c in solution.items()}, hashed, rules.base_module_names
        ),
        base_module=base,
    )


def expanded_dependencies(
    entry: Dependencies, chosen: Mapping[str, str]
) -> Dependencies:
    """The entry a sibling's modulemd keeps (MBS's rules).

    Each buildrequire names the chosen stream. A require that is not
    buildrequired, or whose streams differ from the buildrequire's as
    written, stays as written; otherwise it names the chosen stream too.
    """
    buildrequires = {name: (chosen[name],) for name in entry.buildrequires}
    requires = {}
    for name, streams in entry.requires.items():
        listed = entry.buildrequires.get(name)
        if listed is None or set(listed) != set(streams):
            requires[name] = tuple(streams)
        else:
            requires[name] = (chosen[name],)
    return Dependencies(buildrequires=buildrequires, requires=requires)


def same_entry(a: Dependencies, b: Dependencies) -> bool:
    """Whether two entries are equal as libmodulemd compares them (as sets)."""

    def norm(side: Mapping[str, Sequence[str]]) -> dict[str, frozenset[str]]:
        return {name: frozenset(streams) for name, streams in side.items()}

    return norm(a.buildrequires) == norm(b.buildrequires) and norm(a.requires) == norm(
        b.requires
    )


def xmd_buildrequire(build: Candidate, rules: ExpansionRules) -> dict[str, Any]:
    """One ``xmd.mbs.buildrequires`` entry, with ridad's two own keys.

    MBS records ``stream``, ``version`` (a string), ``context``,
    ``koji_tag``, ``ref`` (the build's commit) and ``filtered_rpms``;
    ridad adds ``base_module`` and ``module_build_id`` for its scheduler.
    """
    return {
        "stream": build.stream,
        "version": str(build.version),
        "context": build.context,
        "koji_tag": build.koji_tag,
        "ref": build.ref,
        "filtered_rpms": list(build.filtered_rpms),
        "base_module": build.is_base_module or build.name in rules.base_module_names,
        "module_build_id": build.build_id,
    }


def _too_many(limit: int) -> Unprocessable:
    return Unprocessable(
        f"the dependencies expand into more than {limit} module builds, the"
        " configured limit (max_expansions); name fewer streams, exclude some"
        " with -stream, or choose them with buildrequire_overrides",
        details={"max_expansions": limit},
    )
