"""Benchmark: the read routes of both APIs on 10,000 builds x 8 components.

Creates a fresh database next to the one ``RIDAD_TEST_DSN`` names (or the
DSN given), migrates and seeds it with SQL, serves the seed and MBS APIs
from a child process (the real site: ``make_site``, the access log on, to a
file) on 127.0.0.1, counts the statements and round trips of one request
of each route, then loads each route with ``wrk`` (or, without it, a
keep-alive socket loop) and prints requests per second.

    python -m tests.bench.api_reads [DSN] [--seconds 5] [--connections 8]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

BUILDS = 10_000
COMPONENTS = 8
DATABASE = "ridad_bench_reads"
ROUTES = {
    "seed single": "/rida/module-builds/{single}",
    "seed list (10)": "/rida/module-builds/?per_page=10",
    "MBS single plain": "/module-build-service/2/module-builds/{single}",
    "MBS single short": "/module-build-service/2/module-builds/{single}?short=true",
    "MBS single verbose": "/module-build-service/2/module-builds/{single}?verbose=true",
    "MBS list plain (10)": "/module-build-service/2/module-builds/?per_page=10",
    "MBS list short (10)": "/module-build-service/2/module-builds/?per_page=10&short=true",
    "MBS list verbose (10)": "/module-build-service/2/module-builds/?per_page=10&verbose=true",
}
SEED_BUILDS = (
    "INSERT INTO module_builds (name, stream, version, context, state, owner,"
    " scmurl, scm_commit, modulemd, build_context, runtime_context, koji_tag,"
    " buildrequires, time_submitted, time_modified, time_completed)"
    " SELECT 'mod' || (i %% 500), 's' || (i %% 7), 20260000000000 + i,"
    " 'c0ffee00', (ARRAY['init','wait','build','done','failed','ready'])"
    "[1 + (i * 7919) %% 6], 'user' || (i %% 300), 'git://h/m.git?#main',"
    " repeat('0', 40), repeat('document: modulemd ', 130), 'b', 'r',"
    ' \'module-mod-\' || i, \'{"platform": {"stream": "f43"}}\', now(), now(),'
    " now() FROM generate_series(1, %s) AS i"
)
SEED_COMPONENTS = (
    "INSERT INTO component_builds (module_build_id, name, package, repository,"
    " ref, scm_commit, batch, state, task_id, task_state, nvr, time_modified)"
    " SELECT b.id, 'pkg' || n, 'pkg' || n, 'git://h/rpms/pkg' || n, 'main',"
    " repeat('1', 40), 2 + n / 3, 'complete', b.id * 10 + n, 'CLOSED',"
    " 'pkg' || n || '-1.0-1.module', now()"
    " FROM module_builds b, generate_series(1, %s) AS n"
)
SEED_TRACE = (
    "INSERT INTO state_trace (module_build_id, time, old_state, new_state)"
    " SELECT id, now(), s.old, s.new FROM module_builds,"
    " (VALUES (NULL, 'init'), ('init', 'wait'), ('wait', 'build')) AS s(old, new)"
)


def _database_dsn(dsn: str, database: str) -> str:
    base = re.sub(r"\bdbname=\S+", "", dsn).strip()
    return f"{base} dbname={database}"


def _recreate(dsn: str) -> str:
    admin = psycopg2.connect(dsn)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        cursor.execute(f"CREATE DATABASE {DATABASE}")
    admin.close()
    return _database_dsn(dsn, DATABASE)


def seed(dsn: str) -> None:
    """Seed the migrated database at ``dsn``."""
    connection = psycopg2.connect(dsn)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(SEED_BUILDS, (BUILDS,))
        cursor.execute(SEED_COMPONENTS, (COMPONENTS,))
        cursor.execute(SEED_TRACE)
        cursor.execute("VACUUM (ANALYZE)")
    connection.close()


def serve(dsn: str, log_path: str) -> None:
    """The child: migrate, seed, count statements per route, then serve."""
    from twisted.internet import reactor
    from twisted.internet.defer import ensureDeferred

    ensureDeferred(_serve(dsn, log_path, reactor)).addErrback(
        lambda f: (f.printTraceback(), reactor.stop())
    )
    reactor.run()


async def _serve(dsn: str, log_path: str, reactor: object) -> None:
    import treq
    from twisted.python import log as legacy_log

    from ridad.config.model import Config, LiveConfig
    from ridad.db.pool import Pool
    from ridad.db.schema import migrate
    from ridad.transitions import Transitions
    from tests.db.documents_rig import api_resources
    from tests.db.statements import StatementLog

    pool = Pool(dsn=dsn, reactor=reactor, size=4)
    await pool.start()
    await migrate(pool)
    seed(dsn)
    resources = api_resources(pool, Transitions(pool=pool, clock=reactor))
    config = LiveConfig(Config())
    site = _site(resources, config, reactor)
    legacy_log.startLogging(open(log_path, "a"), setStdout=False)  # noqa: SIM115
    port = reactor.listenTCP(0, site, interface="127.0.0.1")  # type: ignore[attr-defined]
    base = f"http://127.0.0.1:{port.getHost().port}"
    rows = await pool.run_query("SELECT max(id) AS id FROM module_builds")
    single = int(rows[0]["id"]) - 5
    counts = {}
    log = StatementLog().install(pool)
    for label, path in ROUTES.items():
        log.clear()
        response = await treq.get(base + path.format(single=single))
        body = await response.content()
        counts[label] = {
            "status": response.code,
            "bytes": len(body),
            "round_trips": len(log.uses),
            "statements": sum(len(u) for u in log.uses),
        }
    pool._use = type(pool)._use.__get__(pool)  # type: ignore[method-assign]
    print(json.dumps({"base": base, "single": single, "counts": counts}), flush=True)


def _site(resources: dict[str, object], config: object, reactor: object) -> object:
    from ridad.api.site import make_site

    return make_site(
        api_resource=resources["seed"],  # type: ignore[arg-type]
        by_prefix={b"/module-build-service": resources["mbs"]},  # type: ignore[dict-item]
        config=config,  # type: ignore[arg-type]
        reactor=reactor,
    )


def _socket_load(url: str, seconds: float) -> float:
    """Requests per second of one keep-alive connection (no wrk)."""
    host, port_path = url.removeprefix("http://").split(":", 1)
    port, path = port_path.split("/", 1)
    request = f"GET /{path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    sock = socket.create_connection((host, int(port)))
    done, ends = 0, time.monotonic() + seconds
    started = time.monotonic()
    buffer = b""
    while time.monotonic() < ends:
        sock.sendall(request)
        while True:
            head, sep, rest = buffer.partition(b"\r\n\r\n")
            if sep:
                length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
                if len(rest) >= length:
                    buffer = rest[length:]
                    break
            buffer += sock.recv(65536)
        done += 1
    sock.close()
    return done / (time.monotonic() - started)


def _load(url: str, seconds: float, connections: int) -> float:
    if shutil.which("wrk") is None:
        return _socket_load(url, seconds)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  ! {url}: {errors.group(1)} non-2xx answers", file=sys.stderr)
    return float(found.group(1)) if found else 0.0


def main(argv: list[str] | None = None) -> None:
    """Seed, serve in a child process, load every route, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dsn", nargs="?", default=os.environ.get("RIDAD_TEST_DSN"))
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args(argv)
    if not args.dsn:
        parser.error("give a DSN or set RIDAD_TEST_DSN")
    dsn = _recreate(args.dsn)
    log_path = Path(tempfile.mkdtemp(prefix="ridad-bench-reads-")) / "access.log"
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.bench.api_reads", "--serve", dsn, str(log_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        ready = json.loads(child.stdout.readline())
        _report(ready, args, log_path)
    finally:
        child.terminate()
        child.wait()


def _report(ready: dict, args: argparse.Namespace, log_path: Path) -> None:
    print(f"{BUILDS} builds x {COMPONENTS} components; wrk -c{args.connections}")
    print(f"{'route':24} {'req/s':>8} {'uses':>5} {'stmts':>5} {'bytes':>7}")
    before = log_path.stat().st_size
    total = 0
    for label, path in ROUTES.items():
        url = ready["base"] + path.format(single=ready["single"])
        rate = _load(url, args.seconds, args.connections)
        total += int(rate * args.seconds)
        c = ready["counts"][label]
        print(
            f"{label:24} {rate:8.0f} {c['round_trips']:5d} {c['statements']:5d}"
            f" {c['bytes']:7d}" + ("" if c["status"] == 200 else f" ({c['status']})")
        )
    written = log_path.stat().st_size - before
    print(f"access log: ~{written / max(total, 1):.0f} bytes per request")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3])
    else:
        main()
