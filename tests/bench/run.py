"""``make bench``: benchmarks on a throwaway database (never timed tests).

The server is ``RIDAD_TEST_DSN`` when set, else ``host=127.0.0.1
user=postgres dbname=postgres``. A database ``ridad_bench_<pid>`` is built
from the migrations, used and dropped.
"""

from __future__ import annotations

import os
import re

import psycopg2

from ridad.db.schema import load_migrations
from tests.bench import list_plans

DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def with_dbname(dsn: str, dbname: str) -> str:
    """``dsn`` pointed at database ``dbname``."""
    stripped = re.sub(r"\bdbname=\S+", "", dsn).strip()
    return f"{stripped} dbname={dbname}"


def main() -> None:
    """Create the database, run each benchmark, drop it."""
    server = os.environ.get("RIDAD_TEST_DSN", DEFAULT_DSN)
    name = f"ridad_bench_{os.getpid()}"
    admin = psycopg2.connect(server)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    try:
        dsn = with_dbname(server, name)
        connection = psycopg2.connect(dsn)
        with connection, connection.cursor() as cursor:
            for migration in load_migrations():
                cursor.execute(migration.sql)
        connection.close()
        list_plans.main(dsn)
    finally:
        admin.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    main()
