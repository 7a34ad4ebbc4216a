"""The hub over HTTP: a ``twisted.web`` resource at ``/kojihub``.

Every response carries ``Koji-Version``. A non-POST gets 405 (text/plain,
``Allow: POST``), an empty or malformed body 400, anything else 200 with an
XML-RPC document. ``/kojihub/ssllogin`` is the same hub, but there (and only
there) a verified TLS client certificate's CN is handed to ``sslLogin``; with
a ``NegotiateAcceptor``, so is the user of a good ``Authorization: Negotiate``
(a request with neither gets 401 ``WWW-Authenticate: Negotiate``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from cryptography.x509.oid import NameOID
from twisted.internet.interfaces import IDelayedCall, IReactorTime, ISSLTransport
from twisted.python.failure import Failure
from twisted.web.resource import IResource, NoResource, Resource
from twisted.web.server import NOT_DONE_YET, Request

from ridad.kojisim.sessions import RequestInfo
from ridad.kojisim.wire import HUB_VERSION

if TYPE_CHECKING:
    from ridad.kojisim.negotiate import NegotiateAcceptor

__all__ = ["HubFront", "Reply", "hub_root"]


@dataclass(frozen=True)
class Reply:
    """An HTTP response: status, content type, body and extra headers.

    ``from_hub`` False marks a reply a proxy in front made (no
    ``Koji-Version``); ``abort`` closes the connection instead of answering.
    """

    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = field(default=())
    from_hub: bool = True
    abort: bool = False


class HubFront(Protocol):
    """What the resource needs from the hub."""

    clock: IReactorTime

    def answer(
        self, method: bytes, body: bytes, info: RequestInfo, content_type: str
    ) -> Reply:
        """The reply to one HTTP request."""

    def take_dropped_connection(self) -> bool:
        """Whether this request's connection is to be dropped without a reply."""

    @property
    def reply_delay_seconds(self) -> float:
        """How long replies are held back."""


def hub_root(hub: HubFront, negotiate: NegotiateAcceptor | None = None) -> IResource:
    """A root resource serving the hub at ``/kojihub``."""
    root = Resource()
    root.putChild(b"kojihub", HubEndpoint(hub, negotiate=negotiate))
    return root


class HubEndpoint(Resource):
    """``/kojihub`` (and, as a child, ``/kojihub/ssllogin``)."""

    def __init__(
        self,
        hub: HubFront,
        *,
        ssl_login: bool = False,
        negotiate: NegotiateAcceptor | None = None,
    ) -> None:
        """Serve ``hub``; ``ssl_login`` marks the client-certificate path."""
        super().__init__()
        self._hub = hub
        self._ssl_login = ssl_login
        self._negotiate = negotiate
        self.isLeaf = ssl_login

    def getChild(self, path: bytes, request: Request) -> IResource:
        """``ssllogin`` is the certificate path; a trailing slash is the hub."""
        if path == b"":
            return self
        if path == b"ssllogin" and not self._ssl_login:
            return HubEndpoint(self._hub, ssl_login=True, negotiate=self._negotiate)
        return NoResource()

    def render(self, request: Request) -> int | bytes:
        """Answer a request (possibly later, or never when dropping)."""
        transport = request.channel.transport if request.channel else None
        if self._hub.take_dropped_connection():
            if transport is not None:
                transport.abortConnection()
            return NOT_DONE_YET
        client_cn = _client_cn(transport) if self._ssl_login else None
        if self._ssl_login and self._negotiate is not None and client_cn is None:
            accepted = self._negotiate.accept(
                request.getHeader(b"authorization") or b""
            )
            if accepted is None:
                request.setResponseCode(401)
                request.setHeader(b"WWW-Authenticate", b"Negotiate")
                return b"Kerberos (Negotiate) authentication required\n"
            client_cn, mutual = accepted
            request.setHeader(b"WWW-Authenticate", mutual.encode("ascii"))
        info = RequestInfo(
            headers={k.decode().lower(): v.decode() for k, v in _headers(request)},
            query=request.uri.partition(b"?")[2].decode("latin-1"),
            client_cn=client_cn,
        )
        content_type = (request.getHeader(b"content-type") or b"").decode("latin-1")
        body = request.content.read() if request.content is not None else b""
        reply = self._hub.answer(request.method, body, info, content_type)
        delay = self._hub.reply_delay_seconds
        if delay > 0:
            _deliver_later(self._hub.clock, delay, request, reply)
        else:
            _deliver(request, reply)
        return NOT_DONE_YET


def _headers(request: Request) -> list[tuple[bytes, bytes]]:
    """The request's headers (first value of each)."""
    return [
        (name, values[0]) for name, values in request.requestHeaders.getAllRawHeaders()
    ]


def _client_cn(transport: object) -> str | None:
    """The CN of the client's certificate, when TLS verified one."""
    if transport is None or not ISSLTransport.providedBy(transport):
        return None
    certificate = transport.getPeerCertificate()  # type: ignore[attr-defined]
    if certificate is None:
        return None
    names = certificate.to_cryptography().subject.get_attributes_for_oid(
        NameOID.COMMON_NAME
    )
    return str(names[0].value) if names else None


def _deliver(request: Request, reply: Reply) -> None:
    """Write a reply and finish the request (or abort the connection)."""
    if reply.abort:
        if request.channel is not None and request.channel.transport is not None:
            request.channel.transport.abortConnection()
        return
    request.setResponseCode(reply.status)
    if reply.from_hub:
        request.setHeader(b"Koji-Version", HUB_VERSION.encode())
    request.setHeader(b"Content-Type", reply.content_type.encode())
    request.setHeader(b"Content-Length", str(len(reply.body)).encode())
    for name, value in reply.headers:
        request.setHeader(name.encode(), value.encode())
    request.write(reply.body)
    request.finish()


def _deliver_later(
    clock: IReactorTime, delay: float, request: Request, reply: Reply
) -> None:
    """Write the reply after ``delay`` seconds, unless the client left first."""
    pending: IDelayedCall = clock.callLater(delay, _deliver, request, reply)

    def gone(reason: Failure) -> None:
        """The client went away: do not answer."""
        if pending.active():
            pending.cancel()

    request.notifyFinish().addErrback(gone)
