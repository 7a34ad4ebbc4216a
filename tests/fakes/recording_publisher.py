"""A Publisher that records what it is given (like Buildbot's fakemq) and
validates every message against the shipped JSON Schemas."""

from __future__ import annotations

import json

from ridad.bus.publisher import MSG_ID_HEADER, BusMessage, validate_body
from ridad.errors import BusUnavailable


class RecordingPublisher:
    """Records published messages; can be told to act as a broker that is down."""

    def __init__(self, *, prefix: str) -> None:
        self.prefix = prefix
        self.messages: list[BusMessage] = []
        self.down = False

    async def publish(self, message: BusMessage) -> None:
        """Validate and record ``message``, or fail like a broker that is down."""
        if self.down:
            raise BusUnavailable("the test broker is down")
        assert message.destination.startswith(self.prefix)
        topic = message.destination[len(self.prefix) :]
        body = json.loads(message.body)
        validate_body(topic, body)
        assert message.headers[MSG_ID_HEADER] == body["msg_id"] == message.msg_id
        assert message.headers["persistent"] == "true"
        assert "timestamp" not in message.headers
        self.messages.append(message)
