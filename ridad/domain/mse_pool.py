"""The first half of stream expansion: which streams, and which builds may serve.

Before anything is solved, MBS (``web/mse.py``, ``common/resolve.py``):
1. replaces a base module stream that has no build by the newest base module
   that offers it as a virtual stream (``platform:el8`` → ``el8.2.0``);
2. expands each buildrequired stream list: ``[]`` or only ``-stream``
   entries become every stream with a ready build, less the excluded ones;
3. gathers the candidate builds: for the first base module name (in
   ``base_module_names`` order) each requested stream's newest build and
   the base modules compatible with it; for every other buildrequired
   ``name:stream``, the newest ready version (every context) built on each
   of those base modules; then the same for what those builds require, to
   the end of the chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ridad.domain.candidates import (
    Candidate,
    CandidateSource,
    StreamMap,
    compatible_base_modules,
    newest_first,
    newest_version,
    streams_of,
)
from ridad.domain.contexts import StreamSuffixes, is_versioned_stream, stream_version
from ridad.domain.modulemd import Dependencies
from ridad.errors import Unprocessable


def resolve_virtual_streams(
    entries: Sequence[Dependencies],
    source: CandidateSource,
    base_module_names: Sequence[str],
) -> tuple[Dependencies, ...]:
    """``entries`` with each base module stream that has no build replaced.

    The replacement is the base module that lists the stream among its
    virtual streams with the highest stream version, then version. A stream
    nothing offers is left as written; expansion refuses it later.
    """
    resolved = []
    for entry in entries:
        buildrequires = dict(entry.buildrequires)
        for name in set(buildrequires) & set(base_module_names):
            builds = source.candidates(name)
            buildrequires[name] = tuple(
                _virtual(stream, builds) for stream in buildrequires[name]
            )
        resolved.append(Dependencies(buildrequires, entry.requires))
    return tuple(resolved)


def _virtual(stream: str, builds: Sequence[Candidate]) -> str:
    if stream.startswith("-") or any(b.stream == stream for b in builds):
        return stream
    offering = [b for b in builds if stream in b.virtual_streams]
    if not offering:
        return stream
    best = max(offering, key=lambda b: (b.stream_version or 0.0, b.version))
    return best.stream


def expand_streams(
    name: str, streams: Sequence[str], source: CandidateSource
) -> tuple[str, ...]:
    """The streams one buildrequire stands for, sorted.

    :raises Unprocessable: ``[]`` or exclusions leave no stream with a
        ready build.
    """
    positive = sorted({s for s in streams if not s.startswith("-")})
    if positive:
        return tuple(positive)
    excluded = {s[1:] for s in streams}
    found = tuple(s for s in streams_of(source.candidates(name)) if s not in excluded)
    if not found:
        shown = "[" + ", ".join(streams) + "]"
        raise Unprocessable(
            f"buildrequires {name}: {shown} stands for every stream with a ready"
            f" build{' but the excluded ones' if streams else ''}, and there is"
            f" none; build or import {name} first"
        )
    return found


def expand_entry(
    entry: Dependencies, source: CandidateSource
) -> dict[str, tuple[str, ...]]:
    """Every buildrequire of one entry with its streams expanded."""
    return {
        name: expand_streams(name, streams, source)
        for name, streams in entry.buildrequires.items()
    }


def base_modules(
    expanded: Sequence[StreamMap],
    source: CandidateSource,
    base_module_names: Sequence[str],
    suffixes: StreamSuffixes = (),
) -> list[Candidate]:
    """The base modules a submission may be built on, compatible ones included.

    :raises Unprocessable: none of the buildrequired base module streams
        has a build (MBS requires every module to build on one).
    """
    seen: set[str] = set()
    found: list[Candidate] = []
    for entry in expanded:
        name = next((n for n in base_module_names if n in entry), None)
        if name is None:
            continue
        builds = list(source.candidates(name))
        ordered = sorted(
            entry[name], key=lambda s: stream_version(s, suffixes=suffixes) or -1.0
        )
        for stream in reversed(ordered):
            if f"{name}:{stream}" in seen:
                continue
            latest = newest_version(b for b in builds if b.stream == stream)
            if not latest:
                continue
            versioned = is_versioned_stream(stream, suffixes)
            group = [latest[0]] + [
                b
                for b in compatible_base_modules(latest[0], builds, versioned)
                if b.name_stream not in seen and b.name_stream != latest[0].name_stream
            ]
            seen.update(b.name_stream for b in group)
            found.extend(group)
    if not found:
        names = " or ".join(base_module_names)
        raise Unprocessable(
            f"None of the base module ({names}) streams in the buildrequires"
            " section could be found"
        )
    return found


def built_on(
    builds: Iterable[Candidate], bases: Sequence[Candidate]
) -> list[Candidate]:
    """Per base module, the newest version of ``builds`` built on it."""
    builds = list(builds)
    kept: dict[str, Candidate] = {}
    for base in bases:
        on_base = [b for b in builds if base.nsvc in b.built_on]
        if on_base:
            kept.update((b.nsvc, b) for b in newest_version(on_base))
    return list(kept.values())


def gather(
    expanded: Sequence[StreamMap],
    source: CandidateSource,
    base_module_names: Sequence[str],
    suffixes: StreamSuffixes = (),
) -> dict[str, list[Candidate]]:
    """Name → the builds the resolver may choose from, newest first.

    :raises Unprocessable: no base module, or a buildrequired
        ``name:stream`` with no ready build on any of the base modules.
    """
    bases = base_modules(expanded, source, base_module_names, suffixes)
    pool: dict[str, dict[str, Candidate]] = {}
    for base in bases:
        pool.setdefault(base.name, {})[base.nsvc] = base
    done: set[tuple[str, str]] = set()
    todo: list[Candidate] = []
    for entry in expanded:
        for name, streams in entry.items():
            if name in base_module_names:
                continue
            for stream in streams:
                added = _add(pool, done, name, stream, source, bases)
                if added == []:
                    _refuse_missing(name, stream, source, bases)
                todo.extend(added or ())
    _follow_requires(pool, done, todo, source, bases, base_module_names)
    return {name: newest_first(builds.values()) for name, builds in pool.items()}


def _add(
    pool: dict[str, dict[str, Candidate]],
    done: set[tuple[str, str]],
    name: str,
    stream: str,
    source: CandidateSource,
    bases: Sequence[Candidate],
) -> list[Candidate] | None:
    """Add ``name:stream``'s usable builds; None when it was added before."""
    if (name, stream) in done:
        return None
    done.add((name, stream))
    found = built_on(source.candidates(name, [stream]), bases)
    for build in found:
        pool.setdefault(name, {})[build.nsvc] = build
    return found


