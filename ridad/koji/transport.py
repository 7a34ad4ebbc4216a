"""One HTTP exchange with the Koji hub, and what its failures mean.

Transport trouble (refused, reset or lost connections, DNS, TLS handshakes
other than certificate problems, timeouts) and HTTP 5xx/408 become
``KojiUnavailable``, which the client retries. A certificate the other side
will not accept, or any other HTTP status, becomes a plain ``KojiError``:
waiting does not fix those.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from OpenSSL import SSL
from treq.client import HTTPClient
from twisted.internet import error
from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IConsumer, IReactorTime
from twisted.web.client import (
    RequestNotSent,
    RequestTransmissionFailed,
    ResponseFailed,
    ResponseNeverReceived,
)
from twisted.web.http_headers import Headers
from twisted.web.iweb import IBodyProducer
from zope.interface import implementer

from ridad.errors import KojiError, KojiUnavailable

TEXT_XML = b"text/xml"
OCTET_STREAM = b"application/octet-stream"
USER_AGENT = b"koji/1"

TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    error.ConnectError,
    error.ConnectionClosed,
    error.DNSLookupError,
    RequestNotSent,
    RequestTransmissionFailed,
    ResponseFailed,
    ResponseNeverReceived,
    SSL.Error,
)
_CERTIFICATE_TROUBLE = re.compile(r"certificate|unknown ca", re.IGNORECASE)


class Authorization(Protocol):
    """An ``Authorization`` header made for one attempt (SPNEGO)."""

    header: bytes

    def check_reply(self, www_authenticate: Sequence[bytes]) -> None:
        """Check the hub's answer to it (mutual authentication).

        :raises KojiError: the hub did not prove its identity.
        """


@dataclass(frozen=True)
class HubRequest:
    """One POST to the hub: where, what, and the method name for logs.

    ``authorize``, when set, makes a fresh ``Authorization`` for each attempt.
    ``repeatable`` marks a request that changes nothing on the hub; ``once``
    one that gets a single attempt, never retried.
    """

    url: str
    body: bytes
    content_type: bytes
    method: str
    authorize: Callable[[], Awaitable[Authorization]] | None = None
    repeatable: bool = False
    once: bool = False


@implementer(IBodyProducer)
class _BytesProducer:
    """A body producer writing its bytes at once (no cooperator, no reactor)."""

    def __init__(self, body: bytes) -> None:
        self._body = body
        self.length = len(body)

    def startProducing(self, consumer: IConsumer) -> Deferred[None]:
        consumer.write(self._body)
        return succeed(None)

    def stopProducing(self) -> None:
        pass

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass


def request_headers(content_type: bytes, session: Mapping[str, str]) -> Headers:
    """The headers of a hub request: koji's User-Agent, the type, the session."""
    headers = Headers(
        {b"User-Agent": [USER_AGENT], b"Content-Type": [content_type]},
    )
    for name, value in session.items():
        headers.setRawHeaders(name.encode("ascii"), [value.encode("ascii")])
    return headers


async def _exchange(
    http: HTTPClient, request: HubRequest, headers: Headers
) -> tuple[int, bytes]:
    authorization = None
    if request.authorize is not None:
        authorization = await request.authorize()
        headers.setRawHeaders(b"Authorization", [authorization.header])
    response = await http.post(
        request.url,
        data=_BytesProducer(request.body),
        headers=headers,
        allow_redirects=False,
    )
    body = await response.content()
    if authorization is not None and response.code == 200:
        authorization.check_reply(
            response.headers.getRawHeaders(b"WWW-Authenticate") or []
        )
    return response.code, body


async def post(
    http: HTTPClient,
    request: HubRequest,
    session: Mapping[str, str],
    *,
    clock: IReactorTime,
    timeout_seconds: float,
) -> bytes:
    """POST ``request`` and return the body of the hub's 200 answer.

    The whole exchange, reading the body included, must finish within
    ``timeout_seconds`` on ``clock``.

    :raises KojiUnavailable: for transport trouble, a timeout, HTTP 5xx or 408.
    :raises KojiError: for a certificate problem or another HTTP status.
    """
    headers = request_headers(request.content_type, session)
    exchange = Deferred.fromCoroutine(_exchange(http, request, headers))
    timed_out = False

    def time_out() -> None:
        nonlocal timed_out
        timed_out = True
        exchange.cancel()

    timer = clock.callLater(timeout_seconds, time_out)
    try:
        code, body = await exchange
    except Exception as exc:
        if timed_out:
            raise KojiUnavailable(f"Koji call {request.method} timed out") from exc
        if isinstance(exc, TRANSPORT_ERRORS):
            raise transport_error(exc, request.method) from exc
        raise
    finally:
        if timer.active():
            timer.cancel()
    return _body_of(code, body, request.method)


def _body_of(code: int, body: bytes, method: str) -> bytes:
    """The body of a 200; other statuses raise (5xx and 408 are retryable)."""
    if code == 200:
        return body
    message = f"Koji hub answered HTTP {code} to {method}"
    if code >= 500 or code == 408:
        raise KojiUnavailable(message, details={"http_status": code})
    raise KojiError(message, details={"http_status": code})


def transport_error(exc: BaseException, method: str) -> KojiError:
    """Translate a Twisted/TLS failure: retryable unless it is about certificates."""
    reason = _describe(exc)
    if any(_is_certificate_trouble(e) for e in _causes(exc)):
        return KojiError(f"TLS certificate problem talking to Koji: {reason}")
    return KojiUnavailable(f"Cannot reach the Koji hub for {method}: {reason}")


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions wrapped in it (``ResponseFailed.reasons``)."""
    found = [exc]
    for reason in getattr(exc, "reasons", None) or []:
        value = getattr(reason, "value", reason)
        if isinstance(value, BaseException):
            found.extend(_causes(value))
    return found


def _is_certificate_trouble(exc: BaseException) -> bool:
    """Whether a failure is a certificate verification or rejection problem."""
    if type(exc).__name__ in ("VerificationError", "CertificateError"):
        return True  # service_identity: the name does not match
    return isinstance(exc, SSL.Error) and bool(_CERTIFICATE_TROUBLE.search(str(exc)))


def _describe(exc: BaseException) -> str:
    """A short text naming the innermost causes of ``exc``."""
    causes = _causes(exc)
    inner: list[Any] = causes[1:] or causes
    return "; ".join(f"{type(e).__name__}: {e}" for e in inner)
