"""Reading a Server-Sent Events stream: bytes in, events out.

The parser follows the WHATWG rules that matter here: lines end with LF,
CRLF or CR; ``field: value`` (one optional space after the colon); lines
starting with ``:`` are comments; a blank line ends an event; ``data``
lines are joined with LF; ``id`` sets the last event id (kept across
events); ``retry`` sets the reconnection delay.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServerEvent:
    """One dispatched event: its id (the last one seen), type and data."""

    id: str | None
    event: str
    data: str


class SseParser:
    """Feed it the stream's bytes; it answers the events they complete."""

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []
        self._event = ""
        self.last_event_id: str | None = None
        self.retry_milliseconds: int | None = None
        self.comments = 0

    def feed(self, chunk: bytes) -> list[ServerEvent]:
        """The events ``chunk`` completes (a partial line waits for more)."""
        self._buffer += chunk
        events: list[ServerEvent] = []
        while True:
            line, found = self._next_line()
            if not found:
                return events
            event = self._line(line)
            if event is not None:
                events.append(event)

    def _next_line(self) -> tuple[str, bool]:
        for index, byte in enumerate(self._buffer):
            if byte in (0x0A, 0x0D):
                if byte == 0x0D and index + 1 == len(self._buffer):
                    return "", False  # a CR that may be half of CRLF
                line = self._buffer[:index]
                step = 2 if self._buffer[index : index + 2] == b"\r\n" else 1
                self._buffer = self._buffer[index + step :]
                return line.decode("utf-8", "replace"), True
        return "", False

    def _line(self, line: str) -> ServerEvent | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            self.comments += 1
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self.last_event_id = value
        elif name == "retry" and value.isdigit():
            self.retry_milliseconds = int(value)
        return None

    def _dispatch(self) -> ServerEvent | None:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return ServerEvent(
            id=self.last_event_id, event=event or "message", data="\n".join(data)
        )
