"""``auth.method: kerberos``: SPNEGO (``Authorization: Negotiate``) checked
with python-gssapi against the service keytab.

Accepting a token only decrypts it with the keytab's key (no network), so
it runs in the reactor thread. A request without a token gets 401 with
``WWW-Authenticate: Negotiate``; a verified one gets the mutual
authentication token back in ``WWW-Authenticate: Negotiate <token>``. Users
are known by their short name (``alice@REALM`` is ``alice``), and only
principals of the service's realm are accepted.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

import gssapi
from gssapi.exceptions import GSSError
from twisted.logger import Logger
from twisted.web.iweb import IRequest

from ridad.api.auth import Identity, provider_identity
from ridad.config.model import KerberosConfig
from ridad.errors import ConfigError, Unauthorized

NEGOTIATE = b"Negotiate"


class NegotiateAuthenticator:
    """Authenticates SPNEGO tokens for the service principal in a keytab."""

    method = "kerberos"
    log = Logger()

    def __init__(
        self,
        *,
        credentials: gssapi.Credentials,
        realm: str,
        groups: Mapping[str, frozenset[str]],
    ) -> None:
        self._credentials = credentials
        self._realm = realm
        self._groups = groups

    def challenge(self) -> Mapping[bytes, bytes]:
        """``WWW-Authenticate: Negotiate`` (what fedpkg waits for)."""
        return {b"WWW-Authenticate": NEGOTIATE}

    async def authenticate(self, request: IRequest) -> Identity | None:
        """The Kerberos user of the request's Negotiate token; None without one.

        Sets the mutual authentication token on the response.

        :raises Unauthorized: the token is malformed, fails verification,
            needs more than one round trip, or is from another realm.
        """
        token = negotiate_token(request.getHeader(b"authorization"))
        if token is None:
            return None
        context = gssapi.SecurityContext(creds=self._credentials, usage="accept")
        try:
            answer = context.step(token)
        except GSSError as e:
            reason = " ".join(str(e).split())
            self.log.info("Negotiate token refused: {reason}", reason=reason)
            raise Unauthorized(
                "the Kerberos (Negotiate) token was not accepted; run kinit"
                " and try again"
            ) from None
        if not context.complete:
            raise Unauthorized(
                "Negotiate needs more than one round trip here, which ridad"
                " does not support; use Kerberos"
            )
        try:
            principal = str(context.initiator_name)
        except UnicodeDecodeError:
            raise Unauthorized(
                "the Kerberos principal is not UTF-8; ask the administrators"
                " of the realm"
            ) from None
        user, _, realm = principal.rpartition("@")
        if realm != self._realm or not user:
            self.log.info(
                "Negotiate user {principal} is not of realm {realm}",
                principal=principal,
                realm=self._realm,
            )
            raise Unauthorized(f"principals of realm {realm or '?'} are not accepted")
        identity = provider_identity(
            user, self._groups.get(user, frozenset()), self.method
        )
        if answer:
            request.setHeader(
                b"WWW-Authenticate", NEGOTIATE + b" " + base64.b64encode(answer)
            )
        return identity


def negotiate_token(header: bytes | None) -> bytes | None:
    """The token of an ``Authorization: Negotiate`` header; None for another scheme.

    :raises Unauthorized: a Negotiate header whose token is not base64.
    """
    if header is None:
        return None
    scheme, _, rest = header.strip().partition(b" ")
    if scheme.lower() != NEGOTIATE.lower():
        return None
    try:
        token = base64.b64decode(rest.strip(), validate=True)
    except (binascii.Error, ValueError):
        token = b""
    if not token:
        raise Unauthorized("the Negotiate token is empty or not base64")
    return token


def negotiate_authenticator(settings: KerberosConfig) -> NegotiateAuthenticator:
    """The authenticator of ``auth.kerberos``, with the keytab's credentials.

    :raises ConfigError: the keytab cannot be read or has no key for the
        principal.
    """
    try:
        credentials = gssapi.Credentials(
            name=gssapi.Name(settings.principal, gssapi.NameType.kerberos_principal),
            usage="accept",
            store={"keytab": settings.keytab},
        )
        credentials.inquire()
    except GSSError as e:
        reason = " ".join(str(e).split())
        raise ConfigError(
            [
                f"auth.kerberos.keytab: no usable key for {settings.principal}"
                f" in {settings.keytab}: {reason}"
            ]
        ) from None
    return NegotiateAuthenticator(
        credentials=credentials,
        realm=settings.principal.rpartition("@")[2],
        groups={user: frozenset(names) for user, names in settings.groups},
    )
