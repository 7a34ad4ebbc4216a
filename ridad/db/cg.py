"""The content-generator import's rows (migration 007): the final modulemd
documents of a build and the import's columns of ``module_builds``.

The write functions take the cursor of a transaction ``transitions`` opened;
``CgStore`` reads on the pool what the import needs besides the build: the
stored documents (uploaded byte for byte as written) and the build's whole
state trace (its build log).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from ridad.db.build_rows import MODULE_COLUMNS, module_build_from_row
from ridad.db.pool import Pool
from ridad.domain.builds import ModuleBuild, TraceEntry
from ridad.domain.module_import import FinalDocument
from ridad.errors import NotFound

__all__ = [
    "CgStore",
    "clear_cg_import",
    "insert_final_documents",
    "set_cg_columns",
]

_TRACE_COLUMNS = ", ".join(f.name for f in dataclasses.fields(TraceEntry))


async def insert_final_documents(
    cursor: Any, module_build_id: int, documents: Sequence[FinalDocument]
) -> None:
    """Store a build's final modulemd documents, in one statement.

    Written once, with the intent (``cg_state`` NULL → ``pending``, under
    the build's row lock): a build whose import is forgotten has its
    documents deleted with it (:func:`clear_cg_import`), so there are none
    to replace, and a second write for the same build is a bug the primary
    key refuses rather than documents silently swapped after an upload.
    """
    if not documents:
        return
    rows = ", ".join("(%s, %s, %s, %s)" for _ in documents)
    await cursor.execute(
        "INSERT INTO final_modulemds (module_build_id, filename, arch, content)"
        f" VALUES {rows}",
        [
            value
            for d in documents
            for value in (module_build_id, d.filename, d.arch, d.content)
        ],
    )


async def set_cg_columns(
    cursor: Any, module_build_id: int, assignments: dict[str, Any]
) -> ModuleBuild:
    """Write some of ``cg_state``, ``cg_build_id``, ``cg_token`` and
    ``artifact_count``; answer the build as written.

    :raises NotFound: when there is no such build.
    """
    allowed = {"cg_state", "cg_build_id", "cg_token", "artifact_count"}
    columns = sorted(assignments)
    assert set(columns) <= allowed, columns
    await cursor.execute(
        f"UPDATE module_builds SET {', '.join(f'{c} = %s' for c in columns)}"
        f" WHERE id = %s RETURNING {MODULE_COLUMNS}",
        [assignments[c] for c in columns] + [module_build_id],
    )
    row = cursor.fetchone()
    if row is None:
        raise NotFound(f"Module build {module_build_id} does not exist")
    return module_build_from_row(row)


async def clear_cg_import(cursor: Any, module_build_id: int) -> None:
    """Forget an unfinished import (a failed build submitted again): its
    documents are written anew from what Koji then has. A completed import
    stays: the module's Koji build exists and cannot be made twice."""
    await cursor.execute(
        "UPDATE module_builds SET cg_state = NULL, cg_build_id = NULL,"
        " cg_token = NULL, artifact_count = NULL WHERE id = %s"
        " AND cg_state IS DISTINCT FROM 'imported'",
        (module_build_id,),
    )
    if cursor.rowcount:
        await cursor.execute(
            "DELETE FROM final_modulemds WHERE module_build_id = %s",
            (module_build_id,),
        )


class CgStore:
    """Reads of the import, on the pool."""

    def __init__(self, *, pool: Pool) -> None:
        self._pool = pool

    async def documents(self, module_build_id: int) -> list[FinalDocument]:
        """The build's final modulemd documents, ``modulemd.txt`` first."""
        rows = await self._pool.run_query(
            "SELECT filename, arch, content FROM final_modulemds"
            " WHERE module_build_id = %s ORDER BY arch NULLS FIRST, filename",
            (module_build_id,),
        )
        return [FinalDocument(**row) for row in rows]

    async def trace(self, module_build_id: int) -> list[TraceEntry]:
        """Every trace row of the build and its components, oldest first."""
        rows = await self._pool.run_query(
            f"SELECT {_TRACE_COLUMNS} FROM state_trace"
            " WHERE module_build_id = %s ORDER BY id",
            (module_build_id,),
        )
        return [TraceEntry(**row) for row in rows]
