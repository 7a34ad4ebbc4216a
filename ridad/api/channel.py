"""The HTTP/1.1 connection of the API: Twisted's parser with ridad's limits.

Left to itself, Twisted's ``HTTPChannel`` answers what it cannot parse with
a bare ``400 Bad Request`` (no body), reads a body of any declared length
after sending ``100 Continue``, takes a second ``Transfer-Encoding`` header
as if it were not there, and keeps a connection for as long as a byte
arrives before the idle timer runs out. ``ApiChannel`` answers each of
these with the project's JSON error body and closes the connection:

- a malformed request line or header, a head over Twisted's size limits or
  a malformed chunk: 400;
- ``Transfer-Encoding`` given twice, or together with ``Content-Length``:
  400 (a request smuggling vector);
- a declared ``Content-Length`` over ``api.max_body_bytes``: 413 as soon as
  the headers are in, before any ``100 Continue``; a chunked body is cut
  with 413 when it passes the limit;
- the head and body not in within ``api.request_timeout_seconds``,
  counted from the connection (and, on a kept-alive connection, from the
  next request's first byte), however steadily the bytes trickle: 408.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.http import HTTPChannel

from ridad.api.responses import raw_error_response
from ridad.config.model import ApiConfig

MALFORMED = (
    "the request is malformed (its request line, a header or a chunk of its"
    " body), or its head is over {limit} bytes"
)
FRAMING = (
    "Transfer-Encoding may be given once, and not together with"
    " Content-Length; send one or the other"
)

log = Logger(namespace="ridad.api.channel")


class ApiChannel(HTTPChannel):
    """One client connection of the API site (``ApiSite``).

    The site (set by ``Site.buildProtocol``) provides ``api``, the
    ``ApiConfig`` in force, and is told when the connection opens and
    closes (``connection_opened``, ``connection_closed``).
    """

    site: Any
    refused = False
    _counted = False
    _in_flight = False
    _deadline: IDelayedCall | None = None
    _abort: IDelayedCall | None = None

    def _api(self) -> ApiConfig:
        api: ApiConfig = self.site.api
        return api

    def connectionMade(self) -> None:
        """Count the connection and start the first request's deadline."""
        super().connectionMade()
        self.site.connection_opened()
        self._counted = True
        self._start_deadline()

    def dataReceived(self, data: bytes) -> None:
        """Drop data after a refusal; a new request's first byte starts its
        deadline."""
        if self.refused:
            return
        if self._deadline is None and not self._in_flight:
            self._start_deadline()
        super().dataReceived(data)

    def headerReceived(self, line: bytes) -> bool:
        """Refuse a second ``Transfer-Encoding``, or one with
        ``Content-Length``, before Twisted's own checks."""
        name = line.partition(b":")[0].lower()
        if name in (b"transfer-encoding", b"content-length"):
            headers = self.requests[-1].requestHeaders
            if headers.hasHeader(b"transfer-encoding") or (
                name == b"transfer-encoding" and headers.hasHeader(b"content-length")
            ):
                self.refuse(400, FRAMING)
                return False
        accepted: bool = super().headerReceived(line)
        return accepted

    def allHeadersReceived(self) -> None:
        """Refuse a declared body over the limit, before ``100 Continue``."""
        limit = self._api().max_body_bytes
        if self.length is not None and self.length > limit:
            self.refuse_body(limit)
            return
        super().allHeadersReceived()

    def allContentReceived(self) -> None:
        """The request is in: stop its deadline and hand it on."""
        if self.refused:
            return
        self._cancel_deadline()
        self._in_flight = True
        super().allContentReceived()

    def requestDone(self, request: Any) -> None:
        """The answer is out; the next request's deadline starts with its
        first byte."""
        self._in_flight = False
        super().requestDone(request)

    def connectionLost(self, reason: Failure | None) -> None:  # type: ignore[override]
        """Stop the timers and uncount the connection."""
        self._cancel_deadline()
        if self._abort is not None and self._abort.active():
            self._abort.cancel()
        self._abort = None
        if self._counted:
            self._counted = False
            self.site.connection_closed()
        super().connectionLost(reason)

    def lineLengthExceeded(self, line: bytes) -> None:
        """A line of the head over ``MAX_LENGTH``: 400 instead of a silent
        close."""
        self.refuse(400, MALFORMED.format(limit=self.MAX_LENGTH))

    def _respondToBadRequestAndDisconnect(self) -> None:
        """Twisted's bare 400, answered in JSON."""
        self.refuse(400, MALFORMED.format(limit=self.totalHeadersSize))

    def refuse_body(self, limit: int) -> None:
        """Answer 413: the body is over ``limit`` bytes."""
        self.refuse(413, f"the request body is over {limit} bytes")

    def refuse(
        self, status: int, message: str, headers: Mapping[bytes, bytes] | None = None
    ) -> None:
        """Answer ``status`` with a JSON error, close, and read nothing more.

        The connection is aborted if the answer cannot be delivered within
        ``abortTimeout`` seconds.
        """
        if self.refused or self.transport is None:
            return
        self.refused = True
        self._cancel_deadline()
        log.debug(
            "Refused an HTTP request with {status}: {reason}",
            status=status,
            reason=message,
        )
        self.transport.write(raw_error_response(status, message, headers))
        self.loseConnection()
        if self.abortTimeout is not None:
            self._abort = self.callLater(
                self.abortTimeout, self.transport.abortConnection
            )

    def _start_deadline(self) -> None:
        seconds = self._api().request_timeout_seconds
        self._deadline = self.callLater(seconds, self._deadline_passed, seconds)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        self._deadline = None

    def _deadline_passed(self, seconds: float) -> None:
        self._deadline = None
        log.info(
            "A client did not send its request within {timeout_seconds} s; closing",
            timeout_seconds=seconds,
        )
        self.refuse(
            408, f"the request's head and body did not arrive within {seconds:g} s"
        )
