"""Final modulemd documents written straight into the database, as the
content-generator import leaves them (``final_modulemds`` and the ``cg_*``
columns of migration 007), for the tests of what the APIs and ``rida`` show.

``store_documents`` runs on a ridad ``Pool``; ``store_documents_sync`` on a
DSN with psycopg2, for tests that run blocking in a thread."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg2

from ridad.db.pool import Pool

#: A whole-module document with what byte-for-byte serving must keep: a
#: non-ASCII character, a quoted value, a trailing space inside a literal.
WHOLE = """\
---
document: modulemd
version: 2
data:
  name: demo
  stream: "main"
  version: 4020261127100000
  context: 6c81f848
  summary: Démo module
  description: >-
    A module for the tests.
  license:
    module:
    - MIT
    content:
    - GPL-2.0-or-later
  artifacts:
    rpms:
    - alpha-0:1.0-1.module_f40+42+6c81f848.noarch
    - alpha-0:1.0-1.module_f40+42+6c81f848.src
    - beta-0:2.0-1.module_f40+42+6c81f848.src
    - beta-0:2.0-1.module_f40+42+6c81f848.x86_64
    - beta-0:2.0-1.module_f40+42+6c81f848.aarch64
...
"""
PER_ARCH = {
    "aarch64": WHOLE.replace(
        "    - beta-0:2.0-1.module_f40+42+6c81f848.x86_64\n", ""
    ).replace("  summary:", "  arch: aarch64\n  summary:"),
    "x86_64": WHOLE.replace(
        "    - beta-0:2.0-1.module_f40+42+6c81f848.aarch64\n", ""
    ).replace("  summary:", "  arch: x86_64\n  summary:"),
}
ARTIFACTS = 5

_INSERT = (
    "INSERT INTO final_modulemds (module_build_id, filename, arch, content)"
    " VALUES (%s, %s, %s, %s)"
)
_IMPORT = (
    "UPDATE module_builds SET cg_state = %s, cg_build_id = %s,"
    " artifact_count = %s WHERE id = %s"
)


def _rows(
    module_build_id: int, whole: str | None, per_arch: Mapping[str, str]
) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    if whole is not None:
        rows.append((module_build_id, "modulemd.txt", None, whole))
    for arch, text in per_arch.items():
        rows.append((module_build_id, f"modulemd.{arch}.txt", arch, text))
    return rows


def _statements(
    module_build_id: int,
    whole: str | None,
    per_arch: Mapping[str, str],
    cg_state: str,
    cg_build_id: int | None,
    artifact_count: int | None,
) -> Sequence[tuple[str, tuple[Any, ...]]]:
    statements = [(_INSERT, row) for row in _rows(module_build_id, whole, per_arch)]
    update = (cg_state, cg_build_id, artifact_count, module_build_id)
    statements.append((_IMPORT, update))
    return statements


async def store_documents(
    pool: Pool,
    module_build_id: int,
    *,
    whole: str | None = WHOLE,
    per_arch: Mapping[str, str] = PER_ARCH,
    cg_state: str = "imported",
    cg_build_id: int | None = 7001,
    artifact_count: int | None = ARTIFACTS,
) -> None:
    """Write a build's final modulemd documents and its import's state in
    one transaction."""
    statements = _statements(
        module_build_id, whole, per_arch, cg_state, cg_build_id, artifact_count
    )

    async def write(cursor: Any) -> None:
        for sql, params in statements:
            await cursor.execute(sql, params)

    await pool.run_interaction(write)


def store_documents_sync(
    dsn: str,
    module_build_id: int,
    *,
    whole: str | None = WHOLE,
    per_arch: Mapping[str, str] = PER_ARCH,
    cg_state: str = "imported",
    cg_build_id: int | None = 7001,
    artifact_count: int | None = ARTIFACTS,
) -> None:
    """``store_documents`` over a blocking psycopg2 connection to ``dsn``."""
    statements = _statements(
        module_build_id, whole, per_arch, cg_state, cg_build_id, artifact_count
    )
    connection = psycopg2.connect(dsn)
    try:
        with connection, connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
    finally:
        connection.close()
