"""Benchmark: the module build list queries at 100,000 builds.

Seeds a fresh database (built by the migrations) with 100,000 module builds
and prints EXPLAIN ANALYZE of the queries ``GET /rida/module-builds/`` runs,
for each filter. Run with ``make bench`` (uses ``RIDAD_TEST_DSN`` or a
private cluster, like the tests).
"""

from __future__ import annotations

import sys
import time

import psycopg2

SEED = (
    "INSERT INTO module_builds (name, stream, version, context, state, owner,"
    " scmurl, scm_commit, modulemd, build_context, runtime_context,"
    " time_submitted, time_modified) SELECT 'mod' || (i %% 500), 's' || (i %% 7),"
    " i, 'c0ffee00', (ARRAY['init','wait','build','done','failed','ready'])"
    "[1 + (i * 7919) %% 6], 'user' || (i %% 300), 'git://h/m.git?#main',"
    " repeat('0', 40), 'x', 'b', 'r', now(), now()"
    " FROM generate_series(1, %s) AS i"
)

COLUMNS = "id, name, stream, version, context, state, owner, time_submitted"
QUERIES = {
    "no filter": ("", []),
    "state=failed": (" WHERE state = ANY(%s)", [["failed"]]),
    "state=done&state=ready": (" WHERE state = ANY(%s)", [["done", "ready"]]),
    "name=mod7": (" WHERE name = %s", ["mod7"]),
    "name=mod7&stream=s0": (" WHERE name = %s AND stream = %s", ["mod7", "s0"]),
    "stream=s3": (" WHERE stream = %s", ["s3"]),
    "owner=user42": (" WHERE owner = %s", ["user42"]),
}


def main(dsn: str, count: int = 100_000) -> None:
    """Seed ``count`` builds into the database at ``dsn`` and print plans."""
    connection = psycopg2.connect(dsn)
    connection.autocommit = True
    cursor = connection.cursor()
    started = time.monotonic()
    cursor.execute(SEED, (count,))
    cursor.execute("VACUUM (ANALYZE) module_builds")
    print(f"seeded {count} builds in {time.monotonic() - started:.1f} s\n")
    for label, (where, params) in QUERIES.items():
        for sql, args in (
            (
                f"SELECT {COLUMNS} FROM module_builds{where} ORDER BY id DESC"
                " LIMIT 100 OFFSET 0",
                params,
            ),
            (
                f"SELECT {COLUMNS} FROM module_builds{where} ORDER BY id DESC"
                " LIMIT 100 OFFSET 5000",
                params,
            ),
            (f"SELECT count(*) FROM module_builds{where}", params),
        ):
            cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING ON) " + sql, args)
            plan = "\n    ".join(row[0] for row in cursor.fetchall())
            print(f"-- {label}: {sql % tuple(repr(a) for a in args)}\n    {plan}\n")
    connection.close()


if __name__ == "__main__":
    main(sys.argv[1])
