"""A Server-Sent Events reader for the tests: one stream over treq, its
events collected, reconnecting with ``Last-Event-ID`` when asked."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import treq
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater

from ridad.cli.sse import ServerEvent, SseParser


class SseReader:
    """Reads ``url`` as an event stream into :attr:`events`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.parser = SseParser()
        self.events: list[ServerEvent] = []
        self.connected = 0
        self.ended: Deferred[Any] | None = None
        self._response: Any = None

    async def open(self) -> None:
        """Connect (resuming after the last id seen) and wait for the
        stream's first bytes: from then on no change is missed."""
        headers = {b"Accept": [b"text/event-stream"]}
        if self.parser.last_event_id is not None:
            headers[b"Last-Event-ID"] = [self.parser.last_event_id.encode()]
        response = await treq.get(self.url, headers=headers, unbuffered=True)
        assert response.code == 200, await response.text()
        content_type = response.headers.getRawHeaders(b"content-type")[0]
        assert content_type.startswith(b"text/event-stream"), content_type
        self._response = response
        comments = self.parser.comments
        self.ended = treq.collect(response, self._chunk)
        self.ended.addErrback(lambda f: None)  # a broken stream ends here too
        await self.until(lambda: self.parser.comments > comments)
        self.connected += 1

    def close(self) -> None:
        """Close the stream from the client's side."""
        transport = getattr(self._response.original, "_transport", None)
        if transport is not None:
            transport.stopProducing()

    def _chunk(self, chunk: bytes) -> None:
        self.events.extend(self.parser.feed(chunk))

    def bodies(self) -> list[tuple[int, str, dict[str, Any]]]:
        """(id, event, body) of every event read."""
        return [(int(e.id or 0), e.event, json.loads(e.data)) for e in self.events]

    async def until(self, condition: Callable[[], bool], seconds: float = 60.0) -> None:
        """Wait until ``condition()`` holds."""
        deadline = reactor.seconds() + seconds
        while not condition():
            assert reactor.seconds() < deadline, f"timed out reading {self.url}"
            await deferLater(reactor, 0.05, lambda: None)
