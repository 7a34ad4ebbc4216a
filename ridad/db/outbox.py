"""The ``outbox`` table: bus messages written with the change they announce."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg2.extras import Json

from ridad.db.pool import Pool


@dataclass(frozen=True)
class OutboxMessage:
    """One row of ``outbox``."""

    id: int
    msg_id: str
    topic: str
    body: Mapping[str, Any]
    module_build_id: int
    created: datetime
    sent: datetime | None


async def insert_message(
    cursor: Any,
    *,
    msg_id: str,
    topic: str,
    body: Mapping[str, Any],
    module_build_id: int,
    now: datetime,
) -> None:
    """Queue one message inside the caller's transaction."""
    await cursor.execute(
        "INSERT INTO outbox (msg_id, topic, body, module_build_id, created)"
        " VALUES (%s, %s, %s, %s, %s)",
        (msg_id, topic, Json(body), module_build_id, now),
    )


class OutboxRelayStore:
    """What the publisher needs: pending messages in order, marking, pruning."""

    def __init__(self, *, pool: Pool) -> None:
        self._pool = pool

    async def pending(self, limit: int) -> list[OutboxMessage]:
        """The oldest unsent messages, in the order they were written.

        Changes of one module build are serialised, so this is also each
        build's own order.
        """
        rows = await self._pool.run_query(
            "SELECT id, msg_id::text AS msg_id, topic, body, module_build_id,"
            " created, sent FROM outbox WHERE sent IS NULL ORDER BY id LIMIT %s",
            (limit,),
        )
        return [OutboxMessage(**row) for row in rows]

    async def mark_sent(self, message_id: int, now: datetime) -> None:
        """Record that the broker confirmed a message."""
        await self._pool.run_operation(
            "UPDATE outbox SET sent = %s WHERE id = %s AND sent IS NULL",
            (now, message_id),
        )

    async def prune(self, before: datetime) -> int:
        """Delete messages sent before ``before``; return how many."""
        rows = await self._pool.run_query(
            "WITH gone AS (DELETE FROM outbox WHERE sent < %s RETURNING 1)"
            " SELECT count(*) AS n FROM gone",
            (before,),
        )
        return int(rows[0]["n"])
