"""Koji client profiles, and the production HTTP client's TLS policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.x509.oid import NameOID
from treq.client import HTTPClient
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.internet.ssl import Certificate, CertificateOptions, PrivateCertificate
from twisted.internet.testing import MemoryReactorClock
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.python.failure import Failure
from twisted.test import iosim
from twisted.web.client import ResponseNeverReceived

from ridad.errors import ConfigError, KojiError, KojiUnavailable
from ridad.koji.auth import PasswordAuth, SslAuth, hub_from_profile
from ridad.koji.tls import ClientCertificatePolicy, https_policy, make_http_client
from ridad.koji.transport import transport_error
from tests.unit.koji.certs import Issued, issue

# CertificateOptions and Twisted's client TLS still hand pyOpenSSL objects over.
pytestmark = pytest.mark.filterwarnings("ignore:Passing pyOpenSSL:DeprecationWarning")

PROFILE = """\
[ridadkoji]
server = https://koji.example.org/kojihub
weburl = https://koji.example.org/koji
authtype = {authtype}
cert = {cert}
serverca = {serverca}
"""


def _config(tmp_path: Path, authtype: str = "ssl") -> str:
    path = tmp_path / "koji.conf"
    path.write_text(
        PROFILE.format(
            authtype=authtype, cert=tmp_path / "mbs.pem", serverca=tmp_path / "ca.crt"
        )
    )
    return str(path)


def test_profile_gives_server_and_ssl_auth(tmp_path: Path) -> None:
    """A koji profile's server, authtype, cert and serverca are read."""
    settings = hub_from_profile("ridadkoji", _config(tmp_path))
    assert settings.server == "https://koji.example.org/kojihub"
    assert (settings.authtype, settings.cert, settings.serverca) == (
        "ssl",
        str(tmp_path / "mbs.pem"),
        str(tmp_path / "ca.crt"),
    )
    assert settings.auth() == SslAuth(
        cert=str(tmp_path / "mbs.pem"),
        key=str(tmp_path / "mbs.pem"),
        ca=str(tmp_path / "ca.crt"),
    )


def test_noauth_profile_is_anonymous(tmp_path: Path) -> None:
    """authtype noauth means an anonymous client."""
    assert hub_from_profile("ridadkoji", _config(tmp_path, "noauth")).auth() is None


def test_unsupported_authtype_is_a_config_error(tmp_path: Path) -> None:
    """kerberos cannot be used by ridad; asking for its auth is a ConfigError."""
    settings = hub_from_profile("ridadkoji", _config(tmp_path, "kerberos"))
    with pytest.raises(ConfigError, match="kerberos"):
        settings.auth()


def test_unknown_profile_is_a_config_error(tmp_path: Path) -> None:
    """A profile the files do not define is a ConfigError."""
    with pytest.raises(ConfigError, match="nosuch"):
        hub_from_profile("nosuch", _config(tmp_path))


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    """A config file that does not exist is a ConfigError."""
    with pytest.raises(ConfigError):
        hub_from_profile("ridadkoji", str(tmp_path / "absent.conf"))


def test_password_is_not_in_the_repr() -> None:
    """PasswordAuth's repr hides the password (it may reach a log)."""
    assert "secret" not in repr(PasswordAuth("mbs", "secret"))


@pytest.fixture(scope="module")
def pki() -> dict[str, Issued]:
    """A CA with a hub and a client certificate, and an unrelated CA."""
    ca = issue("Test CA", ca=True)
    return {
        "ca": ca,
        "hub": issue("koji.test", ca),
        "client": issue("mbs", ca),
        "other_ca": issue("Other CA", ca=True),
    }


class _Recorder(Protocol):
    """Remembers why its connection ended."""

    lost: Failure | None = None

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.lost = reason


