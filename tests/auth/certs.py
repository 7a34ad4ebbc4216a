"""Certificates made by the tests: a CA, ridad's server certificate (for
``localhost`` and 127.0.0.1) and client certificates by CN, plus a second,
untrusted CA. Made with the ``cryptography`` package."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# OpenSSL checks validity against the real time, so the window must cover it.
_START = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)


@dataclass(frozen=True)
class Issued:
    """A certificate and its key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> bytes:
        """The certificate as PEM."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def write(self, directory: Path, stem: str) -> tuple[Path, Path]:
        """Write ``<stem>.crt`` and ``<stem>.key``; return their paths."""
        cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
        cert_path.write_bytes(self.cert_pem)
        key_path.write_bytes(self.key_pem)
        return cert_path, key_path


def issue(
    common_name: str,
    issuer: Issued | None = None,
    *,
    ca: bool = False,
    server: bool = False,
) -> Issued:
    """A certificate for ``common_name``; self-signed when ``issuer`` is None."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_START)
        .not_valid_after(_START + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        ).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    elif not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    cert = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    return Issued(cert=cert, key=key)


@dataclass(frozen=True)
class TlsFiles:
    """The PEM files of a test PKI."""

    ca: Path
    server_cert: Path
    server_key: Path
    clients: dict[str, tuple[Path, Path]]
    untrusted: tuple[Path, Path]


def make_pki(directory: Path, client_names: tuple[str, ...]) -> TlsFiles:
    """A CA, ridad's server certificate, clients, and one untrusted client."""
    directory.mkdir(parents=True, exist_ok=True)
    authority = issue("ridad test CA", ca=True)
    (directory / "ca.crt").write_bytes(authority.cert_pem)
    server_cert, server_key = issue("localhost", authority, server=True).write(
        directory, "server"
    )
    clients = {
        name: issue(name, authority).write(directory, f"client-{name}")
        for name in client_names
    }
    rogue = issue("rogue CA", ca=True)
    untrusted = issue(client_names[0], rogue).write(directory, "untrusted")
    return TlsFiles(
        ca=directory / "ca.crt",
        server_cert=server_cert,
        server_key=server_key,
        clients=clients,
        untrusted=untrusted,
    )
