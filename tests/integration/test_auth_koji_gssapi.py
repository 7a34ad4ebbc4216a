"""ridad's own Koji login with ``koji.auth.method: gssapi``: SPNEGO to the
hub's ``ssllogin`` path, against kojisim accepting Negotiate with a keytab
of the private realm, as a hub behind mod_auth_gssapi does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_twisted
from treq.client import HTTPClient
from twisted.internet.threads import deferToThreadPool
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.server import Site

from ridad.config.model import KojiAuthConfig, KojiConfig
from ridad.errors import KojiError
from ridad.koji.client import GssapiAuth, KojiClient, RetryPolicy
from ridad.kojisim.hub import KojiHub
from ridad.kojisim.negotiate import NegotiateAcceptor
from ridad.kojisim.resource import hub_root
from ridad.scheduler.koji_client import make_koji_client
from tests.auth.fixtures import (  # noqa: F401 - fixtures
    KOJI_CLIENT_PRINCIPAL,
    SERVICE_PRINCIPAL,
    kerberos_realm,
)
from tests.auth.kdc import REALM, PrivateRealm


@dataclass
class Hub:
    """A kojisim listening on 127.0.0.1, reached as ``localhost``."""

    url: str
    port: Any
    hub: KojiHub


async def serve_hub(negotiate: NegotiateAcceptor | None) -> Hub:
    """Serve a fresh kojisim; ``negotiate`` makes /ssllogin accept SPNEGO."""
    from twisted.internet import reactor

    hub = KojiHub(clock=reactor, reactor=reactor, users={})
    port = reactor.listenTCP(
        0, Site(hub_root(hub, negotiate=negotiate)), interface="127.0.0.1"
    )
    return Hub(
        url=f"http://localhost:{port.getHost().port}/kojihub", port=port, hub=hub
    )


@pytest_twisted.async_yield_fixture
async def kerberized_hub(
    kerberos_realm: PrivateRealm,  # noqa: F811
) -> AsyncIterator[Hub]:
    """kojisim whose /ssllogin accepts SPNEGO for HTTP/localhost."""
    acceptor = NegotiateAcceptor(
        keytab=str(kerberos_realm.keytabs[SERVICE_PRINCIPAL]),
        principal=SERVICE_PRINCIPAL,
    )
    hub = await serve_hub(acceptor)
    yield hub
    await hub.port.stopListening()


@pytest_twisted.async_yield_fixture
async def plain_hub() -> AsyncIterator[Hub]:
    """kojisim without Kerberos: /ssllogin only knows client certificates."""
    hub = await serve_hub(None)
    yield hub
    await hub.port.stopListening()


@pytest_twisted.async_yield_fixture
async def http_pool() -> AsyncIterator[HTTPConnectionPool]:
    """A connection pool closed after the test."""
    from twisted.internet import reactor

    pool = HTTPConnectionPool(reactor, persistent=False)
    yield pool
    await pool.closeCachedConnections()


def gssapi_client(
    hub: Hub, pool: HTTPConnectionPool, principal: str, keytab: str
) -> KojiClient:
    """A Koji client logging in with GSSAPI, tokens made in the thread pool."""
    from twisted.internet import reactor

    return KojiClient(
        http=HTTPClient(Agent(reactor, pool=pool)),
        hub_url=hub.url,
        clock=reactor,
        auth=GssapiAuth(
            principal=principal,
            keytab=keytab,
            run_blocking=lambda f: deferToThreadPool(
                reactor, reactor.getThreadPool(), f
            ),
        ),
        retry=RetryPolicy(give_up_after_seconds=5),
    )


@pytest_twisted.ensureDeferred
async def test_gssapi_login_makes_the_principal_the_koji_user(
    kerberized_hub: Hub,
    http_pool: HTTPConnectionPool,
    kerberos_realm: PrivateRealm,  # noqa: F811
) -> None:
    """ridad@RIDAD.TEST logs in with its keytab and calls as user ridad."""
    client = gssapi_client(
        kerberized_hub,
        http_pool,
        KOJI_CLIENT_PRINCIPAL,
        str(kerberos_realm.keytabs[KOJI_CLIENT_PRINCIPAL]),
    )
    user = await client.call("getLoggedInUser")
    assert user["name"] == "ridad"
    await client.logout()
    await client.login()
    assert (await client.call("getLoggedInUser"))["name"] == "ridad"


@pytest_twisted.ensureDeferred
async def test_expired_session_is_renewed_with_a_fresh_token(
    kerberized_hub: Hub,
    http_pool: HTTPConnectionPool,
    kerberos_realm: PrivateRealm,  # noqa: F811
) -> None:
    """After the hub expires the session, the client renews it over SPNEGO."""
    client = gssapi_client(
        kerberized_hub,
        http_pool,
        KOJI_CLIENT_PRINCIPAL,
        str(kerberos_realm.keytabs[KOJI_CLIENT_PRINCIPAL]),
    )
    await client.login()
    trips = client.round_trips
    kerberized_hub.hub.expire_sessions()
    assert (await client.call("getLoggedInUser"))["name"] == "ridad"
    assert client.round_trips == trips + 3  # refused, renewal, retried call


@pytest_twisted.ensureDeferred
async def test_configured_gssapi_client_logs_in(
    kerberized_hub: Hub,
    kerberos_realm: PrivateRealm,  # noqa: F811
) -> None:
    """``koji.auth: {method: gssapi, ...}`` builds a client that logs in."""
    from twisted.internet import reactor

    config = KojiConfig(
        hub=kerberized_hub.url,
        auth=KojiAuthConfig(
            method="gssapi",
            principal=KOJI_CLIENT_PRINCIPAL,
            keytab=str(kerberos_realm.keytabs[KOJI_CLIENT_PRINCIPAL]),
        ),
        give_up_after_seconds=5,
    )
    client = make_koji_client(reactor, config)
    assert (await client.call("getLoggedInUser"))["name"] == "ridad"
    await client.logout()


@pytest_twisted.ensureDeferred
async def test_keytab_without_the_principal_fails_the_login(
    kerberized_hub: Hub,
    http_pool: HTTPConnectionPool,
    kerberos_realm: PrivateRealm,  # noqa: F811
) -> None:
    """A keytab holding another principal's key is a KojiError, not a retry."""
    client = gssapi_client(
        kerberized_hub,
        http_pool,
        KOJI_CLIENT_PRINCIPAL,
        str(kerberos_realm.keytabs[f"alice@{REALM}"]),
    )
    with pytest.raises(KojiError, match="Kerberos login to Koji as ridad@"):
        await client.login()


@pytest_twisted.ensureDeferred
async def test_hub_without_mutual_authentication_is_refused(
    plain_hub: Hub,
    http_pool: HTTPConnectionPool,
    kerberos_realm: PrivateRealm,  # noqa: F811
) -> None:
    """A hub that does not prove its identity with a Negotiate answer is refused."""
    client = gssapi_client(
        plain_hub,
        http_pool,
        KOJI_CLIENT_PRINCIPAL,
        str(kerberos_realm.keytabs[KOJI_CLIENT_PRINCIPAL]),
    )
    with pytest.raises(KojiError, match="did not prove its identity"):
        await client.login()
