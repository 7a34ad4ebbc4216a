"""Benchmark: ridad's read API under wrk, next to the framework's ceilings.

Seeds a fresh database (built by the migrations) with 10,000 module builds
of 8 components each (a 2.5 KB modulemd each), starts a real ``twistd -n
ridad`` on it and, as processes of their own on the same machine, a Klein
hello-world and a Klein + txpostgres handler running one query
(tests/bench/ceiling_server.py). Then it runs wrk against each of them in
turn, interleaved, three rounds, and prints requests per second (min /
median / max of the rounds), each ridad figure as a ratio of the ceilings'
medians. ``python -m tests.bench.run --only api [--profile]``; ``--profile``
also records ridad with py-spy under load (tests/bench/profile_summary.py).
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import yaml

from tests.gitrepos import free_port
from tests.integration.support import modulemd_text

BUILDS = 10_000
COMPONENTS = 8
ROUNDS = 3
WRK_SECONDS = 5
WRK_CONNECTIONS = 10
TWISTD = Path(sys.executable).parent / "twistd"
REPO = Path(__file__).resolve().parents[2]
STATES = "ARRAY['init','wait','build','done','failed','ready']"

SEED_BUILDS = (
    "INSERT INTO module_builds (name, stream, version, context, state, owner,"
    " scmurl, scm_commit, branch, modulemd, build_context, runtime_context,"
    " buildrequires, requires, koji_tag, time_submitted, time_modified)"
    " SELECT 'mod' || (i %% 500), 's' || (i %% 7), 4020260101000000 + i,"
    f" 'c0ffee00', ({STATES})[1 + (i * 7919) %% 6], 'user' || (i %% 300),"
    " 'git://h/modules/mod' || (i %% 500) || '.git?#' || md5(i::text),"
    " md5(i::text) || 'abcdefgh', 'main', %s, md5('b' || i), md5('r' || i),"
    ' \'{"platform": {"stream": "f40"}}\', \'{"platform": {"stream": "f40"}}\','
    " 'module-mod' || i, now() - make_interval(secs => 10000 - i), now()"
    " FROM generate_series(1, %s) AS i"
)
SEED_COMPONENTS = (
    "INSERT INTO component_builds (module_build_id, name, package, repository,"
    " ref, scm_commit, batch, state, task_id, task_state, nvr, time_modified)"
    " SELECT b.id, 'pkg' || j, 'pkg' || j, 'git://h/rpms/pkg' || j, 'main',"
    " md5(b.id::text || j), 2 + j / 3,"
    " CASE WHEN b.state IN ('done', 'ready') THEN 'complete'"
    "  WHEN b.state = 'build' AND j < 4 THEN 'complete'"
    "  WHEN b.state = 'build' AND j < 6 THEN 'building'"
    "  WHEN b.state = 'failed' AND j = 0 THEN 'failed' ELSE 'waiting' END,"
    " CASE WHEN b.state IN ('init', 'wait') THEN NULL ELSE b.id * 10 + j END,"
    " CASE WHEN b.state IN ('init', 'wait') THEN NULL ELSE 'CLOSED' END,"
    " CASE WHEN b.state IN ('done', 'ready') THEN 'pkg' || j || '-1.0-1' END,"
    " now() FROM module_builds b, generate_series(0, %s) AS j"
)


@dataclass
class Target:
    """One thing wrk measures: a label and a URL path on one server."""

    label: str
    server: str
    path: str


def seed(dsn: str) -> int:
    """Seed the builds and components; return the id the single GETs read."""
    components = {
        f"pkg{j}": {"rationale": f"package {j} of the module " * 4, "buildorder": j}
        for j in range(COMPONENTS)
    }
    text = modulemd_text(components, extra={"description": "A module. " * 120})
    connection = psycopg2.connect(dsn)
    connection.autocommit = True
    cursor = connection.cursor()
    started = time.monotonic()
    cursor.execute(SEED_BUILDS, (text, BUILDS))
    cursor.execute(SEED_COMPONENTS, (COMPONENTS - 1,))
    cursor.execute("VACUUM (ANALYZE)")
    cursor.execute("SELECT max(id) FROM module_builds WHERE state = 'build'")
    (single,) = cursor.fetchone()
    connection.close()
    print(
        f"seeded {BUILDS} builds x {COMPONENTS} components ({len(text)} byte"
        f" modulemd) in {time.monotonic() - started:.1f} s"
    )
    return int(single)


def targets(single: int) -> list[Target]:
    """The ceilings, then the ridad reads, in the order of one round."""
    mbs = "/module-build-service/1/module-builds"
    return [
        Target("ceiling: Klein hello-world", "hello", "/"),
        Target("ceiling: Klein + txpostgres, one query", "query", "/"),
        Target("seed list (10 per page)", "ridad", "/rida/module-builds/?per_page=10"),
        Target("seed single", "ridad", f"/rida/module-builds/{single}"),
        Target("MBS list (10 per page)", "ridad", f"{mbs}/?per_page=10"),
        Target("MBS list verbose", "ridad", f"{mbs}/?per_page=10&verbose=true"),
        Target("MBS single", "ridad", f"{mbs}/{single}"),
        Target("MBS single verbose", "ridad", f"{mbs}/{single}?verbose=true"),
    ]


def spawn(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a session of its own, output to ``log``."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with log.open("wb") as out:
        return subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO,
            start_new_session=True,
        )  # fmt: skip


def wait_ok(url: str, process: subprocess.Popen[bytes], log: Path) -> int:
    """Wait until ``url`` answers 200; return the body's size."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return len(response.read())
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200:\n{log.read_text()[-3000:]}")


