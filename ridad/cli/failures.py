"""Why an exchange with the server failed on the way (refused, unknown
host, TLS, time-out, a connection closed without an answer), as a
``NetworkError`` that says what to check."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from OpenSSL import SSL
from twisted.internet.defer import CancelledError
from twisted.internet.error import (
    ConnectError,
    ConnectingCancelledError,
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
)
from twisted.python.failure import Failure
from twisted.web.client import RequestTransmissionFailed, ResponseFailed

from ridad.cli.exits import NetworkError

#: What treq raises when an exchange fails on the way.
NETWORK_FAILURES = (
    ConnectError,
    DNSLookupError,
    ResponseFailed,
    RequestTransmissionFailed,
    CancelledError,
    ConnectingCancelledError,
    TimeoutError,
    SSL.Error,
)


def network_error(
    exc: BaseException, server: str, timeout_seconds: float
) -> NetworkError:
    """What a failed exchange with ``server`` means for the user, and what
    to check."""
    for cause in _causes(exc):
        if isinstance(cause, ConnectionRefusedError):
            return NetworkError(
                f"cannot reach {server}: connection refused;"
                " is ridad running? check --server"
            )
        if isinstance(cause, DNSLookupError):
            host = urlsplit(server).hostname
            return NetworkError(
                f"cannot reach {server}: unknown host {host}; check --server"
            )
        if isinstance(cause, SSL.Error):
            return NetworkError(
                f"TLS with {server} failed ({_ssl_text(cause)}); check --ca,"
                " --cert and --key"
            )
        if isinstance(
            cause,
            CancelledError | ConnectingCancelledError | TimeoutError | TCPTimedOutError,
        ):
            return NetworkError(
                f"no answer from {server} within {timeout_seconds:g} s;"
                " is it overloaded, or behind a firewall? check --server"
            )
        if isinstance(cause, ConnectionLost | ConnectionDone):
            return NetworkError(
                f"{server} closed the connection without answering; is it"
                " an HTTP server (http:// or https://)? check --server"
            )
    texts = [
        str(c) or type(c).__name__ for c in _causes(exc) if not hasattr(c, "reasons")
    ]
    text = "; ".join(texts) or type(exc).__name__
    return NetworkError(f"talking to {server} failed: {text}; check --server")


def _causes(exc: BaseException) -> Iterable[BaseException]:
    """``exc`` and the reasons wrapped in it (``ResponseFailed.reasons``)."""
    yield exc
    for reason in getattr(exc, "reasons", ()):
        if isinstance(reason, Failure):
            yield from _causes(reason.value)


def _ssl_text(error: BaseException) -> str:
    details = error.args[0] if error.args else None
    if isinstance(details, list) and details and isinstance(details[0], tuple):
        return "; ".join(str(part[-1]) for part in details)
    return str(error) or type(error).__name__
