"""The TLS client policy of ridad's HTTPS clients: ``rida`` (``ridad.cli``)
talking to the API and the daemon (``ridad.koji``) talking to the Koji hub.

Both verify the server against a CA bundle (or the platform's trust store)
and may present a client certificate. The PEM files are read synchronously:
call these before the reactor runs. A file that cannot be used raises a
``ConfigError`` whose message names it; each caller adds its own context.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from OpenSSL import crypto
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from twisted.internet.ssl import (
    Certificate,
    PrivateCertificate,
    optionsForClientTLS,
    platformTrust,
    trustRootFromCertificates,
)
from twisted.web.iweb import IPolicyForHTTPS
from zope.interface import implementer

from ridad.errors import ConfigError

if TYPE_CHECKING:  # the interface is public, its module is not
    from twisted.internet._sslverify import IOpenSSLTrustRoot

__all__ = [
    "ClientCertificatePolicy",
    "client_certificate",
    "client_policy",
    "trust_root",
]

_PEM_CERTIFICATE = re.compile(
    rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL
)


@implementer(IPolicyForHTTPS)
class ClientCertificatePolicy:
    """Verify the server against ``trust_root``; present ``client_certificate``."""

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
        """TLS options for ``hostname``, whose name the certificate must carry.

        :returns: the connection creator for that host.
        """
        return optionsForClientTLS(
            hostname.decode("idna"),
            trustRoot=self.trust_root,
            clientCertificate=self.client_certificate,
        )


def client_policy(
    *, ca: str | None, cert: str | None, key: str | None
) -> ClientCertificatePolicy:
    """Trust ``ca`` (else the platform); present ``cert`` and ``key`` if given.

    :returns: the policy.
    :raises ConfigError: a file cannot be read or holds no usable PEM.
    """
    certificate = client_certificate(cert, key or cert) if cert else None
    return ClientCertificatePolicy(
        trust_root=trust_root(ca) if ca else platformTrust(),
        client_certificate=certificate,
    )


def trust_root(path: str) -> IOpenSSLTrustRoot:
    """The certificates of the PEM bundle ``path`` as a trust root.

    :returns: the trust root.
    :raises ConfigError: the file cannot be read or holds no good certificate.
    """
    blocks = _PEM_CERTIFICATE.findall(_read(path, "CA file"))
    if not blocks:
        raise ConfigError([f"no PEM certificate in the CA file {path}"])
    try:
        return trustRootFromCertificates([Certificate.loadPEM(b) for b in blocks])
    except crypto.Error:
        raise ConfigError([f"bad certificate in the CA file {path}"]) from None


def client_certificate(cert: str, key: str) -> PrivateCertificate:
    """The client certificate ``cert`` with its key ``key`` (one file or two).

    :returns: the certificate and key.
    :raises ConfigError: a file cannot be read, or they are not a PEM
        certificate and its key.
    """
    pem = _read(cert, "client certificate")
    if key != cert:
        pem += b"\n" + _read(key, "client key")
    try:
        return PrivateCertificate.loadPEM(pem)
    except (crypto.Error, ValueError):
        raise ConfigError([f"bad client certificate or key: {cert}, {key}"]) from None


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as pem:
            return pem.read()
    except OSError as exc:
        raise ConfigError([f"cannot read the {what} {path}: {exc.strerror}"]) from None