def start_servers(dsn: str, scratch: Path) -> tuple[dict[str, Any], int]:
    """Start ridad (it migrates the empty database), seed, start the two
    ceilings; return name -> (process, base URL) and the single build's id."""
    ports = {name: free_port() for name in ("ridad", "hello", "query")}
    config = {
        "listen": f"tcp:{ports['ridad']}:interface=127.0.0.1",
        "database": {"dsn": dsn},
        "state_dir": str(scratch / "state"),
        "scm": {"rpms_default_repository": "git://localhost/rpms/"},
    }
    (scratch / "ridad.yaml").write_text(yaml.safe_dump(config))
    ceiling = [sys.executable, "-m", "tests.bench.ceiling_server"]
    argv = {
        "ridad": [
            str(TWISTD),
            "-n",
            "--pidfile=",
            "--logger=ridad.logs.observer",
            "ridad",
            "--config",
            str(scratch / "ridad.yaml"),
        ],  # fmt: skip
        "hello": [*ceiling, "hello", str(ports["hello"])],
        "query": [*ceiling, "query", str(ports["query"]), dsn],
    }
    servers: dict[str, Any] = {}
    single = 0
    for name, command in argv.items():
        log = scratch / f"{name}.log"
        process = spawn(command, log)
        base = f"http://127.0.0.1:{ports[name]}"
        servers[name] = (process, base)
        wait_ok(base + ("/health" if name == "ridad" else "/"), process, log)
        if name == "ridad":
            single = seed(dsn)
    return servers, single


def stop_servers(servers: dict[str, Any]) -> None:
    """Stop every server started (SIGTERM to its session, then wait)."""
    for process, _ in servers.values():
        try:
            os.killpg(process.pid, 15)
            process.wait(15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, 9)


def wrk(url: str, seconds: int = WRK_SECONDS) -> dict[str, float]:
    """One wrk run against ``url``: requests/s, latency p50/p99 (ms), errors."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rate,
        "p50_ms": latency(out, "50%"),
        "p99_ms": latency(out, "99%"),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",  # type: ignore[dict-item]
    }


def latency(out: str, quantile: str) -> float:
    """A latency quantile of wrk's ``--latency`` output, in milliseconds."""
    found = re.search(rf"^\s+{quantile}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if not found:
        return float("nan")
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
    return round(float(found.group(1)) * scale, 2)


def measure(servers: dict[str, Any], plan: list[Target]) -> dict[str, list[Any]]:
    """Warm each target up, then run ``ROUNDS`` interleaved rounds of wrk."""
    for target in plan:
        url = servers[target.server][1] + target.path
        wait_ok(url, servers[target.server][0], Path("/dev/null"))
        wrk(url, seconds=1)
    runs: dict[str, list[Any]] = {t.label: [] for t in plan}
    for _ in range(ROUNDS):
        for target in plan:
            runs[target.label].append(wrk(servers[target.server][1] + target.path))
    return runs


def print_table(runs: dict[str, list[Any]], sizes: dict[str, int]) -> dict[str, Any]:
    """Print req/s min / median / max and the ratios; return the figures."""
    medians = {k: statistics.median(r["rps"] for r in v) for k, v in runs.items()}
    hello = medians["ceiling: Klein hello-world"]
    query = medians["ceiling: Klein + txpostgres, one query"]
    print(
        f"\nAPI under wrk (-t1 -c{WRK_CONNECTIONS}, {WRK_SECONDS} s a run,"
        f" {ROUNDS} interleaved rounds; {BUILDS} builds x {COMPONENTS} components)"
    )
    head = f"{'':40} {'req/s min / median / max':>26} {'p50 ms':>7} {'p99 ms':>7}"
    print(f"{head} {'bytes':>6} {'/ 1-query':>9} {'/ hello':>8}")
    figures: dict[str, Any] = {}
    for label, rounds in runs.items():
        rates = sorted(r["rps"] for r in rounds)
        p50 = statistics.median(r["p50_ms"] for r in rounds)
        p99 = statistics.median(r["p99_ms"] for r in rounds)
        spread = f"{rates[0]:.0f} / {medians[label]:.0f} / {rates[-1]:.0f}"
        bad = sum(r["non_2xx"] for r in rounds)
        warn = f"  ({bad} non-2xx!)" if bad else ""
        print(
            f"{label:40} {spread:>26} {p50:7.2f} {p99:7.2f} {sizes[label]:6d}"
            f" {medians[label] / query:9.2f} {medians[label] / hello:8.2f}{warn}"
        )
        figures[label] = {
            "rps": rates,
            "p50_ms": p50,
            "p99_ms": p99,
            "ratio_one_query": round(medians[label] / query, 3),
            "ratio_hello": round(medians[label] / hello, 3),
        }
    return figures


def main(dsn: str, *, profile: bool = False) -> dict[str, Any]:
    """Seed the empty database at ``dsn`` (ridad migrates it), measure, print."""
    scratch = Path(tempfile.mkdtemp(prefix="apibench-"))
    servers: dict[str, Any] = {}
    try:
        servers, single = start_servers(dsn, scratch)
        plan = targets(single)
        sizes = {}
        for t in plan:
            url = servers[t.server][1] + t.path
            sizes[t.label] = wait_ok(url, servers[t.server][0], Path("/dev/null"))
        figures = print_table(measure(servers, plan), sizes)
        if profile:
            from tests.bench import profile_summary

            base = servers["ridad"][1]
            for t in plan[2:4]:
                profile_summary.main(servers["ridad"][0].pid, base + t.path, t.label)
    finally:
        stop_servers(servers)
        shutil.rmtree(scratch, ignore_errors=True)
    return figures
