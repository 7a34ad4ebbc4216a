"""The outbox relay: sends what ``transitions`` wrote to the outbox, in
order, marking each message sent only once the broker's RECEIPT arrived.

It runs only in the process that holds the scheduler lock, so one sender
keeps each build's order. At-least-once: a crash between RECEIPT and the
mark sends a message again under the same ``msg_id``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from ridad.bus.publisher import Publisher, bus_message
from ridad.db.outbox import OutboxRelayStore

BATCH = 200
PRUNE_INTERVAL_SECONDS = 3600.0


class OutboxRelay:
    """Drains the outbox to the broker."""

    log = Logger()

    def __init__(
        self,
        *,
        store: OutboxRelayStore,
        publisher: Publisher,
        clock: IReactorTime,
        destination_prefix: str,
        retention: timedelta,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._clock = clock
        self._prefix = destination_prefix
        self._retention = retention
        self._last_prune: float | None = None
        self.sent = 0

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.seconds(), tz=UTC)

    async def drain(self) -> int:
        """Send every pending message in order; return how many were sent.

        :raises BusUnavailable: the broker went away (the rest waits).
        :raises DatabaseUnavailable: the outbox cannot be read or marked.
        """
        count = 0
        while True:
            messages = await self._store.pending(BATCH)
            for message in messages:
                await self._publisher.publish(
                    bus_message(
                        topic=message.topic,
                        msg_id=message.msg_id,
                        body=message.body,
                        prefix=self._prefix,
                    )
                )
                await self._store.mark_sent(message.id, self._now())
                count += 1
                self.log.debug(
                    "Published {topic} of module build {module_build_id}",
                    topic=message.topic,
                    module_build_id=message.module_build_id,
                )
            if len(messages) < BATCH:
                break
        self.sent += count
        await self._maybe_prune()
        return count

    async def _maybe_prune(self) -> None:
        now = self._clock.seconds()
        if (
            self._last_prune is not None
            and now - self._last_prune < PRUNE_INTERVAL_SECONDS
        ):
            return
        self._last_prune = now
        removed = await self._store.prune(self._now() - self._retention)
        if removed:
            self.log.info("Pruned {count} sent messages", count=removed)
