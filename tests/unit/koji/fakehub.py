"""A tiny scripted Koji hub for the client's unit tests, served in memory.

``FakeHub`` is a twisted.web resource decoding each POST the way the real hub
does (``koji.xmlrpcplus`` and ``koji.decode_args``); it answers from a script
of replies, else from Python functions registered per method, with built-in
``multiCall`` dispatch and fast-upload storage. ``FlakyAgent`` sits between
treq and ``RequestTraversalAgent`` to refuse connections or lose replies, the
network trouble a socket-free test can still have.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import koji
from koji import xmlrpcplus
from treq.client import HTTPClient
from treq.testing import RequestTraversalAgent
from twisted.internet.defer import Deferred, fail
from twisted.internet.error import ConnectionLost
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from twisted.web.client import ResponseFailed
from twisted.web.iweb import IAgent
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request
from zope.interface import implementer

from ridad.koji.auth import KojiAuth
from ridad.koji.client import KojiClient
from ridad.koji.retry import RetryPolicy
from ridad.metrics.instruments import Metrics

HUB_URL = "http://koji.test/kojihub"
SESSION_HEADERS = ("koji-session-id", "koji-session-key", "koji-session-callnum")


@dataclass
class Received:
    """One request as the hub saw it."""

    uri: str
    headers: dict[str, str]
    body: bytes
    method: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def callnum(self) -> int | None:
        """The Koji-Session-Callnum header as an int, if sent."""
        value = self.headers.get("koji-session-callnum")
        return None if value is None else int(value)

    @property
    def session(self) -> tuple[str | None, ...]:
        """The three session headers (None where absent)."""
        return tuple(self.headers.get(name) for name in SESSION_HEADERS)


@dataclass
class Reply:
    """A scripted answer: an HTTP status, a content type and a body."""

    status: int = 200
    body: bytes = b""
    content_type: bytes = b"text/xml"
    hang: bool = False


def result(value: Any) -> Reply:
    """A successful XML-RPC answer carrying ``value``."""
    return Reply(body=xmlrpcplus.dumps((value,), methodresponse=1).encode())


def fault(code: int, message: str) -> Reply:
    """An XML-RPC ``<fault>`` answer."""
    return Reply(body=xmlrpcplus.dumps(xmlrpcplus.Fault(code, message)).encode())


def status(code: int) -> Reply:
    """A bare HTTP error status."""
    return Reply(status=code, body=b"error", content_type=b"text/plain")


HANG = Reply(hang=True)


class FakeHub(Resource):
    """The scripted hub; ``received`` lists every request in arrival order."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.received: list[Received] = []
        self.hanging: list[Request] = []
        self.files: dict[str, bytearray] = {}
        self.methods: dict[str, Callable[..., Any]] = {
            "login": lambda *a, **k: {"session-id": 7, "session-key": "7-firstkey"},
            "sslLogin": lambda *a, **k: {"session-id": 7, "session-key": "7-sslkey"},
            "logout": lambda **k: None,
            "checkUpload": self._check_upload,
        }
        self._script: deque[Reply] = deque()

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies``, in order."""
        self._script.extend(replies)

    def calls(self, method: str | None = None) -> list[Received]:
        """The requests received, optionally only those of ``method``."""
        return [r for r in self.received if method in (None, r.method)]

    def render_POST(self, request: Request) -> bytes | int:
        received = _decode(request)
        self.received.append(received)
        reply = self._script.popleft() if self._script else self._answer(received)
        if reply.hang:
            self.hanging.append(request)
            return NOT_DONE_YET
        request.setResponseCode(reply.status)
        request.setHeader(b"Content-Type", reply.content_type)
        request.setHeader(b"Koji-Version", b"1.35.3")
        return reply.body

    def _answer(self, received: Received) -> Reply:
        try:
            if received.method == "rawUpload":
                return result(self._store_chunk(received))
            if received.method == "multiCall":
                return result([self._entry(c) for c in received.args[0]])
            handler = self.methods.get(received.method)
            if handler is None:
                raise koji.GenericError(f"Invalid method: {received.method}")
            return result(handler(*received.args, **received.kwargs))
        except koji.GenericError as exc:
            return fault(exc.faultCode, str(exc))

    def _entry(self, call: dict[str, Any]) -> Any:
        args, kwargs = koji.decode_args(*call["params"])
        try:
            return [self.methods[call["methodName"]](*args, **kwargs)]
        except koji.GenericError as exc:
            return {"faultCode": exc.faultCode, "faultString": str(exc)}

    def _store_chunk(self, received: Received) -> dict[str, Any]:
        query = parse_qs(urlsplit(received.uri).query)
        where = f"{query['filepath'][0]}/{query['filename'][0]}"
        offset = int(query["offset"][0])
        stored = self.files.setdefault(where, bytearray())
        stored[offset : offset + len(received.body)] = received.body
        return {
            "size": len(received.body),
            "fileverify": "adler32",
            "offset": offset,
            "hexdigest": f"{zlib.adler32(received.body):08x}",
        }

    def _check_upload(self, path: str, name: str, **kwargs: Any) -> Any:
        data = self.files.get(f"{path}/{name}")
        if data is None:
            return None
        digest = f"{zlib.adler32(bytes(data)):08x}"
        return {
            "size": len(data),
            "mtime": 1.5,
            "sumlength": len(data),
            "hexdigest": digest,
        }


def _decode(request: Request) -> Received:
    body = request.content.read()
    headers = {
        name.decode().lower(): values[-1].decode()
        for name, values in request.requestHeaders.getAllRawHeaders()
    }
    received = Received(uri=request.uri.decode(), headers=headers, body=body, method="")
    if headers.get("content-type") == "application/octet-stream":
        received.method = "rawUpload"
        return received
    params, received.method = xmlrpcplus.loads(body)
    received.args, received.kwargs = koji.decode_args(*params)
    return received


@implementer(IAgent)
class FlakyAgent:
    """Wraps an agent: refuses the next requests, or loses their replies.

    ``sent`` lists the hub methods of each request let through: its method,
    or the methods of its entries for a multicall (``rawUpload`` for a fast
    upload).
    """

    def __init__(self, agent: IAgent) -> None:
        self._agent = agent
        self.refusals: list[BaseException] = []
        self.lost_replies = 0
        self.sent: list[tuple[str, ...]] = []

    def request(
        self, method: bytes, uri: bytes, headers: Any = None, bodyProducer: Any = None
    ) -> Deferred[Any]:
        self.sent.append(_methods_of(_body_of(bodyProducer)))
        if self.refusals:
            return fail(self.refusals.pop(0))
        d = self._agent.request(method, uri, headers, bodyProducer)
        if self.lost_replies:
            self.lost_replies -= 1
            d.addCallback(_lose)
        return d


def _body_of(producer: Any) -> bytes:
    """The bytes a body producer that writes at once (ridad's) produces."""
    written: list[bytes] = []
    if producer is not None:
        producer.startProducing(SimpleNamespace(write=written.append))
    return b"".join(written)


def _methods_of(body: bytes) -> tuple[str, ...]:
    if not body.startswith(b"<?xml"):
        return ("rawUpload",)
    params, method = xmlrpcplus.loads(body)
    if method == "multiCall":
        return tuple(entry["methodName"] for entry in params[0])
    return (method,)


def _lose(response: Any) -> Any:
    raise ResponseFailed([Failure(ConnectionLost("the reply was lost"))])


@dataclass
class World:
    """A client wired to a fake hub, on a fake clock."""

    clock: Clock
    hub: FakeHub
    agent: FlakyAgent
    traversal: RequestTraversalAgent
    client: KojiClient

    def finish_hanging(self, reply: Reply) -> None:
        """Answer the oldest hanging request with ``reply`` and deliver it."""
        request = self.hanging_request()
        request.setResponseCode(reply.status)
        request.setHeader(b"Content-Type", reply.content_type)
        request.write(reply.body)
        request.finish()
        self.traversal.flush()

    def hanging_request(self) -> Request:
        """Take the oldest request the hub has not answered."""
        return self.hub.hanging.pop(0)


def make_world(
    *,
    auth: KojiAuth | None = None,
    retry: RetryPolicy | None = None,
    random: Callable[[], float] = lambda: 1.0,
    timeout_seconds: float = 120.0,
    metrics: Metrics | None = None,
) -> World:
    """A KojiClient on a fresh FakeHub; jitter fixed at the top by default."""
    clock = Clock()
    hub = FakeHub()
    traversal = RequestTraversalAgent(hub)
    agent = FlakyAgent(traversal)
    client = KojiClient(
        http=HTTPClient(agent),
        hub_url=HUB_URL,
        clock=clock,
        auth=auth,
        retry=retry or RetryPolicy(),
        random=random,
        timeout_seconds=timeout_seconds,
        metrics=metrics,
    )
    return World(clock, hub, agent, traversal, client)
