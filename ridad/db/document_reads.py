"""Reads of the final modulemd documents (``final_modulemds``), each one
statement: the API answers a document, or why there is none, from a single
round trip, and the MBS views carry ``modulemd.txt`` in the SELECT that
reads the build."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ridad.db.build_rows import MAX_ID
from ridad.db.pool import Pool
from ridad.domain.module_documents import WHOLE_MODULE, ModuleDocuments
from ridad.domain.states import ModuleState
from ridad.errors import NotFound

#: A column for a SELECT over ``module_builds``: the build's ``modulemd.txt``
#: (NULL until the final modulemd is written), read by its primary key.
FINAL_TEXT_COLUMN = (
    "(SELECT content FROM final_modulemds"
    " WHERE module_build_id = module_builds.id"
    f" AND filename = '{WHOLE_MODULE}') AS final_modulemd"
)

#: Every document of one build, with the text of those asked for only (the
#: others' names tell which arches exist); no document: one row of NULLs.
_DOCUMENTS = (
    "SELECT b.state, f.filename, f.arch,"
    " CASE WHEN f.filename = %s OR (%s AND f.arch IS NOT NULL)"
    " THEN f.content END AS content"
    " FROM module_builds b"
    " LEFT JOIN final_modulemds f ON f.module_build_id = b.id"
    " WHERE b.id = %s ORDER BY f.arch NULLS FIRST"
)


def split_final_text(row: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A row read with ``FINAL_TEXT_COLUMN``: its module_builds columns, and
    the ``modulemd.txt`` it carried."""
    values = dict(row)
    return values, values.pop("final_modulemd", None)


async def read_documents(
    pool: Pool,
    module_build_id: int,
    *,
    filename: str | None = None,
    all_arches: bool = False,
) -> ModuleDocuments:
    """Which final modulemd documents a build has, with the text of
    ``filename`` and, with ``all_arches``, of every per-arch document.

    :raises NotFound: when there is no such build.
    """
    missing = NotFound(f"Module build {module_build_id} does not exist")
    if not 0 < module_build_id <= MAX_ID:
        raise missing
    rows = await pool.run_query(_DOCUMENTS, (filename, all_arches, module_build_id))
    if not rows:
        raise missing
    texts: dict[str | None, str] = {}
    for row in rows:
        if row["content"] is not None:
            texts[row["arch"]] = row["content"]
    return ModuleDocuments(
        module_build_id=module_build_id,
        state=ModuleState.from_label(rows[0]["state"]),
        has_whole=any(row["filename"] == WHOLE_MODULE for row in rows),
        arches=tuple(row["arch"] for row in rows if row["arch"] is not None),
        texts=texts,
    )