def _follow_requires(
    pool: dict[str, dict[str, Candidate]],
    done: set[tuple[str, str]],
    todo: list[Candidate],
    source: CandidateSource,
    bases: Sequence[Candidate],
    base_module_names: Sequence[str],
) -> None:
    """Add what the gathered builds require at run time, transitively.

    Unlike MBS, ``[]`` and ``-stream`` in a dependency's requires stand for
    the streams that exist, and a stream with no build is not refused here:
    it only makes the builds that require it unusable, which the resolver
    reports if it matters.
    """
    while todo:
        build = todo.pop()
        for entry in build.requires:
            for name, streams in entry.items():
                if name in base_module_names:
                    continue
                for stream in _streams_for(name, streams, source):
                    todo.extend(_add(pool, done, name, stream, source, bases) or ())


def _streams_for(
    name: str, streams: Sequence[str], source: CandidateSource
) -> Sequence[str]:
    positive = [s for s in streams if not s.startswith("-")]
    if positive:
        return positive
    excluded = {s[1:] for s in streams}
    return [s for s in streams_of(source.candidates(name)) if s not in excluded]


def _refuse_missing(
    name: str, stream: str, source: CandidateSource, bases: Sequence[Candidate]
) -> None:
    """:raises Unprocessable: MBS's "Cannot find any module builds", explained."""
    message = f"Cannot find any module builds for {name}:{stream}"
    if source.candidates(name, [stream]):
        on = ", ".join(b.nsvc for b in bases)
        message += f" built on {on} (its ready builds were built on other base modules)"
    raise Unprocessable(message)
