"""A private ActiveMQ broker for tests: Debian's package, our own config.

Each L{ActiveMQ} lives in its own directory: ``conf/`` (the minimal
``activemq.xml`` that ``ridad.devenv.content.activemq_xml`` renders for the
demo broker too: only a STOMP connector on 127.0.0.1 and KahaDB persistence,
plus log4j settings), ``data/`` (KahaDB, kept across restarts, so persistent
messages in queues survive a stop) and ``console.log``. It is
driven synchronously with subprocess, like L{tests.helpers.PrivateCluster}.

Pytest fixtures are not defined here; see ``activemq_missing`` for the skip
(or, under ``CI=true``, failure) reason.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from collections.abc import Mapping
from pathlib import Path

from ridad.devenv.content import activemq_xml, log4j_properties

ACTIVEMQ_HOME = Path("/usr/share/activemq")
ACTIVEMQ_JAR = ACTIVEMQ_HOME / "bin" / "activemq.jar"
INSTALL_COMMAND = "sudo apt-get install -y activemq"
JVM_OPTIONS = ("-Xms64m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")

_running: weakref.WeakSet[ActiveMQ] = weakref.WeakSet()


@atexit.register
def _kill_leftovers() -> None:
    for broker in list(_running):
        broker.kill()


def activemq_missing() -> str | None:
    """Why no private ActiveMQ can start here, or None when it can."""
    if shutil.which("java") is None:
        return f"java is not installed; run: {INSTALL_COMMAND}"
    if not ACTIVEMQ_JAR.exists():
        return f"ActiveMQ is not installed ({ACTIVEMQ_JAR}); run: {INSTALL_COMMAND}"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def stomp_answers(
    port: int, credentials: tuple[str, str] | None = None, timeout_seconds: float = 2.0
) -> bool:
    """Whether a STOMP CONNECT to 127.0.0.1:``port`` gets CONNECTED."""
    connect = "CONNECT\naccept-version:1.1,1.2\nhost:/\n"
    if credentials is not None:
        connect += f"login:{credentials[0]}\npasscode:{credentials[1]}\n"
    try:
        with socket.create_connection(("127.0.0.1", port), timeout_seconds) as s:
            s.sendall(connect.encode() + b"\n\x00")
            reply = b""
            while b"\x00" not in reply:
                chunk = s.recv(4096)
                if not chunk:
                    return False
                reply += chunk
            return reply.lstrip(b"\r\n").startswith(b"CONNECTED")
    except OSError:
        return False


class PortTaken(RuntimeError):
    """The broker could not bind its STOMP port."""


class ActiveMQ:
    """A private ActiveMQ with a STOMP connector on 127.0.0.1:``stomp_port``.

    With ``users`` (login to passcode), only those may connect; otherwise
    anyone may, without credentials.
    """

    def __init__(
        self,
        base_dir: Path,
        *,
        users: Mapping[str, str] | None = None,
        start_timeout_seconds: float = 60.0,
    ) -> None:
        self.base_dir = base_dir
        self.users = dict(users or {})
        self.conf_dir = base_dir / "conf"
        self.data_dir = base_dir / "data"
        self.console_log = base_dir / "console.log"
        self.broker_log = base_dir / "activemq.log"
        self.start_timeout_seconds = start_timeout_seconds
        self.stomp_port: int | None = None
        #: How long the last start() took until STOMP answered.
        self.last_start_seconds: float | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)

    @classmethod
    def create(cls, *, users: Mapping[str, str] | None = None) -> ActiveMQ:
        """A started broker in a new temporary directory; ``destroy()`` it."""
        base_dir = Path(tempfile.mkdtemp(prefix="ridad-test-activemq-"))
        broker = cls(base_dir, users=users)
        try:
            broker.start()
        except BaseException:
            broker.destroy()
            raise
        return broker

    @property
    def endpoint(self) -> str:
        """The client endpoint string of the STOMP connector."""
        return f"tcp:127.0.0.1:{self.stomp_port}"

    @property
    def running(self) -> bool:
        """Whether the broker process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the broker and wait until STOMP answers.

        The first start picks a free port (again on a collision); later
        starts keep it, so clients can reconnect, and keep the data.

        :raises RuntimeError: the broker did not come up in time.
        """
        if self.running:
            return
        fixed = self.stomp_port is not None
        for _ in range(5):
            if self.stomp_port is None:
                self.stomp_port = free_port()
            try:
                self._start_once()
                return
            except PortTaken:
                if fixed:
                    raise
                self.stomp_port = None
        raise RuntimeError("No free port for the test broker")

    def stop(self, timeout_seconds: float = 30.0) -> None:
        """Stop the broker cleanly (SIGTERM), killing it after ``timeout_seconds``."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout_seconds)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._process = None
        _running.discard(self)

    def kill(self) -> None:
        """Kill the broker at once (SIGKILL), like a crash."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        self._process = None
        _running.discard(self)

    def restart(self) -> None:
        """Stop and start again on the same port with the same data."""
        self.stop()
        self.start()

    def destroy(self) -> None:
        """Stop the broker and delete its directory."""
        self.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        """The end of the console and broker logs, for error messages."""
        text = ""
        for path in (self.console_log, self.broker_log):
            if path.exists():
                content = path.read_text(errors="replace").splitlines()[-lines:]
                text += f"--- {path.name}\n" + "\n".join(content) + "\n"
        return text

    def _write_config(self) -> None:
        assert self.stomp_port is not None
        (self.conf_dir / "activemq.xml").write_text(
            activemq_xml(
                str(self.base_dir),
                port=self.stomp_port,
                broker_name="ridad-test",
                queues=(),
                users=self.users,
            )
        )
        (self.conf_dir / "log4j.properties").write_text(
            log4j_properties(str(self.broker_log), console=False)
        )

    def _argv(self) -> list[str]:
        return [
            "java",
            *JVM_OPTIONS,
            f"-Dactivemq.home={ACTIVEMQ_HOME}",
            f"-Dactivemq.base={self.base_dir}",
            f"-Dactivemq.conf={self.conf_dir}",
            f"-Dactivemq.data={self.data_dir}",
            "-jar",
            str(ACTIVEMQ_JAR),
            "start",
            f"xbean:file:{self.conf_dir / 'activemq.xml'}",
        ]

    def _start_once(self) -> None:
        assert self.stomp_port is not None
        self._write_config()
        started = time.monotonic()
        with open(self.console_log, "ab") as console:
            self._process = subprocess.Popen(
                self._argv(),
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                cwd=self.base_dir,
                start_new_session=True,
                env={**os.environ, "ACTIVEMQ_HOME": str(ACTIVEMQ_HOME)},
            )
        _running.add(self)
        deadline = started + self.start_timeout_seconds
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                _running.discard(self)
                tail = self.log_tail()
                if "Address already in use" in tail:
                    raise PortTaken(tail)
                raise RuntimeError(f"ActiveMQ exited while starting:\n{tail}")
            if stomp_answers(self.stomp_port, next(iter(self.users.items()), None)):
                self.last_start_seconds = time.monotonic() - started
                return
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(
            f"ActiveMQ did not answer STOMP within {self.start_timeout_seconds} s:\n"
            f"{self.log_tail()}"
        )
