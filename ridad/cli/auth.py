"""Credentials of ``rida``: Kerberos (SPNEGO) tokens, TLS client
certificates, and who "me" is for ``list --mine``."""

from __future__ import annotations

import os
import pwd
from collections.abc import Awaitable, Callable, Mapping

from twisted.internet.interfaces import IReactorThreads
from twisted.internet.ssl import platformTrust
from twisted.internet.threads import deferToThreadPool

from ridad.cli.exits import ServerError, UsageError
from ridad.cli.settings import Settings
from ridad.errors import ConfigError
from ridad.tlspolicy import ClientCertificatePolicy, client_certificate, trust_root

#: Makes the first SPNEGO token for the HTTP service of a host.
TokenMaker = Callable[[str], Awaitable[bytes]]

_SPNEGO_OID = "1.3.6.1.5.5.2"


def gssapi_token(host: str) -> bytes:
    """The SPNEGO token for ``HTTP@host`` from the user's Kerberos ticket.

    :raises ServerError: python-gssapi is missing, or there is no usable
        ticket for that service.
    """
    try:
        import gssapi
    except ImportError:
        raise ServerError(
            "the server asks for Kerberos (Negotiate) but python-gssapi is not"
            " installed: install it (pip install gssapi) and run kinit, or use"
            " --token",
            status=401,
            transient=False,
        ) from None
    try:
        name = gssapi.Name(f"HTTP@{host}", gssapi.NameType.hostbased_service)
        context = gssapi.SecurityContext(
            name=name,
            usage="initiate",
            mech=gssapi.OID.from_int_seq(_SPNEGO_OID),
        )
        token = context.step()
    except gssapi.exceptions.GSSError as exc:
        raise ServerError(
            f"the server asks for Kerberos and no ticket works for HTTP@{host}"
            f" ({_one_line(str(exc))}); run kinit and try again",
            status=401,
            transient=False,
        ) from None
    return bytes(token or b"")


def gssapi_tokens(reactor: IReactorThreads) -> TokenMaker:
    """``gssapi_token`` in the reactor's thread pool: it may ask the KDC for
    a service ticket, which blocks."""

    async def make(host: str) -> bytes:
        pool = reactor.getThreadPool()
        return await deferToThreadPool(reactor, pool, gssapi_token, host)

    return make


def default_user(environ: Mapping[str, str]) -> str:
    """Who "me" is: the Kerberos principal's name, else the login name."""
    principal = _kerberos_principal()
    if principal:
        return principal.split("@", 1)[0].split("/", 1)[0]
    for variable in ("LOGNAME", "USER"):
        if environ.get(variable):
            return environ[variable]
    return pwd.getpwuid(os.getuid()).pw_name


def _kerberos_principal() -> str | None:
    """The principal of the default Kerberos ticket; None without one."""
    try:
        import gssapi
    except ImportError:
        return None
    try:
        return str(gssapi.Credentials(usage="initiate").name)
    except gssapi.exceptions.GSSError:
        return None


def https_policy(settings: Settings) -> ClientCertificatePolicy:
    """How to talk TLS to the server with ``settings``' CA and certificate.

    :returns: the policy.
    :raises UsageError: a certificate, key or CA file cannot be read or parsed.
    """
    try:
        trust = trust_root(settings.ca) if settings.ca else platformTrust()
    except ConfigError as e:
        raise UsageError(f"{e.message} (--ca)") from None
    certificate = None
    if settings.cert:
        try:
            certificate = client_certificate(
                settings.cert, settings.key or settings.cert
            )
        except ConfigError as e:
            raise UsageError(
                f"{e.message} (--cert, --key: PEM files; the key may be in the"
                " certificate's file)"
            ) from None
    return ClientCertificatePolicy(trust_root=trust, client_certificate=certificate)


def _one_line(text: str) -> str:
    return " ".join(text.split())
