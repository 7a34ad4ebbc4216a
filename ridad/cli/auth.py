"""Credentials of ``rida``: Kerberos (SPNEGO) tokens, TLS client
certificates, and who "me" is for ``list --mine``."""

from __future__ import annotations

import os
import pwd
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from OpenSSL import crypto
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator, IReactorThreads
from twisted.internet.ssl import (
    Certificate,
    PrivateCertificate,
    optionsForClientTLS,
    platformTrust,
    trustRootFromCertificates,
)
from twisted.internet.threads import deferToThreadPool
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

from ridad.cli.exits import ServerError, UsageError
from ridad.cli.settings import Settings

if TYPE_CHECKING:  # the interface is public, its module is not
    from twisted.internet._sslverify import IOpenSSLTrustRoot

#: Makes the first SPNEGO token for the HTTP service of a host.
TokenMaker = Callable[[str], Awaitable[bytes]]

_SPNEGO_OID = "1.3.6.1.5.5.2"
_PEM_CERTIFICATE = re.compile(
    rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL
)


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


@implementer(IPolicyForHTTPS)
class ClientCertificatePolicy:
    """Check the server against ``trust_root``; present ``client_certificate``."""

    def __init__(
        self,
        *,
        trust_root: IOpenSSLTrustRoot,
        client_certificate: PrivateCertificate | None,
    ) -> None:
        self.trust_root = trust_root
        self.client_certificate = client_certificate

    def creatorForNetloc(
        self, hostname: bytes, port: int
    ) -> IOpenSSLClientConnectionCreator:
        """TLS options for ``hostname``, whose name the certificate must carry."""
        return optionsForClientTLS(
            hostname.decode("idna"),
            trustRoot=self.trust_root,
            clientCertificate=self.client_certificate,
        )


def https_policy(settings: Settings) -> ClientCertificatePolicy:
    """How to talk TLS to the server with ``settings``' CA and certificate.

    :raises UsageError: a certificate, key or CA file cannot be read or parsed.
    """
    trust_root: Any = _trust_root(settings.ca) if settings.ca else platformTrust()
    certificate = None
    if settings.cert:
        certificate = _client_certificate(settings.cert, settings.key or settings.cert)
    return ClientCertificatePolicy(
        trust_root=trust_root, client_certificate=certificate
    )


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as pem:
            return pem.read()
    except OSError as exc:
        raise UsageError(f"cannot read the {what} {path}: {exc.strerror}") from None


def _trust_root(path: str) -> IOpenSSLTrustRoot:
    blocks = _PEM_CERTIFICATE.findall(_read(path, "CA file"))
    if not blocks:
        raise UsageError(f"no PEM certificate in the CA file {path} (--ca)")
    try:
        return trustRootFromCertificates([Certificate.loadPEM(b) for b in blocks])
    except crypto.Error:
        raise UsageError(f"bad certificate in the CA file {path} (--ca)") from None


def _client_certificate(cert: str, key: str) -> PrivateCertificate:
    pem = _read(cert, "client certificate")
    if key != cert:
        pem += b"\n" + _read(key, "client key")
    try:
        return PrivateCertificate.loadPEM(pem)
    except (crypto.Error, ValueError):
        raise UsageError(
            f"bad client certificate or key: {cert}, {key} (--cert, --key: PEM"
            " files; the key may be in the certificate's file)"
        ) from None


def _one_line(text: str) -> str:
    return " ".join(text.split())
