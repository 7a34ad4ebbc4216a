"""Fixtures of the authentication tests: a private Kerberos realm, a test
PKI, a fake identity provider served on 127.0.0.1 port 0, and ridad
daemons configured for each method.

Test modules elsewhere import the fixtures they use from here.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_twisted
from twisted.web.server import Site

from tests.auth.certs import TlsFiles, make_pki
from tests.auth.introspection import (
    CLIENT_ID,
    CLIENT_SECRET,
    DropsKeptAliveConnections,
    FakeIdentityProvider,
)
from tests.auth.kdc import REALM, PrivateRealm, kdc_missing
from tests.helpers import missing

#: Users of the realm, and the groups the tests give them.
KERBEROS_USERS = ("alice", "bob", "carol")
SERVICE_PRINCIPAL = f"HTTP/localhost@{REALM}"
KOJI_CLIENT_PRINCIPAL = f"ridad@{REALM}"


@pytest.fixture(scope="session")
def kerberos_realm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRealm]:
    """A KDC for RIDAD.TEST on loopback, with HTTP/localhost, users and ridad.

    ``KRB5_CONFIG`` points at the realm for the whole session.
    """
    if problem := kdc_missing():
        missing(problem)
    realm = PrivateRealm(tmp_path_factory.mktemp("krb5"))
    saved = {k: os.environ.get(k) for k in ("KRB5_CONFIG", "KRB5RCACHEDIR")}
    try:
        realm.create()
        for principal in (
            SERVICE_PRINCIPAL,
            KOJI_CLIENT_PRINCIPAL,
            *(f"{user}@{REALM}" for user in KERBEROS_USERS),
        ):
            realm.add_principal(principal)
    except (OSError, RuntimeError) as e:
        realm.destroy()
        missing(f"the private Kerberos realm did not start: {e}")
    os.environ["KRB5_CONFIG"] = str(realm.krb5_conf)
    os.environ["KRB5RCACHEDIR"] = str(realm.directory / "rcache")
    yield realm
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    realm.destroy()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A CA, ridad's server certificate and client certificates."""
    return make_pki(
        tmp_path_factory.mktemp("pki"), ("alice", "bob", "carol", "<anonymous>")
    )


@dataclass
class ServedProvider:
    """The fake identity provider and where it listens."""

    provider: FakeIdentityProvider
    base_url: str
    port: Any
    #: The factory when the provider drops kept-alive connections.
    dropping: DropsKeptAliveConnections | None = None

    def oidc_section(self, **overrides: Any) -> dict[str, Any]:
        """An ``auth.oidc`` section pointing at this provider."""
        section: dict[str, Any] = {
            "introspection_url": f"{self.base_url}/introspect",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "required_scopes": ["https://rida.example.org/submit"],
            "username_claim": "username",
            "groups_claim": "groups",
        }
        section.update(overrides)
        return section


@pytest_twisted.async_yield_fixture
async def identity_provider() -> AsyncIterator[ServedProvider]:
    """The fake introspection/userinfo server on 127.0.0.1, a free port."""
    from twisted.internet import reactor

    provider = FakeIdentityProvider()
    port = reactor.listenTCP(0, Site(provider.app.resource()), interface="127.0.0.1")
    yield ServedProvider(
        provider=provider,
        base_url=f"http://127.0.0.1:{port.getHost().port}",
        port=port,
    )
    await port.stopListening()


@pytest_twisted.async_yield_fixture
async def dropping_identity_provider() -> AsyncIterator[ServedProvider]:
    """The fake provider, closing every kept-alive connection after one answer."""
    from twisted.internet import reactor

    provider = FakeIdentityProvider()
    factory = DropsKeptAliveConnections(Site(provider.app.resource()))
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    yield ServedProvider(
        provider=provider,
        base_url=f"http://127.0.0.1:{port.getHost().port}",
        port=port,
        dropping=factory,
    )
    await port.stopListening()


def auth_section(method: str, **settings: Any) -> dict[str, Any]:
    """An ``auth`` section: packagers submit, admins cancel anything."""
    section: dict[str, Any] = {
        "method": method,
        "allowed_groups": ["packager"],
        "allowed_users": ["carol"],
        "admin_groups": ["admins"],
    }
    section.update(settings)
    return section


def kerberos_settings(realm: PrivateRealm) -> dict[str, Any]:
    """An ``auth.kerberos`` section for the realm's HTTP/localhost keytab."""
    return {
        "keytab": str(realm.keytabs[SERVICE_PRINCIPAL]),
        "principal": SERVICE_PRINCIPAL,
        "groups": {"alice": ["packager"], "bob": ["admins"]},
    }


def ssl_settings(files: TlsFiles) -> dict[str, Any]:
    """An ``auth.ssl`` section for the test PKI."""
    return {
        "ca": str(files.ca),
        "cert": str(files.server_cert),
        "key": str(files.server_key),
        "groups": {"alice": ["packager"], "bob": ["admins"]},
    }
