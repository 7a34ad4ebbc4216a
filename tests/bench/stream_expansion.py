"""How long stream expansion takes on a module with 10 buildrequires of 5 streams.

``python -m tests.bench.stream_expansion`` (also ``make bench``, ``--only
mse``). Pure CPU, no database. Five cases, each printed with its time:

- ``refuse``: every one of the 5^10 = 9,765,625 combinations is buildable
  (MBS would create them all); ridad stops at ``max_expansions`` (64) + 1
  and refuses with a 422;
- ``enumerate-N``: the same with the limit raised to N, for the cost of
  one sibling (and what all 9.8M would take);
- ``per-platform``: ``platform: []`` over 5 platforms, each stream of each
  module built on one platform only: 5 siblings out of 5^11 combinations,
  found by pruning;
- ``dead-end``: the last buildrequire conflicts with the nine before it
  (a library stream), so nothing can be built and every prefix is
  satisfiable: the resolver's step limit (200,000 tries) refuses it.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from ridad.domain.candidates import Candidate, CandidatePool
from ridad.domain.contexts import stream_version
from ridad.domain.modulemd import Dependencies
from ridad.domain.mse import ExpansionRules, expand
from ridad.errors import Unprocessable

NAMES, STREAMS = 10, 5


def _base(stream: str) -> Candidate:
    return Candidate(
        name="platform",
        stream=stream,
        version=1,
        context="00000000",
        koji_tag=f"{stream}-build",
        is_base_module=True,
        stream_version=stream_version(stream),
    )


def _build(name: str, stream: str, on: Candidate, requires: dict) -> Candidate:
    return Candidate(
        name=name,
        stream=stream,
        version=20260101000000,
        context=f"c{on.stream}",
        koji_tag=f"module-{name}-{stream}",
        requires=({"platform": (on.stream,), **requires},),
        built_on=(on.nsvc,),
    )


def all_buildable() -> tuple[CandidatePool, Dependencies]:
    """One platform; each of 10 modules has 5 streams built on it."""
    f40 = _base("f40")
    builds = [f40] + [
        _build(f"m{i}", str(s), f40, {}) for i in range(NAMES) for s in range(STREAMS)
    ]
    entry = Dependencies(
        buildrequires={"platform": ("f40",), **{f"m{i}": () for i in range(NAMES)}}
    )
    return CandidatePool.of(builds), entry


def per_platform() -> tuple[CandidatePool, Dependencies]:
    """Five platforms; stream s of every module is built on platform s only."""
    bases = [_base(f"f{40 + s}") for s in range(STREAMS)]
    builds = bases + [
        _build(f"m{i}", str(s), bases[s], {})
        for i in range(NAMES)
        for s in range(STREAMS)
    ]
    entry = Dependencies(
        buildrequires={"platform": (), **{f"m{i}": () for i in range(NAMES)}}
    )
    return CandidatePool.of(builds), entry


def dead_end() -> tuple[CandidatePool, Dependencies]:
    """m0..m8 require lib:1, m9 requires lib:2: no combination works."""
    pool, entry = all_buildable()
    f40 = pool.candidates("platform")[0]
    lib = [_build("lib", s, f40, {}) for s in ("1", "2")]
    builds = [f40, *lib] + [
        _build(f"m{i}", str(s), f40, {"lib": ("2" if i == NAMES - 1 else "1",)})
        for i in range(NAMES)
        for s in range(STREAMS)
    ]
    return CandidatePool.of(builds), entry


def timed(label: str, run: Callable[[], object]) -> float:
    """Run once, print the outcome and the time."""
    start = time.perf_counter()
    try:
        result = run()
        outcome = f"{len(result)} siblings"  # type: ignore[arg-type]
    except Unprocessable as e:
        outcome = f"422: {e.message[:90]}"
    elapsed = time.perf_counter() - start
    print(f"  {label:<18} {elapsed * 1000:10.1f} ms  {outcome}")
    return elapsed


def main(enumerate_up_to: int = 10_000) -> None:
    """Print the figures for docs/modulemd.md §6."""
    print(f"stream expansion, {NAMES} buildrequires x {STREAMS} streams:")
    pool, entry = all_buildable()
    timed("refuse (64)", lambda: expand([entry], pool, ExpansionRules()))
    rules = ExpansionRules(max_expansions=enumerate_up_to, max_steps=10**9)
    took = timed(f"enumerate-{enumerate_up_to}", lambda: expand([entry], pool, rules))
    total = STREAMS**NAMES
    print(f"  -> {took / enumerate_up_to * 1e6:.0f} us a sibling; all {total:,}"
          f" would take ~{took / enumerate_up_to * total / 60:.0f} min")  # fmt: skip
    pool, entry = per_platform()
    timed("per-platform", lambda: expand([entry], pool, ExpansionRules()))
    pool, entry = dead_end()
    timed("dead-end", lambda: expand([entry], pool, ExpansionRules()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--enumerate", type=int, default=10_000)
    main(parser.parse_args().enumerate)
