"""A test's own STOMP subscriber: a ``BusConnection`` (so it reconnects and
resubscribes like ridad) that records every MESSAGE it gets, decoded."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.endpoints import clientFromString

from ridad.bus.connection import BusConnection
from ridad.bus.framing import Frame
from ridad.bus.publisher import MSG_ID_HEADER
from tests.helpers import wait_for

WAIT_SECONDS = 30.0


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


@dataclass(frozen=True)
class Received:
    """One MESSAGE as the subscriber got it."""

    destination: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def topic(self) -> str:
        """The ridad topic: the destination's part after ``VirtualTopic.eng.rida.``."""
        original = self.headers.get("original-destination") or self.destination
        return original.rsplit("VirtualTopic.eng.rida.", 1)[-1]

    @property
    def msg_id(self) -> str | None:
        """The ``rida-msg-id`` header."""
        return self.headers.get(MSG_ID_HEADER)

    def json(self) -> Any:
        """The body, decoded."""
        return json.loads(self.body)


@dataclass
class StompListener:
    """A subscriber to one or more destinations of a broker."""

    endpoint: str
    destinations: tuple[str, ...]
    ack: str = "client-individual"
    messages: list[Received] = field(default_factory=list)
    connection: BusConnection | None = None

    def _handle(self, frame: Frame) -> None:
        self.messages.append(
            Received(
                destination=frame.header("destination") or "",
                headers=dict(frame.headers),
                body=frame.body,
                at=_reactor().seconds(),
            )
        )

    async def start(self) -> StompListener:
        """Connect, subscribe, and wait until the broker confirmed it."""
        reactor = _reactor()
        self.connection = BusConnection(
            endpoint=clientFromString(reactor, self.endpoint),
            clock=reactor,
            vhost="localhost",
            heart_beat_ms=(2000, 2000),
            retry_policy=lambda attempt: 0.5,
        )
        for destination in self.destinations:
            self.connection.subscribe(destination, self._handle, ack=self.ack)
        self.connection.startService()
        await self.wait_connected()
        return self

    async def wait_connected(self, timeout_seconds: float = WAIT_SECONDS) -> None:
        """Wait until connected and subscribed (again)."""
        connection = self.connection
        assert connection is not None
        await wait_for(lambda: connection.connected, timeout_seconds, _reactor())

    async def stop(self) -> None:
        """Disconnect and stop reconnecting."""
        if self.connection is not None and self.connection.running:
            await self.connection.stopService()

    async def wait_until(
        self,
        predicate: Callable[[list[Received]], bool],
        timeout_seconds: float = WAIT_SECONDS,
    ) -> None:
        """Wait until ``predicate(messages)`` holds.

        :raises AssertionError: it did not within ``timeout_seconds``.
        """
        try:
            await wait_for(
                lambda: predicate(self.messages), timeout_seconds, _reactor()
            )
        except Exception as e:
            raise AssertionError(
                f"{e}; got {[(m.topic, m.json().get('state')) for m in self.messages]}"
            ) from e
