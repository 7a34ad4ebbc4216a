"""``twistd kojisim`` as a real process, used by the real ``koji.ClientSession``:
password login over HTTP, and client-certificate login over HTTPS."""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import koji
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.helpers import free_port

REPO = Path(__file__).resolve().parents[2]
TWISTD = Path(sys.executable).parent / "twistd"


@dataclass
class RunningHub:
    """A kojisim process and its hub URL."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path


def _start(tmp_path: Path, *extra: str, scheme: str = "http") -> RunningHub:
    """Start ``twistd -n kojisim`` on a free port and wait until it answers."""
    for attempt in range(5):
        port = free_port()
        log = tmp_path / f"kojisim-{attempt}.log"
        argv = [
            str(TWISTD), "-n", "--pidfile=", "kojisim",
            "--listen", f"tcp:{port}:interface=127.0.0.1",
            "--work-dir", str(tmp_path / "work"), *extra,
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with log.open("wb") as out:
            process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=out)
        if _wait_for_port(port, process):
            return RunningHub(process, f"{scheme}://127.0.0.1:{port}/kojihub", log)
        _stop(process)
    raise RuntimeError(f"kojisim did not start: {log.read_text()}")


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> bool:
    """Whether the process listens on ``port`` within 20 seconds."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the process (SIGTERM, then SIGKILL)."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def plain_hub(tmp_path: Path) -> Iterator[RunningHub]:
    """kojisim over HTTP with the admin user ``admin:pw``."""
    running = _start(tmp_path, "--user", "admin:pw", "--build-seconds", "0")
    yield running
    _stop(running.process)


def test_koji_client_logs_in_and_creates_a_tag(plain_hub: RunningHub) -> None:
    """The real koji client logs in with a password and creates a tag."""
    session = koji.ClientSession(
        plain_hub.url, opts={"user": "admin", "password": "pw"}
    )
    assert session.getAPIVersion() == 1
    session.login()
    assert session.hub_version_str == "1.35.3"
    assert session.getLoggedInUser()["name"] == "admin"
    tag_id = session.createTag("f40-build", arches="x86_64")
    assert session.getTag(tag_id)["name"] == "f40-build"
    with pytest.raises(koji.GenericError, match="already exists"):
        session.createTag("f40-build")
    session.logout()


def test_koji_client_multicall_and_build_task_on_the_real_clock(
    plain_hub: RunningHub,
) -> None:
    """A multicall and a failing build task behave through the real client."""
    session = koji.ClientSession(
        plain_hub.url, opts={"user": "admin", "password": "pw"}
    )
    session.login()
    with session.multicall() as m:
        ok = m.getAPIVersion()
        missing = m.getTag("nope", strict=True)
    assert ok.result == 1
    with pytest.raises(koji.GenericError, match="No such tagInfo"):
        _ = missing.result
    task_id = session.build("git://example.invalid/rpms/a.git?#abc", "no-target", {})
    deadline = time.monotonic() + 10
    while not session.taskFinished(task_id):
        assert time.monotonic() < deadline, "the task never finished"
        time.sleep(0.05)
    assert session.getTaskInfo(task_id)["state"] == koji.TASK_STATES["FAILED"]


