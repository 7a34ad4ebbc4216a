"""The benchmark harness reads wrk's and py-spy's output right and runs the
benchmarks other branches bring only when they are there (no timings here)."""

from __future__ import annotations

import pytest

from tests.bench import api_load, profile_summary, run

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:1/
  1 threads and 10 connections
  Latency Distribution
     50%    1.52ms
     75%  850.00us
     90%    2.10ms
     99%    1.20s
  7000 requests in 5.00s, 1.00MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   1400.50
"""


def test_wrk_latency_quantiles_are_milliseconds_whatever_the_unit() -> None:
    assert api_load.latency(WRK_OUTPUT, "50%") == 1.52
    assert api_load.latency(WRK_OUTPUT, "75%") == 0.85
    assert api_load.latency(WRK_OUTPUT, "99%") == 1200.0


def test_py_spy_raw_stacks_are_split_into_frames_and_counted() -> None:
    raw = (
        "<module> (twistd:3);show (ridad/api/app.py:180);"
        "_doit (txpostgres/txpostgres.py:250) 7\n"
        "<module> (twistd:3);dumps (json/__init__.py:231) 3\n"
    )
    stacks = profile_summary.parse(raw)
    assert [count for _, count in stacks] == [7, 3]
    assert stacks[0][0][1] == ("show", "ridad/api/app.py")
    assert profile_summary.area(stacks[0][0]).startswith("txpostgres")
    assert profile_summary.area(stacks[1][0]).startswith("JSON")


def test_module_benches_run_as_children_with_their_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``koji`` and ``scheduler`` run ``python -m <module>`` (each makes its
    own database and runs its own reactor)."""
    ran: list[list[str]] = []
    monkeypatch.setattr(
        run.subprocess, "run", lambda argv, check: ran.append(list(argv))
    )
    for bench in run.MODULES:
        run.module_bench(bench)
    assert [argv[1:] for argv in ran] == [
        ["-m", "tests.bench.koji_round_trips"],
        ["-m", "tests.bench.scheduler_scale"],
    ]
