"""The ``state_trace`` table: every state change of builds and components."""

from __future__ import annotations

from datetime import datetime
from typing import Any


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
