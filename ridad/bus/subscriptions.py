"""What the daemon subscribes to, and how frames reach listeners.

A :class:`Subscription` names a destination and the :class:`MessageListener`
its messages reach; :class:`~ridad.bus.connection.BusConnection` takes them
in its constructor and keeps them in its :class:`Registrations`, which it
subscribes again on every new connection. On the protocol's side, each
subscription's MESSAGE frames go through a :class:`MessageQueue`: to the
handler one at a time in arrival order, each acknowledged afterwards.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from twisted.internet.defer import Deferred, succeed
from twisted.logger import Logger, LogLevel

from ridad.bus.framing import ACK_MODES, Frame

__all__ = [
    "Handler",
    "MessageListener",
    "MessageQueue",
    "Registration",
    "Registrations",
    "Subscription",
]

#: What a subscription calls with each MESSAGE frame; it may return an awaitable.
Handler = Callable[[Frame], Awaitable[None] | None]


class MessageListener(Protocol):
    """Receives the messages of a subscription (a Koji event listener, say)."""

    def handle(self, destination: str, headers: Mapping[str, str], body: bytes) -> None:
        """Act on one message."""


@dataclass(frozen=True)
class Subscription:
    """A destination the daemon subscribes to and the listener of its messages."""

    destination: str
    listener: MessageListener

    def deliver(self, frame: Frame) -> None:
        """Hand the MESSAGE ``frame`` to the listener."""
        self.listener.handle(
            frame.header("destination") or self.destination,
            dict(frame.headers),
            frame.body,
        )


@dataclass(frozen=True)
class Registration:
    """A subscription a connection makes again on every new connection."""

    subscription_id: str
    destination: str
    handler: Handler
    ack: str
    headers: Mapping[str, str] = field(default_factory=dict)


class Registrations:
    """The subscriptions of a connection, in the order they were added."""

    def __init__(self) -> None:
        self._entries: list[Registration] = []

    def add(
        self,
        destination: str,
        handler: Handler,
        *,
        ack: str,
        headers: Mapping[str, str] | None = None,
    ) -> Registration:
        """Register ``handler`` for ``destination`` under a new subscription id.

        :returns: the registration.
        :raises ValueError: an unknown ack mode.
        """
        if ack not in ACK_MODES:
            raise ValueError(f"Unknown ack mode {ack!r}")
        registration = Registration(
            f"rida-sub-{len(self._entries) + 1}",
            destination,
            handler,
            ack,
            dict(headers or {}),
        )
        self._entries.append(registration)
        return registration

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index: int) -> Registration:
        return self._entries[index]

    def __iter__(self) -> Iterator[Registration]:
        return iter(list(self._entries))


class MessageQueue:
    """The MESSAGE frames of one subscription on one connection.

    Each goes to ``handler`` after the previous one's handler returned.
    Unless ``ack`` is ``auto``, it is then acknowledged through
    ``acknowledge``, also when the handler raised (the failure is logged),
    so one poison message cannot wedge the subscription.
    """

    log = Logger()

    def __init__(
        self,
        *,
        destination: str,
        handler: Handler,
        ack: str,
        acknowledge: Callable[[Frame], None],
    ) -> None:
        self.destination = destination
        self.ack = ack
        self._handler = handler
        self._acknowledge = acknowledge
        self._tail: Deferred[None] = succeed(None)

    def put(self, frame: Frame) -> None:
        """Deliver ``frame`` once the frames before it were handled."""
        self._tail.addCallback(lambda _: Deferred.fromCoroutine(self._deliver(frame)))

    async def _deliver(self, frame: Frame) -> None:
        try:
            outcome = self._handler(frame)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:
            self.log.failure(
                "The handler of {destination} failed; acknowledging the message anyway",
                destination=self.destination,
                level=LogLevel.error,
            )
        if self.ack != "auto":
            self._acknowledge(frame)
