"""The ready module builds stream expansion may choose from, as ``Candidate``s.

``load_candidates`` fills a ``CandidatePool`` in rounds: the names the
submission names (and the base module names), then the names those builds
require or were built on, until nothing new is named; one query a round,
on the partial index of ready builds by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ridad.db.pool import Pool
from ridad.domain.candidates import Candidate, CandidatePool
from ridad.domain.contexts import stream_version
from ridad.domain.imported_modules import DEFAULT_CONTEXT
from ridad.domain.modulemd import Dependencies

#: The rounds a load may take: a chain of requires deeper than this is
#: cut (the resolver then reports the missing names).
MAX_ROUNDS = 32

_COLUMNS = (
    "id, name, stream, version, context, koji_tag, scm_commit, requires,"
    " buildrequires, stream_version, virtual_streams, imported"
)


async def load_candidates(
    pool: Pool, names: Iterable[str], base_module_names: Iterable[str]
) -> CandidatePool:
    """The ready builds of ``names`` and of everything they lead to."""
    bases = frozenset(base_module_names)
    loaded = CandidatePool()
    wanted = set(names) | bases
    for _ in range(MAX_ROUNDS):
        if not wanted:
            break
        rows = await pool.run_query(
            f"SELECT {_COLUMNS} FROM module_builds"
            " WHERE state = 'ready' AND NOT scratch AND name = ANY(%s) ORDER BY id",
            (sorted(wanted),),
        )
        loaded.add((candidate_from_row(r, bases) for r in rows), wanted)
        wanted = loaded.unloaded_requires()
    return loaded


def candidate_from_row(row: Mapping[str, Any], bases: frozenset[str]) -> Candidate:
    """One ready ``module_builds`` row as the resolver sees it."""
    buildrequires = row["buildrequires"] or {}
    requires = row["requires"] or {}
    return Candidate(
        name=row["name"],
        stream=row["stream"],
        version=int(row["version"]),
        context=row["context"],
        koji_tag=row["koji_tag"],
        ref=row["scm_commit"] or None,
        requires=({name: tuple(streams) for name, streams in requires.items()},)
        if requires
        else (),
        built_on=tuple(
            base_nsvc(name, info)
            for name, info in sorted(buildrequires.items())
            if name in bases or info.get("base_module")
        ),
        is_base_module=row["name"] in bases,
        stream_version=row["stream_version"],
        virtual_streams=tuple(row["virtual_streams"] or ()),
        build_id=int(row["id"]),
    )


def base_nsvc(name: str, info: Mapping[str, Any]) -> str:
    """The NSVC of the base module a build records it was built on.

    Builds recorded before expansion name only the stream of a
    ``koji.base_module_tags`` entry; that entry is imported at start-up as
    ``name:stream:0:00000000``.
    """
    version = info.get("version") or "0"
    context = info.get("context") or DEFAULT_CONTEXT
    return f"{name}:{info['stream']}:{version}:{context}"


def add_unrecorded_bases(
    pool: CandidatePool,
    dependencies: Sequence[Dependencies],
    base_module_names: Iterable[str],
    base_module_tags: Mapping[str, str] | None,
) -> None:
    """Offer the base modules the configuration names but no row holds yet.

    ``koji.base_module_tags`` entries are imported at start-up as
    ``name:stream:0:00000000``; until that row exists (a store used without
    the start-up, or the moment before it) the same candidate stands in for
    it, so resolution does not depend on when the import ran. Without a
    ``koji`` section (``base_module_tags`` None) ridad builds nothing in Koji
    and a base module stream the modulemd names explicitly is taken as
    written, with no tag, as before base modules were imported.
    """
    bases = frozenset(base_module_names)
    recorded = {c.name_stream for n in bases for c in pool.candidates(n)}
    if base_module_tags is not None:
        offered = dict(base_module_tags)
    else:
        offered = {
            f"{name}:{stream}": None
            for entry in dependencies
            for name, streams in entry.buildrequires.items()
            if name in bases
            for stream in streams
            if stream and not stream.startswith("-")
        }
    pool.add(
        Candidate(
            name=key.split(":", 1)[0],
            stream=key.split(":", 1)[1],
            version=0,
            context=DEFAULT_CONTEXT,
            koji_tag=tag,
            is_base_module=True,
            stream_version=stream_version(key.split(":", 1)[1]),
        )
        for key, tag in sorted(offered.items())
        if key not in recorded and key.split(":", 1)[0] in bases
    )
