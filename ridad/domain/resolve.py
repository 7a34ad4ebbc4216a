"""The dependency resolver of stream expansion: one build per module name.

MBS hands this to libsolv (``MMDResolver``); ridad solves it itself, by
backtracking, because the problem is small (tens of candidate builds), the
search can be bounded and pruned where MBS's product over every candidate
cannot, and a failure can say which requirement broke (docs/modulemd.md §6).

The model is MBS's: a build *provides* its ``name:stream`` (a base module
also each of its virtual streams, at its stream version), *requires* one of
its ``dependencies`` entries' runtime requires, and *conflicts* with every
other build of its name. A base module stream of the ``x.y.z`` form is
required at a version: exactly the requested one by the module being built,
at least the one a dependency was built on by that dependency, so a build
made on ``el8.1.0`` serves ``el8.2.0`` but not ``el8.0.0``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from ridad.domain.candidates import Candidate, StreamMap
from ridad.domain.contexts import StreamSuffixes, is_versioned_stream, stream_version
from ridad.errors import Unprocessable

#: Failure reasons kept for the 422 that says why nothing could be built.
MAX_REASONS = 12


@dataclass(frozen=True)
class StreamWant:
    """One acceptable stream; ``version`` set for an ``x.y.z`` base stream."""

    stream: str
    version: float | None = None
    at_least: bool = False

    def met_by(self, provides: Mapping[str, float]) -> bool:
        """Whether a build providing ``provides`` satisfies this stream."""
        if self.stream not in provides:
            return False
        if self.version is None:
            return True
        found = provides[self.stream]
        return found >= self.version if self.at_least else found == self.version

    def describe(self) -> str:
        """``el8`` or ``el8 >= 80100`` (the stream version MBS compares)."""
        if self.version is None:
            return self.stream
        op = ">=" if self.at_least else "="
        return f"{self.stream} {op} {self.version:g}"


@dataclass(frozen=True)
class Requirement:
    """A need for one build of ``name``; ``by`` says whose, for messages.

    ``wants`` empty means any stream except ``excluded``. ``only_stream``
    pins the build's own stream (one combination of streams at a time).
    """

    name: str
    wants: tuple[StreamWant, ...]
    excluded: tuple[str, ...] = ()
    only_stream: str | None = None
    by: str = "the module"

    def describe(self) -> str:
        """``gtk:[1, 2]``, ``gtk:[all but 2]`` or ``gtk:[any]``."""
        if self.only_stream is not None:
            return f"{self.name}:{self.only_stream}"
        if self.wants:
            shown = ", ".join(w.describe() for w in self.wants)
        elif self.excluded:
            shown = "all but " + ", ".join(self.excluded)
        else:
            shown = "any"
        return f"{self.name}:[{shown}]"


#: Alternatives (one entry of ``dependencies`` each) of requirements that
#: must all hold.
Clause = tuple[tuple[Requirement, ...], ...]


@dataclass(frozen=True)
class ResolverRules:
    """What the resolver needs from the configuration."""

    base_module_names: tuple[str, ...] = ("platform",)
    stream_suffixes: StreamSuffixes = ()
    max_steps: int = 200_000


def provides(candidate: Candidate, rules: ResolverRules) -> dict[str, float]:
    """``stream → version`` that ``candidate`` offers, as MBS's solvables do.

    A base module with a stream version offers its stream and its virtual
    streams at that (unpadded) version; any other build offers its stream
    at its module version.
    """
    if candidate.is_base_module or candidate.name in rules.base_module_names:
        sv = stream_version(
            candidate.stream, right_pad=False, suffixes=rules.stream_suffixes
        )
        offered = {
            vs: sv or float(candidate.version) for vs in candidate.virtual_streams
        }
        offered[candidate.stream] = sv or float(candidate.version)
        return offered
    return {candidate.stream: float(candidate.version)}


def requirement(
    name: str,
    streams: Sequence[str],
    rules: ResolverRules,
    *,
    pin: str | None = None,
    exact: bool = True,
    by: str = "the module",
) -> Requirement:
    """The requirement for ``name`` on ``streams`` as written.

    A base module stream of the ``x.y.z`` form is wanted at its stream
    version, or at ``pin``'s (the stream a dependency was built on): exactly
    when ``exact``, else at least. ``[]`` is any stream; an all-negative
    list any stream but those; in a mixed list the positive streams count.
    """
    positive = [s for s in streams if not s.startswith("-")]
    excluded = (
        tuple(s[1:] for s in streams if s.startswith("-")) if not positive else ()
    )
    wants = []
    for stream in positive:
        basis = pin or stream
        if name in rules.base_module_names and is_versioned_stream(
            basis, rules.stream_suffixes
        ):
            sv = stream_version(basis, right_pad=False, suffixes=rules.stream_suffixes)
            wants.append(StreamWant(stream, sv, at_least=not exact))
        else:
            wants.append(StreamWant(stream))
    return Requirement(name, tuple(wants), excluded, by=by)


def runtime_clause(candidate: Candidate, rules: ResolverRules) -> Clause:
    """What a chosen build needs at run time: one entry of its requires.

    Its base module requires are pinned to the base module stream it was
    built on (MBS's ``_get_base_module_stream_overrides``).
    """
    pins = {nsvc.split(":")[0]: nsvc.split(":")[1] for nsvc in candidate.built_on}
    return tuple(
        tuple(
            requirement(
                name, streams, rules, pin=pins.get(name), exact=False, by=candidate.nsvc
            )
            for name, streams in sorted(entry.items())
        )
        for entry in candidate.requires
    )


def buildtime_requirements(entry: StreamMap, rules: ResolverRules) -> list[Requirement]:
    """The module's own buildrequires of one entry, base modules first."""
    names = sorted(entry, key=lambda n: (n not in rules.base_module_names, n))
    return [requirement(n, entry[n], rules) for n in names]


class Resolver:
    """Backtracking over module names, newest build first.

    ``pool`` maps each name to the builds that may be used for it, newest
    first. Work is counted across calls: past ``rules.max_steps`` tried
    builds the resolution is refused rather than left to run.
    """

    def __init__(
        self, pool: Mapping[str, Sequence[Candidate]], rules: ResolverRules
    ) -> None:
        self._pool = pool
        self._rules = rules
        self._provides: dict[str, dict[str, float]] = {}
        self._clauses: dict[str, Clause] = {}
        self._wanted_by: dict[str, Requirement] = {}
        self.steps = 0
        self.reasons: dict[str, None] = {}

    def matches(self, need: Requirement, build: Candidate) -> bool:
        """Whether ``build`` satisfies ``need``."""
        if need.only_stream is not None and build.stream != need.only_stream:
            return False
        if not need.wants:
            return build.stream not in need.excluded
        offered = self._provides.get(build.nsvc)
        if offered is None:
            offered = self._provides[build.nsvc] = provides(build, self._rules)
        return any(w.met_by(offered) for w in need.wants)

    def options(self, need: Requirement) -> list[Candidate]:
        """The pool's builds that satisfy ``need``, newest first."""
        return [b for b in self._pool.get(need.name, ()) if self.matches(need, b)]

    def solve(self, needs: Sequence[Requirement]) -> dict[str, Candidate] | None:
        """One build per name meeting ``needs`` and everything they pull in.

        :returns: name → build, or None (the reasons are in ``reasons``).
        :raises Unprocessable: past the step limit.
        """
        return self._search({}, tuple(needs))

    def stream_combinations(
        self, needs: Sequence[Requirement]
    ) -> Iterator[dict[str, Candidate]]:
        """One solution per combination of streams of ``needs`` that can be met.

        The streams are fixed one requirement at a time and every prefix is
        solved before it is extended, so a stream that cannot work with the
        ones before it cuts off every combination that starts that way.
        """
        if not needs:
            yield {}
            return
        yield from self._walk(list(needs), 0, ())

    def _walk(
        self,
        needs: list[Requirement],
        depth: int,
        fixed: tuple[Requirement, ...],
    ) -> Iterator[dict[str, Candidate]]:
        for stream in self._streams(needs[depth]):
            pinned = fixed + (replace(needs[depth], only_stream=stream),)
            solution = self.solve(pinned)
            if solution is None:
                continue
            if depth + 1 == len(needs):
                yield solution
            else:
                yield from self._walk(needs, depth + 1, pinned)

    def _streams(self, need: Requirement) -> list[str]:
        """The streams of the builds meeting ``need``; newest base stream first."""
        builds = self.options(need)
        if not builds:
            self._reason(need, "no ready build matches")
        order = {
            b.stream: -(b.stream_version or stream_version(b.stream) or 0.0)
            if b.is_base_module
            else 0.0
            for b in builds
        }
        return sorted(order, key=lambda s: (order[s], s))

    def _search(
        self, chosen: dict[str, Candidate], agenda: tuple[Requirement | Clause, ...]
    ) -> dict[str, Candidate] | None:
        while agenda:
            head = agenda[0]
            if not isinstance(head, Requirement):
                return self._alternatives(chosen, head, agenda[1:])
            present = chosen.get(head.name)
            if present is None:
                return self._choose(chosen, head, agenda[1:])
            if not self.matches(head, present):
                other = self._wanted_by[head.name]
                self._reason(
                    head,
                    f"{other.by} requires {other.describe()}, which chose"
                    f" {present.nsvc}",
                )
                return None
            agenda = agenda[1:]
        return dict(chosen)

    def _alternatives(
        self,
        chosen: dict[str, Candidate],
        clause: Clause,
        rest: tuple[Requirement | Clause, ...],
    ) -> dict[str, Candidate] | None:
        for conjunction in clause:
            found = self._search(chosen, conjunction + rest)
            if found is not None:
                return found
        return None

    def _choose(
        self,
        chosen: dict[str, Candidate],
        need: Requirement,
        rest: tuple[Requirement | Clause, ...],
    ) -> dict[str, Candidate] | None:
        builds = self.options(need)
        if not builds:
            self._reason(need, "no ready build matches")
        for build in builds:
            self._count()
            chosen[need.name] = build
            self._wanted_by[need.name] = need
            clause = self._clause(build)
            found = self._search(chosen, rest + ((clause,) if clause else ()))
            del chosen[need.name]
            del self._wanted_by[need.name]
            if found is not None:
                return found
        return None

    def _clause(self, build: Candidate) -> Clause:
        clause = self._clauses.get(build.nsvc)
        if clause is None:
            clause = self._clauses[build.nsvc] = runtime_clause(build, self._rules)
        return clause

    def _count(self) -> None:
        self.steps += 1
        if self.steps > self._rules.max_steps:
            reasons = list(self.reasons)
            raise Unprocessable(
                "dependency resolution gave up after trying"
                f" {self._rules.max_steps} builds; name fewer streams in"
                " dependencies, or use buildrequire_overrides to pick them"
                + ("; problems met: " + "; ".join(reasons[:3]) if reasons else ""),
                details={"max_steps": self._rules.max_steps, "reasons": reasons},
            )

    def _reason(self, need: Requirement, problem: str) -> None:
        if len(self.reasons) < MAX_REASONS:
            self.reasons[f"{need.by} requires {need.describe()}, but {problem}"] = None
