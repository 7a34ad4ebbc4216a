"""The ready module builds a submission may be built against.

Stream expansion reads them through ``CandidateSource``, one synchronous
method, so the resolver stays pure and runs off the reactor thread. The
database layer fills a ``CandidatePool`` in a few rounds (the names the
submission names, then the names those builds require, until nothing new is
named) and hands the pool to the resolver; tests build one directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

#: One ``dependencies`` entry's ``requires`` (or ``buildrequires``):
#: module name → stream list as written.
StreamMap = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Candidate:
    """One ready module build, with what resolution needs to know of it.

    ``requires`` holds the runtime requires of each of its ``dependencies``
    entries (alternatives: any one entry satisfied is enough).
    ``built_on`` lists the NSVCs of the base modules it was built against;
    MBS offers a build only on a base module it was built against (or one
    compatible with the requested one), and pins its base module requires to
    that base module's stream version. ``stream_version`` (right-padded, as
    stored) and ``virtual_streams`` matter for base modules only.
    """

    name: str
    stream: str
    version: int
    context: str
    koji_tag: str | None = None
    ref: str | None = None
    requires: tuple[StreamMap, ...] = ()
    built_on: tuple[str, ...] = ()
    filtered_rpms: tuple[str, ...] = ()
    is_base_module: bool = False
    stream_version: float | None = None
    virtual_streams: tuple[str, ...] = ()
    build_id: int | None = None

    @property
    def nsvc(self) -> str:
        """``name:stream:version:context``."""
        return f"{self.name}:{self.stream}:{self.version}:{self.context}"

    @property
    def name_stream(self) -> str:
        """``name:stream``."""
        return f"{self.name}:{self.stream}"


class CandidateSource(Protocol):
    """Where the ready builds come from (``CandidatePool`` in memory)."""

    def candidates(
        self, name: str, streams: Sequence[str] | None = None
    ) -> Sequence[Candidate]:
        """The ready builds of ``name`` in ``streams`` (every stream when None).

        Every version and context; the resolver keeps the newest it may use.
        """
        ...


@dataclass
class CandidatePool:
    """An in-memory ``CandidateSource``: the builds loaded so far, by name."""

    by_name: dict[str, list[Candidate]] = field(default_factory=dict)
    loaded: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, builds: Iterable[Candidate]) -> CandidatePool:
        """A pool of ``builds``, every name among them counted as loaded."""
        pool = cls()
        pool.add(builds)
        return pool

    def add(self, builds: Iterable[Candidate], names: Iterable[str] = ()) -> None:
        """Add ``builds``, and mark ``names`` (and theirs) as loaded in full."""
        for build in builds:
            self.by_name.setdefault(build.name, []).append(build)
            self.loaded.add(build.name)
        self.loaded.update(names)

    def candidates(
        self, name: str, streams: Sequence[str] | None = None
    ) -> Sequence[Candidate]:
        """The builds of ``name`` held, limited to ``streams`` when given."""
        builds = self.by_name.get(name, [])
        if streams is None:
            return list(builds)
        wanted = set(streams)
        return [b for b in builds if b.stream in wanted]

    def unloaded_requires(self) -> set[str]:
        """Names the held builds require (or were built on) that are not loaded.

        The loader repeats "load these names" until this is empty, so the
        pool holds the whole transitive closure the resolver may walk.
        """
        named: set[str] = set()
        for builds in self.by_name.values():
            for build in builds:
                for entry in build.requires:
                    named.update(entry)
                named.update(nsvc.split(":", 1)[0] for nsvc in build.built_on)
        return named - self.loaded


def streams_of(builds: Iterable[Candidate]) -> list[str]:
    """The distinct streams of ``builds``, sorted."""
    return sorted({b.stream for b in builds})


def newest_first(builds: Iterable[Candidate]) -> list[Candidate]:
    """``builds`` by version, newest first; equal versions by context."""
    return sorted(builds, key=lambda b: (-b.version, b.context))


def newest_version(builds: Iterable[Candidate]) -> list[Candidate]:
    """The builds of the highest version among ``builds``, every context."""
    ordered = newest_first(builds)
    return [b for b in ordered if b.version == ordered[0].version]


def compatible_base_modules(
    requested: Candidate, others: Iterable[Candidate], versioned: bool
) -> list[Candidate]:
    """Base modules MBS treats as compatible with ``requested``.

    A base module without virtual streams has none. Otherwise: same name,
    sharing any virtual stream, and, when the requested stream is of the
    ``x.y.z`` form (``versioned``), a stream version of the same major and
    not newer: ``(sv // 10000) * 10000 <= stream_version <= sv``. Of each
    stream only the newest version is kept (all its contexts).
    """
    if not requested.virtual_streams:
        return []
    shared = set(requested.virtual_streams)
    top = requested.stream_version
    matching = []
    for other in others:
        if other.name != requested.name or not shared & set(other.virtual_streams):
            continue
        if versioned:
            sv = other.stream_version
            if top is None or sv is None or not (top // 10000) * 10000 <= sv <= top:
                continue
        matching.append(other)
    kept: list[Candidate] = []
    for stream in sorted({b.stream for b in matching}):
        kept.extend(newest_version(b for b in matching if b.stream == stream))
    return kept
