"""Event sinks for kojisim's bus messages: in memory, or to a STOMP broker.

L{StompSink} hands messages one at a time, in order, to anything with
``publish(destination, body, headers)`` (``ridad.bus.connection.BusConnection``).
A message the broker does not take is logged and dropped: kojisim is a
simulator, and Koji itself gives no delivery guarantee (docs/koji.md section 11).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger, LogLevel
from twisted.python.failure import Failure

__all__ = ["EmittedMessage", "Publisher", "RecordingSink", "StompSink"]


@dataclass(frozen=True)
class EmittedMessage:
    """One message as kojisim emitted it."""

    destination: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body, decoded."""
        return json.loads(self.body)


@dataclass
class RecordingSink:
    """An event sink that keeps every message, for tests."""

    messages: list[EmittedMessage] = field(default_factory=list)

    def emit(self, destination: str, headers: Mapping[str, str], body: bytes) -> None:
        """Record one message."""
        self.messages.append(EmittedMessage(destination, dict(headers), bytes(body)))

    def destinations(self) -> list[str]:
        """The destinations so far, in order."""
        return [m.destination for m in self.messages]

    def clear(self) -> None:
        """Forget the messages so far."""
        self.messages.clear()


class Publisher(Protocol):
    """What L{StompSink} sends through (the bus client's connection)."""

    def publish(
        self, destination: str, body: bytes, headers: Mapping[str, str]
    ) -> Awaitable[object]:
        """Send one message; the result fires once the broker has it."""


class StompSink:
    """Sends emitted messages through a L{Publisher}, one after another, in order.

    At most ``max_queued`` messages wait; more are dropped (with a warning),
    as are messages ``publish`` fails.
    """

    log = Logger()

    def __init__(self, *, publisher: Publisher, max_queued: int = 10_000) -> None:
        """Send through ``publisher``."""
        self._publisher = publisher
        self._max_queued = max_queued
        self._queue: deque[EmittedMessage] = deque()
        self._sending = False
        self._waiters: list[Deferred[None]] = []
        self.sent = 0
        self.dropped = 0

    def emit(self, destination: str, headers: Mapping[str, str], body: bytes) -> None:
        """Queue one message and start sending, unless the queue is full."""
        if len(self._queue) >= self._max_queued:
            self.dropped += 1
            self.log.warn(
                "kojisim bus queue is full; dropped a message to {topic}",
                topic=destination,
            )
            return
        self._queue.append(EmittedMessage(destination, dict(headers), bytes(body)))
        if not self._sending:
            self._sending = True
            Deferred.fromCoroutine(self._send_queued())

    async def _send_queued(self) -> None:
        """Send until the queue is empty; log and drop what fails."""
        try:
            while self._queue:
                message = self._queue.popleft()
                try:
                    await self._publisher.publish(
                        message.destination, message.body, message.headers
                    )
                except Exception:
                    self.dropped += 1
                    self.log.failure(
                        "kojisim lost a bus message to {topic}",
                        Failure(),
                        level=LogLevel.warn,
                        topic=message.destination,
                    )
                else:
                    self.sent += 1
        finally:
            self._sending = False
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                waiter.callback(None)

    @property
    def queued(self) -> int:
        """How many messages wait (the one being sent not included)."""
        return len(self._queue)

    def idle(self) -> Deferred[None]:
        """Fires when nothing is queued or being sent."""
        if not self._sending:
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        self._waiters.append(waiter)
        return waiter
