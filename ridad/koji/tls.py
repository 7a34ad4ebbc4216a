"""The production HTTP client for Koji: TLS with an optional client certificate.

The policy itself is :mod:`ridad.tlspolicy`, shared with ``rida``.
``make_http_client`` and ``https_policy`` read the certificate files
synchronously: call them while composing the service tree, before the
reactor runs.
"""

from __future__ import annotations

from typing import Any

from treq.client import HTTPClient
from twisted.web.client import Agent, HTTPConnectionPool

from ridad.errors import ConfigError
from ridad.koji.auth import KojiAuth, SslAuth
from ridad.tlspolicy import ClientCertificatePolicy, client_policy

__all__ = ["ClientCertificatePolicy", "https_policy", "make_http_client"]


def make_http_client(reactor: Any, auth: KojiAuth | None, ca: str | None) -> HTTPClient:
    """A treq client for the hub, with persistent connections and ``https_policy``.

    :returns: the client.
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

    :returns: the policy.
    :raises ConfigError: when a certificate or key file cannot be read or parsed.
    """
    ssl = auth if isinstance(auth, SslAuth) else None
    if ca is None and ssl is not None:
        ca = ssl.ca
    try:
        return client_policy(
            ca=ca,
            cert=ssl.cert if ssl else None,
            key=ssl.key if ssl else None,
        )
    except ConfigError as e:
        raise ConfigError([f"Koji TLS: {m}" for m in e.messages]) from None
