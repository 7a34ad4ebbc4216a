"""Build the authenticator, the authorizer and the API's listening endpoint
from the ``auth`` section of the configuration (called by ``makeService``).

These read the keytab and certificate files synchronously: call them only
before the reactor runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from treq.client import HTTPClient
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.web.client import Agent, HTTPConnectionPool

from ridad.api.auth import ANONYMOUS, Authenticator, Authorizer, NoAuthentication
from ridad.api.auth_kerberos import negotiate_authenticator
from ridad.api.auth_oidc import TokenIntrospectionAuthenticator
from ridad.api.auth_ssl import (
    client_certificate_authenticator,
    tcp_listen_address,
    tls_listen_endpoint,
    tls_server_options,
)
from ridad.config.model import AuthConfig, Config
from ridad.errors import ConfigError


@dataclass(frozen=True)
class Authentication:
    """What the API needs to know who asks, and start-up warnings to log."""

    authenticator: Authenticator
    authorizer: Authorizer
    warnings: tuple[str, ...] = ()


def auth_problems(config: Config) -> list[str]:
    """Problems with the files ``auth`` names (keytab, certificates, key)."""
    auth = config.auth
    try:
        if auth is not None and auth.method == "kerberos" and auth.kerberos:
            negotiate_authenticator(auth.kerberos)
        if auth is not None and auth.method == "ssl" and auth.ssl:
            tcp_listen_address(config.listen)
            tls_server_options(auth.ssl)
    except ConfigError as e:
        return e.messages
    return []


def make_authorizer(auth: AuthConfig | None) -> Authorizer:
    """Who may submit and cancel; with a real method, nobody unless listed."""
    if auth is None:
        return Authorizer()
    importers = {
        "import_groups": frozenset(auth.import_allowed_groups),
        "import_users": frozenset(auth.import_allowed_users),
    }
    if auth.method == "none":
        return Authorizer(**importers)
    return Authorizer(
        allowed_groups=frozenset(auth.allowed_groups),
        allowed_users=frozenset(auth.allowed_users),
        admin_groups=frozenset(auth.admin_groups),
        open_to_all=False,
        **importers,
    )


def make_authentication(reactor: Any, config: Config) -> Authentication:
    """The authenticator and authorizer of ``config.auth``.

    :raises ConfigError: the keytab is unusable.
    """
    auth = config.auth
    authorizer = make_authorizer(auth)
    if auth is None or auth.method == "none":
        why = "auth.method is none" if auth else "there is no auth section"
        return Authentication(
            authenticator=NoAuthentication(),
            authorizer=authorizer,
            warnings=(
                f"AUTHENTICATION IS OFF ({why}): anybody who can reach"
                f" {config.listen} may submit and cancel module builds as"
                f" {ANONYMOUS}. For development only.",
            ),
        )
    warnings = []
    if not (auth.allowed_groups or auth.allowed_users):
        warnings.append(
            "auth.allowed_groups and auth.allowed_users are empty: nobody may"
            " submit module builds"
        )
    authenticator: Authenticator
    if auth.method == "oidc":
        assert auth.oidc is not None
        pool = HTTPConnectionPool(reactor, persistent=True)
        fresh = HTTPConnectionPool(reactor, persistent=False)
        authenticator = TokenIntrospectionAuthenticator(
            settings=auth.oidc,
            http=HTTPClient(Agent(reactor, pool=pool)),
            fresh_http=HTTPClient(Agent(reactor, pool=fresh)),
            clock=reactor,
        )
    elif auth.method == "kerberos":
        assert auth.kerberos is not None
        authenticator = negotiate_authenticator(auth.kerberos)
    else:
        assert auth.ssl is not None
        authenticator = client_certificate_authenticator(auth.ssl)
    return Authentication(
        authenticator=authenticator, authorizer=authorizer, warnings=tuple(warnings)
    )


def api_endpoint(reactor: Any, config: Config) -> IStreamServerEndpoint:
    """Where the API listens: ``listen``, over TLS with ``auth.method: ssl``.

    :raises ConfigError: a TLS file is bad, or ``listen`` is not ``tcp:``.
    """
    auth = config.auth
    if auth is not None and auth.method == "ssl" and auth.ssl is not None:
        return tls_listen_endpoint(reactor, config.listen, auth.ssl)
    return serverFromString(reactor, config.listen)
