"""The API's HTTP connection (ridad/api/channel.py, ridad/api/site.py): the
exact bytes of malformed, oversized, ambiguous and slow requests, and the
answers, on a StringTransport with a task.Clock."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import LogLevel, capturedLogs
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from ridad.api.site import ApiSite, Overloaded, make_site
from ridad.config.model import ApiConfig, Config, LiveConfig

LIMIT = 100
TIMEOUT = 30.0
API = ApiConfig(
    max_body_bytes=LIMIT, request_timeout_seconds=TIMEOUT, max_connections=2
)


class Echo(Resource):
    """Answers 200 with the body's length; ``/slow`` holds its answer."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.held: list[Request] = []
        self.seen: list[bytes] = []

    def render(self, request: Request) -> bytes | int:
        body = request.content.read()
        self.seen.append(body)
        if request.path == b"/slow":
            self.held.append(request)
            return NOT_DONE_YET
        if request.path == b"/boom":
            raise RuntimeError("a bug below the routes")
        if request.path == b"/boom-late":
            request.write(b"{")
            raise RuntimeError("a bug after the answer began")
        request.setHeader(b"Content-Type", b"application/json")
        return json.dumps({"length": len(body)}).encode()


@dataclass
class Server:
    """A site on a Clock and its resource, with connections made on demand."""

    clock: Clock = field(default_factory=Clock)
    resource: Echo = field(default_factory=Echo)
    live: LiveConfig = field(default_factory=lambda: LiveConfig(Config(api=API)))
    site: ApiSite = field(init=False)

    def __post_init__(self) -> None:
        self.site = make_site(
            api_resource=self.resource, config=self.live, reactor=self.clock
        )

    def connect(self) -> tuple[Any, StringTransport]:
        """A new connection: the protocol and its transport."""
        protocol = self.site.buildProtocol(None)
        transport = StringTransport()
        protocol.makeConnection(transport)
        return protocol, transport


@pytest.fixture
def server() -> Server:
    """A site whose body limit is 100 bytes and deadline 30 s."""
    return Server()


def answer(transport: StringTransport) -> tuple[bytes, dict[bytes, bytes], Any]:
    """Status line, headers (lower-case names) and JSON body of the one answer."""
    head, _, body = transport.value().partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    pairs = (line.split(b": ", 1) for line in lines)
    headers = {name.lower(): value for name, value in pairs}
    if headers.get(b"transfer-encoding") == b"chunked":
        size, _, rest = body.partition(b"\r\n")
        body = rest[: int(size, 16)]
    return status, headers, json.loads(body)


def assert_refused(
    transport: StringTransport, status: int, message: str | None = None
) -> dict[str, Any]:
    """The answer is ``status`` in the project's JSON shape, and the
    connection is closing; returns the body."""
    line, headers, body = answer(transport)
    assert line.startswith(b"HTTP/1.1 %d " % status)
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"connection"] == b"close"
    assert int(headers[b"content-length"]) == len(json.dumps(body)) + 1
    assert body["status"] == status and body["error"] and body["message"]
    if message is not None:
        assert body["message"] == message
    assert transport.disconnecting
    return body


HEAD = b"POST /x HTTP/1.1\r\nHost: ridad\r\n"


@pytest.mark.parametrize(
    "raw",
    [
        b"garbage\r\n\r\n",
        b"GET /x HTTP/9.9\r\n\r\n",
        b"GET /x HTTP/1.1\r\nno colon here\r\n\r\n",
        b"GET /x HTTP/1.1\r\nBad Name: v\r\n\r\n",
        b"GET /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        b"GET /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
        b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n",
        b"GET /x HTTP/1.1\r\n"
        + b"X-A: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n" * 600
        + b"\r\n",
        HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
        HEAD + b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        HEAD + b"Transfer-Encoding: gzip\r\n\r\n",
    ],
    ids=[
        "request-line",
        "version",
        "no-colon",
        "bad-name",
        "negative-length",
        "two-lengths",
        "line-too-long",
        "head-too-large",
        "bad-chunk",
        "one-header-two-codings",
        "unknown-coding",
    ],
)
def test_what_twisted_cannot_parse_is_a_json_400(server: Server, raw: bytes) -> None:
    """Twisted's own bare 400s (and its silent close on an over-long line)
    become a JSON 400 with Connection: close; no resource runs."""
    protocol, transport = server.connect()
    protocol.dataReceived(raw)
    assert_refused(transport, 400)
    assert server.resource.seen == []


