"""``auth.method: ssl``: the API over TLS, users by client certificate.

The listening endpoint is built here because Twisted's ``ssl:`` endpoint
strings cannot verify client certificates: TLS verifies a certificate the
client presents against ``auth.ssl.ca`` (an untrusted one fails the
handshake) but does not require one, so anonymous GETs keep working. The
user is the verified certificate's CN.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from OpenSSL import SSL, crypto
from twisted.internet.endpoints import SSL4ServerEndpoint
from twisted.internet.interfaces import ISSLTransport, IStreamServerEndpoint
from twisted.internet.ssl import CertificateOptions
from twisted.web.iweb import IRequest

from ridad.api.auth import Identity, provider_identity
from ridad.config.model import SslConfig
from ridad.errors import ConfigError, Unauthorized


class ClientCertificateAuthenticator:
    """Authenticates requests by the CN of their verified client certificate."""

    method = "ssl"

    def __init__(self, *, groups: Mapping[str, frozenset[str]]) -> None:
        self._groups = groups

    def challenge(self) -> Mapping[bytes, bytes]:
        """No challenge: TLS client certificates have no HTTP scheme."""
        return {}

    async def authenticate(self, request: IRequest) -> Identity | None:
        """The CN of the connection's client certificate; None without one.

        :raises Unauthorized: the certificate's subject is not valid text.
        :raises Unauthorized: the CN is a name ridad keeps for itself.
        """
        channel = getattr(request, "channel", None)
        user = certificate_cn(getattr(channel, "transport", None))
        if user is None:
            return None
        return provider_identity(user, self._groups.get(user, frozenset()), self.method)


def certificate_cn(transport: object) -> str | None:
    """The CN of the peer certificate TLS verified on ``transport``, or None.

    :raises Unauthorized: the certificate's subject cannot be read as text
        (OpenSSL accepts a NUL in a PrintableString, ``cryptography`` not).
    """
    if transport is None or not ISSLTransport.providedBy(transport):
        return None
    certificate = transport.getPeerCertificate()  # type: ignore[attr-defined]
    if certificate is None:
        return None
    try:
        subject = certificate.to_cryptography().subject
    except ValueError:
        raise Unauthorized(
            "the client certificate's subject is not valid text; ask for a"
            " certificate whose CN is your user name"
        ) from None
    names = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    cn = names[0].value if names else None
    return str(cn) if cn else None


def client_certificate_authenticator(
    settings: SslConfig,
) -> ClientCertificateAuthenticator:
    """The authenticator of ``auth.ssl``."""
    return ClientCertificateAuthenticator(
        groups={user: frozenset(names) for user, names in settings.groups}
    )


def tls_server_options(settings: SslConfig) -> CertificateOptions:
    """TLS that verifies optional client certificates against ``settings.ca``.

    ``cert`` may hold the server certificate followed by its chain.

    :raises ConfigError: every file that cannot be read or parsed.
    """
    problems: list[str] = []
    authorities = _certificates(settings.ca, "auth.ssl.ca", problems)
    chain = _certificates(settings.cert, "auth.ssl.cert", problems)
    key = _key(settings.key, problems)
    if problems:
        raise ConfigError(problems)
    options = CertificateOptions(
        privateKey=key,
        certificate=chain[0],
        extraCertChain=chain[1:],
        verify=True,
        caCerts=[crypto.X509.from_cryptography(c) for c in authorities],
        requireCertificate=False,
    )
    try:
        options.getContext()
    except SSL.Error:
        raise ConfigError(
            ["auth.ssl.key: does not match the certificate auth.ssl.cert"]
        ) from None
    return options


def tls_listen_endpoint(
    reactor: Any, listen: str, settings: SslConfig
) -> IStreamServerEndpoint:
    """An HTTPS endpoint on ``listen`` (``tcp:PORT[:interface=ADDR][:backlog=N]``).

    :raises ConfigError: ``listen`` is not such a string, or a TLS file is bad.
    """
    port, interface, backlog = tcp_listen_address(listen)
    return SSL4ServerEndpoint(
        reactor,
        port,
        tls_server_options(settings),
        backlog=backlog,
        interface=interface,
    )


def tcp_listen_address(listen: str) -> tuple[int, str, int]:
    """The port, interface and backlog of a ``tcp:`` endpoint string.

    :raises ConfigError: ``listen`` is not ``tcp:PORT[:interface=ADDR][:backlog=N]``.
    """
    kind, _, rest = listen.partition(":")
    parts = rest.replace("\\:", "\0").split(":")
    options = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
    backlog = options.get("backlog", "50")
    if (
        kind != "tcp"
        or not parts[0].isdigit()
        or not backlog.isdigit()
        or len(options) != len(parts) - 1
        or set(options) - {"interface", "backlog"}
    ):
        raise ConfigError(
            ["listen: with auth.method ssl must be tcp:PORT[:interface=ADDR]"]
        )
    return int(parts[0]), options.get("interface", "").replace("\0", ":"), int(backlog)


def _read(path: str, key: str, problems: list[str]) -> bytes | None:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        problems.append(f"{key}: cannot read {path}: {e.strerror}")
        return None


def _certificates(path: str, key: str, problems: list[str]) -> list[Any]:
    pem = _read(path, key, problems)
    if pem is None:
        return []
    try:
        certificates = x509.load_pem_x509_certificates(pem)
    except ValueError:
        certificates = []
    if not certificates:
        problems.append(f"{key}: no valid PEM certificate in {path}")
    return certificates


def _key(path: str, problems: list[str]) -> Any:
    pem = _read(path, "auth.ssl.key", problems)
    if pem is None:
        return None
    try:
        return serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        problems.append(f"auth.ssl.key: no valid unencrypted PEM private key in {path}")
        return None
