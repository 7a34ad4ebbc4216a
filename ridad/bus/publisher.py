"""What ridad publishes: a message ready for the broker, the ``Publisher``
protocol, its STOMP implementation, and the JSON Schemas of the bodies."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

import jsonschema

from ridad.bus.messages import COMPONENT_TOPIC, MODULE_TOPIC

MSG_ID_HEADER = "rida-msg-id"
TOPICS = (MODULE_TOPIC, COMPONENT_TOPIC)


@dataclass(frozen=True)
class BusMessage:
    """One message as it goes to the broker."""

    destination: str
    headers: Mapping[str, str]
    body: bytes
    msg_id: str


def bus_message(
    *, topic: str, msg_id: str, body: Mapping[str, Any], prefix: str
) -> BusMessage:
    """Turn an outbox row into the message sent for it.

    Headers: ``rida-msg-id`` (brokers overwrite STOMP's own ``message-id``),
    ``content-type`` and ``persistent: true``; never ``timestamp``, which
    ActiveMQ reads as epoch milliseconds.
    """
    return BusMessage(
        destination=prefix + topic,
        headers={
            MSG_ID_HEADER: msg_id,
            "content-type": "application/json",
            "persistent": "true",
        },
        body=json.dumps(body, sort_keys=True).encode("utf-8"),
        msg_id=msg_id,
    )


class Publisher(Protocol):
    """Sends a message; returns once the broker confirmed it (RECEIPT)."""

    async def publish(self, message: BusMessage) -> None:
        """Send ``message``.

        :raises BusUnavailable: the broker is down or refused it.
        """


class Sender(Protocol):
    """The broker connection's send (``ridad.bus.connection.BusConnection``)."""

    async def publish(
        self, destination: str, body: bytes, headers: Mapping[str, str]
    ) -> None:
        """Send a frame and wait for its receipt."""


class StompPublisher:
    """A ``Publisher`` over a STOMP broker connection."""

    def __init__(self, *, connection: Sender) -> None:
        self._connection = connection

    async def publish(self, message: BusMessage) -> None:
        """Send ``message`` and wait for the broker's receipt.

        :raises BusUnavailable: the broker is down or refused it.
        """
        await self._connection.publish(
            message.destination, message.body, message.headers
        )


@functools.cache
def schema(topic: str) -> dict[str, Any]:
    """The JSON Schema of a topic's message body (shipped in bus/schemas)."""
    if topic not in TOPICS:
        raise KeyError(topic)
    text = resources.files("ridad.bus").joinpath("schemas", f"{topic}.json")
    loaded: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return loaded


def validate_body(topic: str, body: Mapping[str, Any]) -> None:
    """Check a message body against its topic's schema.

    :raises jsonschema.ValidationError: the body does not match.
    """
    jsonschema.validate(
        dict(body), schema(topic), format_checker=jsonschema.FormatChecker()
    )
