"""The HTTP protocol limits of the running daemon, over real loopback
sockets with the exact bytes: malformed and ambiguous requests, a body
declared too large, a trickling client, the connection cap, and paging
links that ignore the Host header."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    daemon_config,
    json_of,
    start_daemon,
)

GUARD_SECONDS = 20  # only so that a broken server fails the test instead of hanging it
MAX_BODY = 65536  # daemon_config's api.max_body_bytes
CAP = 3
PUBLIC = "https://mbs.example.org/ridad"


class RawClient(Protocol):
    """Sends bytes as given and collects everything until the server closes."""

    def __init__(self) -> None:
        self.received = b""
        self.closed: Deferred[bytes] = Deferred()
        self.closed.addTimeout(GUARD_SECONDS, reactor)

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        if not self.closed.called:
            self.closed.callback(self.received)


async def connect(daemon: RunningDaemon) -> RawClient:
    """A raw TCP connection to the daemon's API port."""
    port = urlsplit(daemon.base_url).port
    client = RawClient()
    await connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), client)
    return client


async def exchange(daemon: RunningDaemon, raw: bytes) -> bytes:
    """Send ``raw`` on a new connection; everything received until it closed."""
    client = await connect(daemon)
    assert client.transport is not None
    client.transport.write(raw)
    return await client.closed


def parse(raw: bytes) -> tuple[bytes, dict[bytes, bytes], Any]:
    """Status line, headers (lower-case names) and JSON body of one response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    pairs = (line.split(b": ", 1) for line in lines)
    headers = {name.lower(): value for name, value in pairs}
    if headers.get(b"transfer-encoding") == b"chunked":
        decoded = b""
        while True:
            size, _, body = body.partition(b"\r\n")
            if int(size, 16) == 0:
                break
            decoded, body = decoded + body[: int(size, 16)], body[int(size, 16) + 2 :]
        body = decoded
    else:
        assert len(body) == int(headers[b"content-length"])
    return status, headers, json.loads(body)


def expect_error(raw: bytes, status: int) -> dict[str, Any]:
    """The one response in ``raw`` is a JSON error of ``status``."""
    line, headers, body = parse(raw)
    assert line.startswith(b"HTTP/1.1 %d " % status), raw
    assert headers[b"content-type"] == b"application/json"
    assert body["status"] == status and body["error"] and body["message"]
    assert "Traceback" not in json.dumps(body)
    return body


@pytest_twisted.async_yield_fixture
async def limited(
    database_dsn: str, git_world: GitWorld, tmp_path: Path
) -> AsyncIterator[RunningDaemon]:
    """ridad with a cap of 3 connections and api.public_url set."""
    config = daemon_config(
        database_dsn,
        git_world,
        tmp_path / "state",
        api={"max_connections": CAP, "public_url": PUBLIC + "/"},
    )
    running = await start_daemon(config, tmp_path / "ridad.yaml")
    yield running
    await running.service.stopService()


@pytest_twisted.ensureDeferred
async def test_declared_body_over_the_limit_is_413_without_100_continue(
    limited: RunningDaemon,
) -> None:
    """Content-Length over api.max_body_bytes with Expect: 100-continue: a
    JSON 413 and the connection closed, with no 100 Continue before it."""
    raw = await exchange(
        limited,
        b"POST /rida/module-builds/ HTTP/1.1\r\nHost: ridad\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % (MAX_BODY + 1),
    )
    assert b"100 Continue" not in raw
    body = expect_error(raw, 413)
    assert body["message"] == f"the request body is over {MAX_BODY} bytes"


@pytest.mark.parametrize(
    "encodings",
    [
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
        b"Transfer-Encoding: chunked, identity\r\n",
    ],
    ids=["two-headers", "one-header"],
)
@pytest_twisted.ensureDeferred
async def test_two_transfer_encodings_are_a_json_400(
    limited: RunningDaemon, encodings: bytes
) -> None:
    """chunked then identity, as two headers or one, is refused with JSON 400."""
    raw = await exchange(
        limited,
        b"POST /rida/module-builds/ HTTP/1.1\r\nHost: ridad\r\n"
        + encodings
        + b"\r\n2\r\n{}\r\n0\r\n\r\n",
    )
    expect_error(raw, 400)


@pytest_twisted.ensureDeferred
async def test_garbage_request_line_is_a_json_400(limited: RunningDaemon) -> None:
    """A request line Twisted cannot parse gets a JSON 400, not an empty one."""
    raw = await exchange(limited, b"\x16\x03\x01 hello there\r\n\r\n")
    body = expect_error(raw, 400)
    assert "malformed" in body["message"]


@pytest.mark.parametrize(
    "request_line, status",
    [(b"DELETE /rida/module-builds/1", 501), (b"GET *", 405)],
)
@pytest_twisted.ensureDeferred
async def test_methods_refused_are_json(
    limited: RunningDaemon, request_line: bytes, status: int
) -> None:
    """DELETE of a build is the contract's JSON 501; ``GET *`` a JSON 405."""
    raw = await exchange(
        limited,
        request_line + b" HTTP/1.1\r\nHost: ridad\r\nConnection: close\r\n\r\n",
    )
    expect_error(raw, status)


