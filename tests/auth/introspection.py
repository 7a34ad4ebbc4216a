"""A fake OAuth 2.0 token introspection endpoint (RFC 7662) and userinfo
endpoint, as a Klein app the tests serve on 127.0.0.1 port 0 (or through
StubTreq)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from klein import Klein
from twisted.internet.defer import Deferred
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from twisted.web.iweb import IRequest

CLIENT_ID = "ridad"
CLIENT_SECRET = "s3cret:with/odd chars"


@dataclass
class FakeIdentityProvider:
    """Tokens it knows (token -> introspection claims) and what it was asked."""

    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    userinfo: dict[str, dict[str, Any]] = field(default_factory=dict)
    introspections: list[str] = field(default_factory=list)
    userinfo_calls: list[str] = field(default_factory=list)
    #: Sent instead of the claims by the introspection endpoint, when set.
    raw_introspection: bytes | None = None
    app = Klein()

    def add_token(
        self,
        token: str,
        *,
        username: str,
        groups: list[str] | None = None,
        scope: str = "openid https://rida.example.org/submit",
        exp: float | None = None,
        active: bool = True,
        **claims: Any,
    ) -> str:
        """Know ``token`` as a token of ``username``; return it."""
        entry: dict[str, Any] = {"active": active, "scope": scope, "sub": username}
        if username:
            entry["username"] = username
        if groups is not None:
            entry["groups"] = groups
        if exp is not None:
            entry["exp"] = exp
        entry.update(claims)
        self.tokens[token] = entry
        return token

    @app.route("/introspect", methods=["POST"])
    def introspect(self, request: IRequest) -> bytes:
        """RFC 7662: the token's claims for an authenticated client."""
        request.setHeader(b"Content-Type", b"application/json")
        if not _client_ok(request.getHeader(b"authorization")):
            request.setResponseCode(401)
            return json.dumps({"error": "invalid_client"}).encode()
        token = (request.args.get(b"token") or [b""])[0].decode()
        self.introspections.append(token)
        if self.raw_introspection is not None:
            return self.raw_introspection
        return json.dumps(self.tokens.get(token, {"active": False})).encode()

    @app.route("/hang", methods=["POST", "GET"])
    def hang(self, request: IRequest) -> Deferred[bytes]:
        """Never answer (for timeouts)."""
        return Deferred()

    @app.route("/userinfo", methods=["GET"])
    def user_info(self, request: IRequest) -> bytes:
        """OpenID Connect userinfo for a bearer token."""
        request.setHeader(b"Content-Type", b"application/json")
        header = (request.getHeader(b"authorization") or b"").decode()
        token = header.removeprefix("Bearer ")
        self.userinfo_calls.append(token)
        if token not in self.userinfo:
            request.setResponseCode(401)
            return b"{}"
        return json.dumps(self.userinfo[token]).encode()


def _client_ok(header: bytes | None) -> bool:
    """Whether ``header`` is HTTP Basic with ridad's id and secret."""
    if not header or not header.startswith(b"Basic "):
        return False
    decoded = base64.b64decode(header[6:]).decode()
    client_id, _, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) == (CLIENT_ID, CLIENT_SECRET)


class _OneAnswerPerConnection(ProtocolWrapper):
    """Answers the first request of a connection and keeps the connection
    open; a later request on it is dropped without an answer."""

    answered = False

    def write(self, data: bytes) -> None:
        """Note that an answer went out."""
        self.answered = True
        super().write(data)

    def writeSequence(self, data: Any) -> None:
        """Note that an answer went out."""
        self.answered = True
        super().writeSequence(data)

    def dataReceived(self, data: bytes) -> None:
        """Drop the connection when a request follows an answer."""
        if self.answered:
            self.factory.dropped += 1
            self.transport.abortConnection()
            return
        super().dataReceived(data)


class DropsKeptAliveConnections(WrappingFactory):
    """A provider that closes the kept-alive connections clients hold.

    Its answers keep the connection open (HTTP/1.1), as a real provider's
    do, but it has closed the connection by the time the client sends the
    next request on it: that request is dropped unanswered, which the
    client sees as ``ResponseNeverReceived``.
    """

    protocol = _OneAnswerPerConnection

    def __init__(self, wrapped: Any) -> None:
        super().__init__(wrapped)
        self.dropped = 0