@pytest.mark.parametrize(
    "headers",
    [
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
        b"Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
        b"Content-Length: 5\r\nTransfer-Encoding: identity\r\n",
        b"Transfer-Encoding: identity\r\nContent-Length: 5\r\n",
        b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
    ],
)
def test_ambiguous_framing_is_refused(server: Server, headers: bytes) -> None:
    """Transfer-Encoding twice, or with Content-Length, is a JSON 400 (Twisted
    alone would frame the body by the first and ignore the second)."""
    protocol, transport = server.connect()
    protocol.dataReceived(HEAD + headers + b"\r\n5\r\nhello\r\n0\r\n\r\n")
    body = assert_refused(transport, 400)
    assert "Transfer-Encoding" in body["message"]
    assert server.resource.seen == []


def test_one_chunked_body_is_read(server: Server) -> None:
    """A single Transfer-Encoding: chunked is accepted and decoded."""
    protocol, transport = server.connect()
    protocol.dataReceived(
        HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    )
    assert answer(transport)[2] == {"length": 5}
    assert not transport.disconnecting


def test_declared_length_over_the_limit_is_413_before_100_continue(
    server: Server,
) -> None:
    """Content-Length over api.max_body_bytes with Expect: 100-continue gets
    413 as soon as the headers are in: no 100 Continue, the body is not read."""
    protocol, transport = server.connect()
    protocol.dataReceived(
        HEAD + b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % (LIMIT + 1)
    )
    assert b"100 Continue" not in transport.value()
    assert_refused(transport, 413, f"the request body is over {LIMIT} bytes")
    protocol.dataReceived(b"x" * (LIMIT + 1))
    assert server.resource.seen == []


def test_declared_length_at_the_limit_gets_100_continue(server: Server) -> None:
    """Exactly api.max_body_bytes is accepted, after a 100 Continue."""
    protocol, transport = server.connect()
    protocol.dataReceived(
        HEAD + b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % LIMIT
    )
    assert transport.value() == b"HTTP/1.1 100 Continue\r\n\r\n"
    transport.clear()
    protocol.dataReceived(b"x" * LIMIT)
    assert answer(transport)[2] == {"length": LIMIT}


def test_chunked_body_is_cut_when_it_passes_the_limit(server: Server) -> None:
    """A chunked body gets 413 at the chunk that passes the limit, before its end."""
    protocol, transport = server.connect()
    protocol.dataReceived(HEAD + b"Transfer-Encoding: chunked\r\n\r\n")
    protocol.dataReceived(b"%x\r\n%s\r\n" % (LIMIT, b"x" * LIMIT))
    assert transport.value() == b""
    protocol.dataReceived(b"1\r\nx\r\n")
    assert_refused(transport, 413)
    protocol.dataReceived(b"0\r\n\r\n")
    assert server.resource.seen == []


def test_trickling_client_is_cut_at_the_deadline(server: Server) -> None:
    """A byte a second does not extend the deadline: 408 at 30 s after the
    connection opened, however many bytes came."""
    protocol, transport = server.connect()
    for byte in b"GET /x HTTP/1.1\r\nX-Slow: " + b"a" * 28:
        server.clock.advance(1)
        protocol.dataReceived(bytes([byte]))
        if server.clock.seconds() < TIMEOUT:
            assert transport.value() == b""
    assert server.clock.seconds() > TIMEOUT
    body = assert_refused(transport, 408)
    assert "30 s" in body["message"]


def test_deadline_counts_from_each_request_and_not_while_answering(
    server: Server,
) -> None:
    """On a kept-alive connection the deadline stops once a request is in,
    does not run while it is answered or while the connection is idle, and
    starts again with the next request's first byte."""
    protocol, transport = server.connect()
    protocol.dataReceived(b"GET /slow HTTP/1.1\r\nHost: ridad\r\n\r\n")
    server.clock.advance(TIMEOUT * 3)
    assert transport.value() == b"" and not transport.disconnecting
    request = server.resource.held.pop()
    request.write(b"{}")
    request.finish()
    server.clock.advance(TIMEOUT * 1.5)  # idle, under Twisted's 60 s idle timer
    assert not transport.disconnecting
    transport.clear()
    protocol.dataReceived(b"GET /x HTTP/1.1\r\n")
    server.clock.advance(TIMEOUT - 1)
    assert transport.value() == b""
    server.clock.advance(1)
    assert_refused(transport, 408)


def test_refused_connection_is_aborted_if_it_does_not_close(server: Server) -> None:
    """After a refusal the connection is aborted if still open abortTimeout later."""
    protocol, transport = server.connect()
    protocol.dataReceived(b"garbage\r\n\r\n")
    assert transport.disconnecting and not transport.disconnected
    server.clock.advance(protocol.abortTimeout)
    assert transport.disconnected
    protocol.connectionLost(Failure(ConnectionDone()))
    assert server.clock.getDelayedCalls() == []