@pytest_twisted.ensureDeferred
async def test_trickling_client_is_cut_at_the_deadline(
    database_dsn: str, git_world: GitWorld, tmp_path: Path
) -> None:
    """A client sending a byte every 50 ms is answered 408 and closed once
    api.request_timeout_seconds (1 s) have passed, long before its request
    is complete: the bytes do not extend the deadline."""
    config = daemon_config(
        database_dsn, git_world, tmp_path / "state", api={"request_timeout_seconds": 1}
    )
    daemon = await start_daemon(config, tmp_path / "ridad.yaml")
    try:
        request = b"GET /health HTTP/1.1\r\nX-Slow: " + b"a" * 400 + b"\r\n\r\n"
        client = await connect(daemon)
        sent = 0

        def one_byte() -> None:
            nonlocal sent
            if sent < len(request) and client.transport is not None:
                client.transport.write(request[sent : sent + 1])
                sent += 1

        trickle = LoopingCall(one_byte)
        trickle.start(0.05)
        raw = await client.closed
        trickle.stop()
        body = expect_error(raw, 408)
        assert "1 s" in body["message"]
        assert sent < len(request)
    finally:
        await daemon.service.stopService()


@pytest_twisted.ensureDeferred
async def test_connection_over_the_cap_is_refused_while_others_are_held(
    limited: RunningDaemon,
) -> None:
    """With api.max_connections (3) held open, the fourth connection gets a
    JSON 503 with Retry-After and is closed; when one held connection ends,
    a new one is served."""
    held = [await connect(limited) for _ in range(CAP)]
    refused = await connect(limited)
    line, headers, body = parse(await refused.closed)
    assert line.startswith(b"HTTP/1.1 503 ")
    assert headers[b"retry-after"] == b"5"
    assert body["status"] == 503 and "connections" in body["message"]
    assert all(not client.closed.called for client in held)
    first = held.pop(0)
    assert first.transport is not None
    first.transport.write(
        b"GET /health HTTP/1.1\r\nHost: ridad\r\nConnection: close\r\n\r\n"
    )
    assert (await first.closed).startswith(b"HTTP/1.1 200 ")
    raw = await exchange(
        limited, b"GET /health HTTP/1.1\r\nHost: ridad\r\nConnection: close\r\n\r\n"
    )
    assert raw.startswith(b"HTTP/1.1 200 ")
    for client in held:
        assert client.transport is not None
        client.transport.loseConnection()
        await client.closed


@pytest_twisted.ensureDeferred
async def test_paging_links_are_under_public_url_whatever_host_says(
    limited: RunningDaemon,
) -> None:
    """With api.public_url set, MBS meta links and the /rida/ Link header are
    absolute under it; a forged Host header appears nowhere."""
    evil = {b"Host": [b"evil.example.org"]}
    response = await treq.get(
        limited.url("/module-build-service/2/module-builds/?name=x&per_page=5"),
        headers=evil,
    )
    meta = (await json_of(response))["meta"]
    assert meta["first"] == (
        PUBLIC + "/module-build-service/2/module-builds/?name=x&page=1&per_page=5"
    )
    assert meta["next"] is None
    response = await treq.get(limited.url("/rida/module-builds/"), headers=evil)
    await response.content()
    [link] = response.headers.getRawHeaders(b"link")
    assert link.startswith(b"<" + PUBLIC.encode() + b"/rida/module-builds/?page=1&")
    assert b"evil" not in link
