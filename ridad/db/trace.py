"""The ``state_trace`` table: every state change of builds and components."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ridad.db.pool import Pool
from ridad.domain.builds import TraceEntry


async def insert_trace(
    cursor: Any,
    *,
    module_build_id: int,
    component_build_id: int | None,
    old_state: str | None,
    new_state: str,
    reason: str | None,
    now: datetime,
) -> None:
    """Record one state change inside the caller's transaction."""
    await cursor.execute(
        "INSERT INTO state_trace (module_build_id, component_build_id, time,"
        " old_state, new_state, reason) VALUES (%s, %s, %s, %s, %s, %s)",
        (module_build_id, component_build_id, now, old_state, new_state, reason),
    )


class TraceStore:
    """Reads of ``state_trace``."""

    def __init__(self, *, pool: Pool) -> None:
        self._pool = pool

    async def for_module_build(self, module_build_id: int) -> list[TraceEntry]:
        """Every trace row of a module build and its components, in order."""
        rows = await self._pool.run_query(
            "SELECT id, module_build_id, component_build_id, time, old_state,"
            " new_state, reason FROM state_trace WHERE module_build_id = %s"
            " ORDER BY id",
            (module_build_id,),
        )
        return [TraceEntry(**row) for row in rows]
