"""``make bench``: benchmarks on throwaway databases (never timed tests).

The server is ``RIDAD_TEST_DSN`` when set, else ``host=127.0.0.1
user=postgres dbname=postgres``. Each benchmark gets a database
``ridad_bench_<pid>[_<name>]`` built from the migrations (by the daemon
itself for the module build benchmark), used and dropped.

``python -m tests.bench.run [--only NAME] [--profile] [--modules N]
[--components M] [--json FILE] ...`` (NAME: one of ``BENCHES``); each
reactor-driven benchmark runs the reactor once, so those of ``CHILDREN``
run in child processes of their own when every benchmark runs. ``api``
(wrk against ridad and the framework's ceilings, tests/bench/api_load.py)
runs first, on a quiet machine; ``koji`` and ``scheduler`` run the modules
``tests.bench.koji_round_trips`` and ``tests.bench.scheduler_scale`` as
child processes with their default options (each makes its own throwaway
database).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2

from ridad.db.schema import load_migrations
from tests.bench import (
    api_load,
    git_fairness,
    health_under_load,
    list_plans,
    metrics_scrape,
    module_builds,
    status_page,
    stream_expansion,
    submit_latency,
)

DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
BENCHES = (
    "api",
    "submit",
    "koji",
    "scheduler",
    "plans",
    "builds",
    "health",
    "fairness",
    "mse",
    "reuse",
    "page",
    "events",
    "metrics",
)
#: Run in a child process each when every benchmark runs (one reactor run each).
CHILDREN = ("submit", "health", "fairness", "reuse", "page", "events", "metrics")
#: Benchmarks run as ``python -m <module>`` with their defaults: name -> module.
MODULES = {
    "koji": "tests.bench.koji_round_trips",
    "scheduler": "tests.bench.scheduler_scale",
}


def with_dbname(dsn: str, dbname: str) -> str:
    """``dsn`` pointed at database ``dbname``."""
    stripped = re.sub(r"\bdbname=\S+", "", dsn).strip()
    return f"{stripped} dbname={dbname}"


@contextmanager
def migrated_database(server: str, name: str, *, migrate: bool = True) -> Iterator[str]:
    """Create database ``name``, run the migrations (unless ``migrate`` is
    false: ridad applies them itself at start), yield its DSN, drop it."""
    admin = psycopg2.connect(server)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        dsn = with_dbname(server, name)
        if migrate:
            connection = psycopg2.connect(dsn)
            with connection, connection.cursor() as cursor:
                for migration in load_migrations():
                    cursor.execute(migration.sql)
            connection.close()
        yield dsn
    finally:
        admin.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def reuse_calls() -> None:
    """The Koji calls reuse saves (a pytest measurement with the
    integration fixtures: kojisim, a git server, a daemon), printed."""
    test = os.path.join(os.path.dirname(__file__), "..", "integration",
                        "test_reuse_calls.py")  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "bench", "-s", test], check=True
    )


def module_bench(bench: str) -> None:
    """Run ``MODULES[bench]`` in a child process (its own reactor run and
    throwaway database, on ``RIDAD_TEST_DSN`` or the default server)."""
    subprocess.run([sys.executable, "-m", MODULES[bench]], check=True)


def main() -> None:
    """Run each benchmark on a database of its own."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", choices=BENCHES, help="run only this benchmark")
    parser.add_argument(
        "--profile", action="store_true", help="api: also profile ridad with py-spy"
    )
    module_builds.add_arguments(parser)
    args = parser.parse_args()
    server = os.environ.get("RIDAD_TEST_DSN", DEFAULT_DSN)
    name = f"ridad_bench_{os.getpid()}"
    if args.only in (None, "api"):
        with migrated_database(server, f"{name}_api", migrate=False) as dsn:
            api_load.main(dsn, profile=args.profile)
    if args.only == "submit":
        with migrated_database(server, f"{name}_submit", migrate=False) as dsn:
            submit_latency.main(dsn)
    for bench in MODULES:
        if args.only in (None, bench):
            module_bench(bench)
    if args.only in (None, "mse"):
        stream_expansion.main()
    if args.only in (None, "plans"):
        with migrated_database(server, name) as dsn:
            list_plans.main(dsn)
    if args.only in (None, "builds"):
        with migrated_database(server, f"{name}_builds", migrate=False) as dsn:
            module_builds.main(dsn, args)
    if args.only == "health":
        with migrated_database(server, f"{name}_health", migrate=False) as dsn:
            health_under_load.main(dsn)
    if args.only == "fairness":
        with migrated_database(server, f"{name}_fairness", migrate=False) as dsn:
            git_fairness.main(dsn)
    if args.only == "reuse":
        reuse_calls()
    if args.only == "page":
        with migrated_database(server, f"{name}_page") as dsn:
            status_page.main(dsn)
    if args.only == "events":
        for streams in ("1", "50"):
            command = [sys.executable, "-m", "tests.bench.event_latency"]
            subprocess.run([*command, "--streams", streams], check=True)
    if args.only == "metrics":
        with migrated_database(server, f"{name}_metrics", migrate=False) as dsn:
            metrics_scrape.main(dsn)
    if args.only is None:
        for child in CHILDREN:
            command = [sys.executable, "-m", "tests.bench.run", "--only", child]
            subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