def test_connections_over_the_cap_get_503_until_one_closes(server: Server) -> None:
    """With api.max_connections open, a new connection is answered 503 with
    Retry-After and closed, without reading; once one closes there is room."""
    held = [server.connect() for _ in range(API.max_connections)]
    assert server.site.open_connections == API.max_connections
    with capturedLogs() as events:
        overloaded, transport = server.connect()
        assert isinstance(server.connect()[0], Overloaded)
    assert isinstance(overloaded, Overloaded)
    warnings = [e for e in events if e["log_level"] is LogLevel.warn]
    assert [e["count"] for e in warnings] == [API.max_connections]
    line, headers, body = answer(transport)
    assert line.startswith(b"HTTP/1.1 503 ")
    assert headers[b"retry-after"] == b"5"
    assert (body["status"], body["error"]) == (503, "Service Unavailable")
    assert transport.disconnecting
    held[0][0].connectionLost(Failure(ConnectionDone()))
    assert server.site.open_connections == API.max_connections - 1
    protocol, transport = server.connect()
    assert not isinstance(protocol, Overloaded)
    protocol.dataReceived(b"GET /x HTTP/1.1\r\nHost: ridad\r\n\r\n")
    assert answer(transport)[2] == {"length": 0}


def test_limits_follow_the_reloaded_configuration(server: Server) -> None:
    """SIGHUP's new api section applies to the next request and connection."""
    server.live.current = Config(
        api=ApiConfig(max_body_bytes=10, request_timeout_seconds=5, max_connections=1)
    )
    protocol, transport = server.connect()
    protocol.dataReceived(HEAD + b"Content-Length: 11\r\n\r\n")
    assert_refused(transport, 413, "the request body is over 10 bytes")
    protocol.connectionLost(Failure(ConnectionDone()))
    _, slow = server.connect()
    assert isinstance(server.connect()[0], Overloaded)
    server.clock.advance(5)
    assert_refused(slow, 408)


@pytest.mark.parametrize("method", [b"GET", b"POST", b"DELETE"])
def test_star_is_a_json_405_but_for_options(server: Server, method: bytes) -> None:
    """``<method> *`` gets a JSON 405 with Allow: OPTIONS (Twisted's is empty)."""
    protocol, transport = server.connect()
    protocol.dataReceived(method + b" * HTTP/1.1\r\nHost: ridad\r\n\r\n")
    line, headers, body = answer(transport)
    assert line.startswith(b"HTTP/1.1 405 ")
    assert headers[b"allow"] == b"OPTIONS"
    assert headers[b"content-type"] == b"application/json"
    assert body["status"] == 405 and method.decode() in body["message"]


def test_options_star_is_an_empty_200(server: Server) -> None:
    """``OPTIONS *`` stays Twisted's empty 200: it is not an error."""
    protocol, transport = server.connect()
    protocol.dataReceived(b"OPTIONS * HTTP/1.1\r\nHost: ridad\r\n\r\n")
    assert transport.value().startswith(b"HTTP/1.1 200 ")


def test_exception_below_the_routes_is_a_json_500(server: Server) -> None:
    """An exception escaping the resources (not a Klein route) is a JSON 500
    with an error id, also in the log, not Twisted's HTML page."""
    protocol, transport = server.connect()
    with capturedLogs() as events:
        protocol.dataReceived(b"GET /boom HTTP/1.1\r\nHost: ridad\r\n\r\n")
    line, headers, body = answer(transport)
    assert line.startswith(b"HTTP/1.1 500 ")
    assert headers[b"content-type"] == b"application/json"
    error_id = body["details"]["error_id"]
    assert body["status"] == 500 and len(error_id) == 32
    assert "RuntimeError" not in json.dumps(body)
    assert [e["error_id"] for e in events if "error_id" in e] == [error_id]


def test_exception_after_the_answer_began_cuts_the_connection(server: Server) -> None:
    """When the status is already out, the failure is logged and the
    connection closed, so the client sees a truncated answer."""
    protocol, transport = server.connect()
    with capturedLogs() as events:
        protocol.dataReceived(b"GET /boom-late HTTP/1.1\r\nHost: ridad\r\n\r\n")
    assert transport.value().startswith(b"HTTP/1.1 200 ")
    assert transport.disconnecting
    assert [e["log_failure"].value.args for e in events if "log_failure" in e] == [
        ("a bug after the answer began",)
    ]