@dataclass(frozen=True)
class Certificates:
    """A CA, a server certificate for 127.0.0.1 and a client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client: Path


def _key_and_cert(
    subject: str,
    issuer: tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None,
    *,
    server: bool = False,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A key and a certificate for CN ``subject`` (self-signed without issuer)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    signer_key, signer = issuer if issuer else (key, None)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(signer.subject if signer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True
        )
    )
    if server:
        alt = x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        )
        builder = builder.add_extension(alt, critical=False)
    return key, builder.sign(signer_key, hashes.SHA256())


def _pem(
    key: ec.EllipticCurvePrivateKey | None, cert: x509.Certificate | None
) -> bytes:
    """PEM text of a key and/or certificate."""
    text = b""
    if cert is not None:
        text += cert.public_bytes(serialization.Encoding.PEM)
    if key is not None:
        text += key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    return text


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    """Certificates made for this test."""
    ca = _key_and_cert("kojisim test CA", None)
    server_key, server_cert = _key_and_cert("127.0.0.1", ca, server=True)
    client_key, client_cert = _key_and_cert("alice", ca)
    paths = Certificates(
        ca=tmp_path / "ca.pem",
        server_cert=tmp_path / "server.pem",
        server_key=tmp_path / "server.key",
        client=tmp_path / "alice.pem",
    )
    paths.ca.write_bytes(_pem(None, ca[1]))
    paths.server_cert.write_bytes(_pem(None, server_cert))
    paths.server_key.write_bytes(_pem(server_key, None))
    paths.client.write_bytes(_pem(client_key, client_cert))
    return paths


@pytest.fixture
def tls_hub(tmp_path: Path, certificates: Certificates) -> Iterator[RunningHub]:
    """kojisim over HTTPS, verifying client certificates against the test CA."""
    running = _start(
        tmp_path,
        "--user", "admin:pw",
        "--tls-cert", str(certificates.server_cert),
        "--tls-key", str(certificates.server_key),
        "--tls-ca", str(certificates.ca),
        scheme="https",
    )  # fmt: skip
    yield running
    _stop(running.process)


def test_koji_client_ssl_login_is_the_certificate_cn(
    tls_hub: RunningHub, certificates: Certificates
) -> None:
    """ssl_login with a client certificate logs in (and creates) user ``alice``."""
    session = koji.ClientSession(tls_hub.url, opts={"serverca": str(certificates.ca)})
    assert session.ssl_login(
        cert=str(certificates.client), serverca=str(certificates.ca)
    )
    user = session.getLoggedInUser()
    assert (user["name"], user["authtype"]) == ("alice", koji.AUTHTYPES["SSL"])
    assert session.getPerms() == []


def test_password_login_keeps_working_over_tls(
    tls_hub: RunningHub, certificates: Certificates
) -> None:
    """Over HTTPS without a client certificate, password login still works."""
    session = koji.ClientSession(
        tls_hub.url,
        opts={"user": "admin", "password": "pw", "serverca": str(certificates.ca)},
    )
    session.login()
    assert session.createTag("over-tls") == 1
    with pytest.raises(koji.AuthError, match="could not verify client"):
        koji.ClientSession(
            tls_hub.url, opts={"serverca": str(certificates.ca)}
        ).callMethod("sslLogin")


SPEC = """Name: omega
Version: 2.5
Release: 3
Summary: test
License: MIT
BuildArch: noarch
%description
test
%files
"""


def _wait_for_task(session: koji.ClientSession, task_id: int, what: str) -> None:
    """Poll until the task is finished, as koji's CLI watch does."""
    deadline = time.monotonic() + 20
    while not session.taskFinished(task_id):
        assert time.monotonic() < deadline, f"{what} never finished"
        time.sleep(0.05)


def test_koji_client_uploads_an_srpm_and_builds_it(
    plain_hub: RunningHub, tmp_path: Path
) -> None:
    """uploadWrapper's fast upload and checkUpload work; the SRPM builds with its NVR."""
    (tmp_path / "omega.spec").write_text(SPEC)
    subprocess.run(
        [
            "rpmbuild",
            "-bs",
            "--define",
            f"_topdir {tmp_path / 'rpmbuild'}",
            str(tmp_path / "omega.spec"),
        ],
        check=True,
        capture_output=True,
    )
    srpm = next((tmp_path / "rpmbuild" / "SRPMS").glob("*.src.rpm"))
    session = koji.ClientSession(
        plain_hub.url, opts={"user": "admin", "password": "pw"}
    )
    session.login()
    session.createTag("dest")
    session.createTag("dest-build")
    session.createBuildTarget("t", "dest-build", "dest")
    session.packageListAdd("dest", "omega", owner="admin")
    # kojid builds only in a READY repo of the build tag (no kojira here).
    _wait_for_task(session, session.newRepo("dest-build"), "the repo")
    session.uploadWrapper(str(srpm), "cli-build/up", blocksize=1024)
    task_id = session.build(f"cli-build/up/{srpm.name}", "t", {})
    _wait_for_task(session, task_id, "the build")
    assert session.getTaskInfo(task_id)["state"] == koji.TASK_STATES["CLOSED"]
    assert [b["nvr"] for b in session.listTagged("dest")] == ["omega-2.5-3"]