def _handshake(
    policy: ClientCertificatePolicy, pki: dict[str, Issued], host: bytes = b"koji.test"
) -> tuple[Any, Any, _Recorder]:
    """Run a TLS handshake in memory with a hub requiring client certificates."""
    hub = PrivateCertificate.loadPEM(pki["hub"].cert_pem + pki["hub"].key_pem)
    server_options = CertificateOptions(
        privateKey=hub.privateKey.original,
        certificate=hub.original,
        verify=True,
        caCerts=[Certificate.loadPEM(pki["ca"].cert_pem).original],
        requireCertificate=True,
    )
    server_factory = TLSMemoryBIOFactory(
        server_options, False, Factory.forProtocol(Protocol)
    )
    recorder = _Recorder()
    client_factory = TLSMemoryBIOFactory(
        policy.creatorForNetloc(host, 443),
        True,
        Factory.forProtocol(lambda: recorder),
    )
    client, server, pump = iosim.connectedServerAndClient(
        lambda: server_factory.buildProtocol(None),
        lambda: client_factory.buildProtocol(None),
        greet=False,
    )
    pump.flush()
    return client, server, recorder


def test_client_certificate_is_presented_to_the_hub(
    tmp_path: Path, pki: dict[str, Issued]
) -> None:
    """The HTTPS policy verifies the hub and sends the client certificate."""
    cert, key = pki["client"].write(tmp_path, "mbs", combined=False)
    ca_path = tmp_path / "ca.crt"
    ca_path.write_bytes(pki["other_ca"].cert_pem + pki["ca"].cert_pem)
    auth = SslAuth(cert, key, str(ca_path))
    assert isinstance(make_http_client(MemoryReactorClock(), auth, None), HTTPClient)
    _, server, recorder = _handshake(https_policy(auth, None), pki)
    peer = server.getPeerCertificate().to_cryptography()
    assert peer.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "mbs"
    assert recorder.lost is None


def test_untrusted_hub_fails_as_a_certificate_error(
    tmp_path: Path, pki: dict[str, Issued]
) -> None:
    """A hub certificate from another CA fails, and that is not retried."""
    cert, key = pki["client"].write(tmp_path, "mbs", combined=True)
    ca_path = tmp_path / "other.crt"
    ca_path.write_bytes(pki["other_ca"].cert_pem)
    _, _, recorder = _handshake(https_policy(SslAuth(cert, key), str(ca_path)), pki)
    assert recorder.lost is not None, "the handshake should have failed"
    error = transport_error(ResponseNeverReceived([recorder.lost]), "sslLogin")
    assert isinstance(error, KojiError) and not isinstance(error, KojiUnavailable)
    assert "certificate" in error.message


def test_hub_with_another_name_fails_as_a_certificate_error(
    tmp_path: Path, pki: dict[str, Issued]
) -> None:
    """A hub whose certificate names another host fails, and that is not retried."""
    cert, key = pki["client"].write(tmp_path, "mbs", combined=True)
    ca_path = tmp_path / "ca.crt"
    ca_path.write_bytes(pki["ca"].cert_pem)
    policy = https_policy(SslAuth(cert, key, str(ca_path)), None)
    _, _, recorder = _handshake(policy, pki, host=b"elsewhere.test")
    assert recorder.lost is not None, "the handshake should have failed"
    error = transport_error(ResponseNeverReceived([recorder.lost]), "sslLogin")
    assert not isinstance(error, KojiUnavailable)


@pytest.mark.parametrize("which", ["cert", "ca"])
def test_unreadable_certificate_files_are_config_errors(
    tmp_path: Path, which: str
) -> None:
    """Missing or garbled PEM files are reported as ConfigError at start-up."""
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    auth = SslAuth(str(garbage), str(garbage)) if which == "cert" else None
    ca = str(garbage) if which == "ca" else None
    with pytest.raises(ConfigError):
        make_http_client(MemoryReactorClock(), auth, ca)
    with pytest.raises(ConfigError):
        make_http_client(
            MemoryReactorClock(), SslAuth(str(tmp_path / "absent"), "k"), None
        )
