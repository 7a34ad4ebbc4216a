"""Token introspection over real connections (127.0.0.1, the real reactor)
to a provider that closes kept-alive connections: a request that gets no
answer on a pooled connection is sent once more on a new one."""

from __future__ import annotations

from typing import Any

import pytest_twisted
from treq.client import HTTPClient
from twisted.internet.defer import Deferred
from twisted.internet.protocol import Factory, Protocol
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.test.requesthelper import DummyRequest

from ridad.api.auth_oidc import TokenIntrospectionAuthenticator
from ridad.config.model import OidcConfig
from ridad.errors import Unavailable
from tests.auth.fixtures import (  # noqa: F401 - fixtures
    ServedProvider,
    dropping_identity_provider,
)
from tests.auth.introspection import CLIENT_ID, CLIENT_SECRET

FAR_FUTURE = 4102444800  # 2100-01-01


def clients(reactor: Any) -> tuple[HTTPClient, HTTPClient, list[HTTPConnectionPool]]:
    """A client keeping connections alive, one that never does, their pools."""
    kept = HTTPConnectionPool(reactor, persistent=True)
    fresh = HTTPConnectionPool(reactor, persistent=False)
    return (
        HTTPClient(Agent(reactor, pool=kept)),
        HTTPClient(Agent(reactor, pool=fresh)),
        [kept, fresh],
    )


def authenticator(url: str) -> tuple[TokenIntrospectionAuthenticator, list[Any]]:
    """An authenticator as ``make_authentication`` builds it, and its pools."""
    from twisted.internet import reactor

    http, fresh, pools = clients(reactor)
    settings = OidcConfig(
        introspection_url=url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    )
    auth = TokenIntrospectionAuthenticator(
        settings=settings, http=http, fresh_http=fresh, clock=reactor
    )
    return auth, pools


def bearer(token: str) -> DummyRequest:
    """A request carrying ``token``."""
    request = DummyRequest([b""])
    request.requestHeaders.setRawHeaders(b"authorization", [f"Bearer {token}".encode()])
    return request


@pytest_twisted.ensureDeferred
async def test_request_dropped_on_a_kept_alive_connection_is_sent_again(
    dropping_identity_provider: ServedProvider,  # noqa: F811
) -> None:
    """t1 and t3 meet the closed connection t0 and t2 left in the pool and are
    answered on a new one: no Unavailable."""
    served = dropping_identity_provider
    for n in range(4):
        served.provider.add_token(f"t{n}", username=f"u{n}", exp=FAR_FUTURE)
    auth, pools = authenticator(f"{served.base_url}/introspect")
    try:
        users = [(await auth.authenticate(bearer(f"t{n}"))).user for n in range(4)]
    finally:
        for pool in pools:
            await pool.closeCachedConnections()
    assert users == ["u0", "u1", "u2", "u3"]
    assert served.provider.introspections == ["t0", "t1", "t2", "t3"]
    assert served.dropping is not None and served.dropping.dropped == 2


class _Silent(Protocol):
    """Closes the connection as soon as a request arrives."""

    def dataReceived(self, data: bytes) -> None:
        """Drop the connection unanswered."""
        self.factory.requests += 1
        self.transport.abortConnection()


@pytest_twisted.ensureDeferred
async def test_second_dropped_request_is_503() -> None:
    """The request is sent twice at most; then the provider is unavailable."""
    from twisted.internet import reactor

    factory = Factory.forProtocol(_Silent)
    factory.requests = 0
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    auth, pools = authenticator(f"http://127.0.0.1:{port.getHost().port}/x")
    try:
        outcome = Deferred.fromCoroutine(auth.authenticate(bearer("t")))
        try:
            await outcome
        except Unavailable as e:
            assert "cannot be reached" in e.message
        else:
            raise AssertionError("a provider that never answers was accepted")
    finally:
        for pool in pools:
            await pool.closeCachedConnections()
        await port.stopListening()
    assert factory.requests == 2
