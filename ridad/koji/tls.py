"""The production HTTP client for Koji: TLS with an optional client certificate.

``make_http_client`` and ``https_policy`` read the certificate files synchronously: call it from
``makeService`` only, before the reactor runs.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from OpenSSL import crypto
from treq.client import HTTPClient
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from twisted.internet.ssl import (
    Certificate,
    PrivateCertificate,
    optionsForClientTLS,
    platformTrust,
    trustRootFromCertificates,
)
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

from ridad.errors import ConfigError
from ridad.koji.auth import KojiAuth, SslAuth

if TYPE_CHECKING:  # the interface is public, its module is not
    from twisted.internet._sslverify import IOpenSSLTrustRoot

_PEM_CERTIFICATE = re.compile(
    rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL
)


@implementer(IPolicyForHTTPS)
class ClientCertificatePolicy:
    """Verify the hub against ``trust_root``; present ``client_certificate``."""

    def __init__(
        self,
        *,
        trust_root: IOpenSSLTrustRoot,
        client_certificate: PrivateCertificate | None,
    ) -> None:
        self._trust_root = trust_root
        self._client_certificate = client_certificate

    def creatorForNetloc(
        self, hostname: bytes, port: int
    ) -> IOpenSSLClientConnectionCreator:
        """TLS options for ``hostname``: its name is checked against the certificate."""
        return optionsForClientTLS(
            hostname.decode("idna"),
            trustRoot=self._trust_root,
            clientCertificate=self._client_certificate,
        )


def make_http_client(reactor: Any, auth: KojiAuth | None, ca: str | None) -> HTTPClient:
    """A treq client for the hub, with persistent connections and ``https_policy``.

    :raises ConfigError: when a certificate or key file cannot be read or parsed.
    """
    pool = HTTPConnectionPool(reactor, persistent=True)
    agent = Agent(reactor, contextFactory=https_policy(auth, ca), pool=pool)
    return HTTPClient(agent)


def https_policy(auth: KojiAuth | None, ca: str | None) -> ClientCertificatePolicy:
    """How to talk TLS to the hub.

    The hub is verified against ``ca`` (or the ``SslAuth``'s ``ca``, else the
    platform's trust store); with ``SslAuth`` the client certificate is
    presented on every TLS connection, which ``sslLogin`` at ``/ssllogin``
    needs.

    :raises ConfigError: when a certificate or key file cannot be read or parsed.
    """
    if ca is None and isinstance(auth, SslAuth):
        ca = auth.ca
    trust_root = _trust_root(ca) if ca else platformTrust()
    certificate = _client_certificate(auth) if isinstance(auth, SslAuth) else None
    return ClientCertificatePolicy(
        trust_root=trust_root, client_certificate=certificate
    )


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as pem:
            return pem.read()
    except OSError as exc:
        raise ConfigError([f"Cannot read the Koji {what} {path}: {exc}"]) from exc


def _trust_root(path: str) -> IOpenSSLTrustRoot:
    """The certificates of the PEM bundle ``path`` as a trust root."""
    blocks = _PEM_CERTIFICATE.findall(_read(path, "CA file"))
    if not blocks:
        raise ConfigError([f"No PEM certificate in the Koji CA file {path}"])
    try:
        return trustRootFromCertificates([Certificate.loadPEM(b) for b in blocks])
    except crypto.Error as exc:
        raise ConfigError([f"Bad certificate in the Koji CA file {path}"]) from exc


def _client_certificate(auth: SslAuth) -> PrivateCertificate:
    """The client certificate and key of ``auth`` (one file or two)."""
    pem = _read(auth.cert, "client certificate")
    if auth.key != auth.cert:
        pem += b"\n" + _read(auth.key, "client key")
    try:
        return PrivateCertificate.loadPEM(pem)
    except (crypto.Error, ValueError) as exc:
        raise ConfigError(
            [f"Bad Koji client certificate or key: {auth.cert}, {auth.key}"]
        ) from exc
