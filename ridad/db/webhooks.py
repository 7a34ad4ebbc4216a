"""The ``webhook_deliveries`` table: the forge deliveries that caused builds.

The write functions take the cursor of the transaction ``transitions``
opened to record the builds of the push; ``WebhookDeliveryStore`` reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ridad.db.pool import Pool
from ridad.domain.webhooks import Push


async def claim_delivery(cursor: Any, push: Push, now: datetime) -> bool:
    """Record ``push``'s delivery, without builds yet; False when it was
    recorded before.

    A concurrent transaction that claimed the same delivery makes this one
    wait for its end: False once it committed, True once it rolled back.
    """
    await cursor.execute(
        "INSERT INTO webhook_deliveries (forge, delivery_id, scmurl, branch,"
        " pusher, received) VALUES (%s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (forge, delivery_id) DO NOTHING RETURNING forge",
        (push.forge, push.delivery_id, push.scmurl, push.branch, push.pusher, now),
    )
    return cursor.fetchone() is not None


async def delivery_builds(cursor: Any, forge: str, delivery_id: str) -> list[int]:
    """The builds a recorded delivery caused, in the order recorded."""
    await cursor.execute(
        "SELECT module_build_ids FROM webhook_deliveries"
        " WHERE forge = %s AND delivery_id = %s",
        (forge, delivery_id),
    )
    row = cursor.fetchone()
    return [int(i) for i in row["module_build_ids"]] if row else []


async def set_delivery_builds(
    cursor: Any, push: Push, module_build_ids: Sequence[int]
) -> None:
    """Name the builds the claimed delivery of ``push`` caused."""
    await cursor.execute(
        "UPDATE webhook_deliveries SET module_build_ids = %s"
        " WHERE forge = %s AND delivery_id = %s",
        (list(module_build_ids), push.forge, push.delivery_id),
    )


class WebhookDeliveryStore:
    """Reads of the recorded deliveries, on the pool."""

    def __init__(self, *, pool: Pool) -> None:
        self._pool = pool

    async def builds_of(self, forge: str, delivery_id: str) -> list[int] | None:
        """The builds delivery ``delivery_id`` of ``forge`` caused, or None
        when it is not recorded.

        :raises DatabaseUnavailable: as every read.
        """
        rows = await self._pool.run_query(
            "SELECT module_build_ids FROM webhook_deliveries"
            " WHERE forge = %s AND delivery_id = %s",
            (forge, delivery_id),
        )
        return [int(i) for i in rows[0]["module_build_ids"]] if rows else None
