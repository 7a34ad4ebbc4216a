"""A private MIT Kerberos realm on loopback for the authentication tests.

The realm lives in a temporary directory with its own ``krb5.conf`` and
``kdc.conf``; ``krb5kdc -n`` serves it on a free port. The test process
points ``KRB5_CONFIG`` (read each time the Kerberos library makes a
context) at the realm's ``krb5.conf``, so ridad's acceptor and the test's
initiator both use it; clients keep their tickets in private ccaches.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REALM = "RIDAD.TEST"
#: The apt-get command that installs what a private realm needs.
APT_COMMAND = "sudo apt-get install -y krb5-kdc krb5-user krb5-admin-server"
PROGRAMS = ("krb5kdc", "kdb5_util", "kadmin.local", "kinit")
SEARCH_PATH = os.pathsep.join(
    [os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/sbin"]
)


def kdc_missing() -> str | None:
    """Why a private realm cannot run here (with the fix), or None."""
    missing = [p for p in PROGRAMS if shutil.which(p, path=SEARCH_PATH) is None]
    try:
        import gssapi  # noqa: F401
    except ImportError:
        missing.append("python-gssapi (.venv/bin/pip install gssapi)")
    if missing:
        return f"missing {', '.join(missing)}; run: {APT_COMMAND}"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PrivateRealm:
    """A running KDC for ``REALM`` and the files around it."""

    directory: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    keytabs: dict[str, Path] = field(default_factory=dict)

    @property
    def krb5_conf(self) -> Path:
        """The client configuration file of the realm."""
        return self.directory / "krb5.conf"

    @property
    def env(self) -> dict[str, str]:
        """The environment of the realm's command-line tools."""
        return {
            **os.environ,
            "PATH": SEARCH_PATH,
            "KRB5_CONFIG": str(self.krb5_conf),
            "KRB5_KDC_PROFILE": str(self.directory / "kdc.conf"),
            "KRB5RCACHEDIR": str(self.directory / "rcache"),
        }

    def _run(self, *argv: str) -> str:
        done = subprocess.run(
            argv, env=self.env, capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip()}")
        return done.stdout

    def create(self) -> None:
        """Write the configuration, create the database and start the KDC."""
        (self.directory / "rcache").mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.krb5_conf.write_text(
            f"""[libdefaults]
    default_realm = {REALM}
    dns_lookup_realm = false
    dns_lookup_kdc = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    ticket_lifetime = 1h
[realms]
    {REALM} = {{
        kdc = 127.0.0.1:{self.port}
    }}
[domain_realm]
    localhost = {REALM}
"""
        )
        (self.directory / "kdc.conf").write_text(
            f"""[kdcdefaults]
    kdc_ports = {self.port}
    kdc_tcp_ports = {self.port}
[realms]
    {REALM} = {{
        database_name = {self.directory}/principal
        key_stash_file = {self.directory}/stash
        acl_file = {self.directory}/kadm5.acl
        max_life = 1h
        supported_enctypes = aes256-cts-hmac-sha1-96:normal
    }}
[logging]
    kdc = FILE:{self.directory}/kdc.log
"""
        )
        (self.directory / "kadm5.acl").write_text("")
        self._run("kdb5_util", "create", "-s", "-r", REALM, "-P", "master-secret")
        self.process = subprocess.Popen(
            ["krb5kdc", "-n", "-r", REALM],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                stderr = self.process.stderr.read() if self.process.stderr else b""
                raise RuntimeError(f"krb5kdc exited: {stderr.decode().strip()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"krb5kdc did not listen on port {self.port}")

    def add_principal(self, principal: str) -> Path:
        """Add ``principal`` with a random key; return its exported keytab."""
        keytab = self.directory / (principal.replace("/", "_") + ".keytab")
        self._run("kadmin.local", "-r", REALM, "-q", f"addprinc -randkey {principal}")
        self._run("kadmin.local", "-r", REALM, "-q", f"ktadd -k {keytab} {principal}")
        self.keytabs[principal] = keytab
        return keytab

    def kinit(self, principal: str) -> str:
        """Get a ticket for ``principal`` from its keytab; return the ccache."""
        ccache = f"FILE:{self.directory}/{principal.replace('/', '_')}.ccache"
        env = {**self.env, "KRB5CCNAME": ccache}
        done = subprocess.run(
            ["kinit", "-k", "-t", str(self.keytabs[principal]), principal],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if done.returncode != 0:
            raise RuntimeError(f"kinit {principal} failed: {done.stderr.strip()}")
        return ccache

    def destroy(self) -> None:
        """Stop the KDC and remove the realm's files."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def spnego_context(ccache: str, service_host: str = "localhost") -> Any:
    """A SPNEGO initiator context for ``HTTP@service_host`` using ``ccache``.

    Its first ``step()`` gives the token for ``Authorization: Negotiate``;
    stepping it with the server's answer checks mutual authentication.
    """
    import gssapi

    credentials = gssapi.Credentials(usage="initiate", store={"ccache": ccache})
    return gssapi.SecurityContext(
        name=gssapi.Name(f"HTTP@{service_host}", gssapi.NameType.hostbased_service),
        creds=credentials,
        usage="initiate",
        mech=gssapi.Mechanism.from_sasl_name("SPNEGO"),
        flags=gssapi.RequirementFlag.mutual_authentication
        | gssapi.RequirementFlag.out_of_sequence_detection,
    )
