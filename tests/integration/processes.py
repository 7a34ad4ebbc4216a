"""ridad as a real ``twistd -n`` child process of the test, which a test may
kill, and a client of its API that never waits long on a dead one."""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml
from treq.client import HTTPClient
from twisted.internet.defer import Deferred, succeed
from twisted.internet.error import ConnectError
from twisted.internet.protocol import ProcessProtocol
from twisted.internet.task import deferLater
from twisted.python.failure import Failure
from twisted.web.client import (
    Agent,
    HTTPConnectionPool,
    ResponseFailed,
    ResponseNeverReceived,
)

from tests.helpers import free_port

REPO = Path(__file__).resolve().parents[2]
TWISTD = Path(sys.executable).parent / "twistd"
#: Start the program in a session (and process group) of its own, to be
#: SIGKILLed (PR_SET_PDEATHSIG) should the test process die first.
NEW_SESSION = (
    "import ctypes, os, signal, sys;"
    " ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL));"
    " os.setsid(); os.execv(sys.argv[1], sys.argv[1:])"
)
START_TIMEOUT_SECONDS = 30.0
REQUEST_TIMEOUT_SECONDS = 5.0
LISTEN_FAILURES = (b"Address already in use", b"CannotListenError")


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


async def sleep(seconds: float) -> None:
    """Wait ``seconds`` on the global reactor."""
    await deferLater(_reactor(), seconds, lambda: None)


def http_client() -> HTTPClient:
    """A treq client without persistent connections (servers here get killed)."""
    reactor = _reactor()
    return HTTPClient(
        Agent(reactor, pool=HTTPConnectionPool(reactor, persistent=False))
    )


class _Output(ProcessProtocol):
    """Copies the child's stdout and stderr to a file; remembers its end."""

    def __init__(self, log: IO[bytes]) -> None:
        self._log = log
        self.ended: BaseException | None = None
        self._waiters: list[Deferred[BaseException]] = []

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        self._log.write(data)
        self._log.flush()

    def processEnded(self, reason: Failure) -> None:
        self._log.close()
        self.ended = reason.value  # ProcessDone or ProcessTerminated
        waiters, self._waiters = self._waiters, []
        for d in waiters:
            d.callback(self.ended)

    def when_ended(self) -> Deferred[BaseException]:
        """Fires with ProcessDone or ProcessTerminated once the child is reaped."""
        if self.ended is not None:
            return succeed(self.ended)
        d: Deferred[BaseException] = Deferred()
        self._waiters.append(d)
        return d


@dataclass
class RidadProcess:
    """One ``twistd -n ridad`` child process and where its API listens."""

    name: str
    pid: int
    base_url: str
    log: Path
    protocol: _Output
    http: HTTPClient = field(default_factory=http_client)

    @property
    def running(self) -> bool:
        """Whether the process has not exited yet."""
        return self.protocol.ended is None

    def url(self, path: str) -> str:
        """Absolute URL of an API path."""
        return self.base_url + path

    async def get_json(self, path: str) -> tuple[int, Any]:
        """``GET path``: the status code and the JSON body."""
        response = await self.http.get(self.url(path), timeout=REQUEST_TIMEOUT_SECONDS)
        return response.code, await response.json()

    async def kill(self) -> None:
        """SIGKILL the process, wait until it is reaped, then SIGKILL whatever
        children it left in its process group (git, rpmbuild)."""
        if self.running:
            os.kill(self.pid, signal.SIGKILL)
            await self.protocol.when_ended()
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def tail(self, lines: int = 60) -> str:
        """The last ``lines`` lines of the process's output."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError as e:
            return f"(no output: {e})"
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Processes:
    """The ridad processes of one test; kills every one still running at the end."""

    tmp_path: Path
    started: list[RidadProcess] = field(default_factory=list)

    async def start(self, name: str, config: dict[str, Any]) -> RidadProcess:
        """Write ``config`` (its ``listen`` replaced by a free port), start
        ``twistd -n ridad`` on it and wait until ``/health`` answers 200."""
        for attempt in range(5):
            port = free_port()
            if any(p.base_url.endswith(f":{port}") for p in self.started if p.running):
                continue
            process = self._spawn(
                f"{name}-{attempt}",
                {**config, "listen": f"tcp:{port}:interface=127.0.0.1"},
                port,
            )
            self.started.append(process)
            if await _ready(process, port):
                return process
            await process.kill()
            if not any(f in process.log.read_bytes() for f in LISTEN_FAILURES):
                raise AssertionError(
                    f"{name} did not become healthy:\n{process.tail()}"
                )
        raise AssertionError(f"{name} found no free port")

    def _spawn(
        self,
        name: str,
        config: dict[str, Any],
        port: int,
        log_format: str = "text",
    ) -> RidadProcess:
        config_path = self.tmp_path / f"{name}.yaml"
        config_path.write_text(yaml.safe_dump(config))
        log = self.tmp_path / f"{name}.log"
        argv = [
            str(TWISTD), "-n", "--pidfile=", "--logger=ridad.logs.observer",
            "ridad", "--config", str(config_path),
        ]  # fmt: skip
        env = {
            **os.environ,
            "RIDAD_LOG_FORMAT": log_format,
            "PYTHONPATH": str(REPO),
        }
        protocol = _Output(log.open("wb"))
        transport = _reactor().spawnProcess(
            protocol,
            sys.executable,
            [sys.executable, "-c", NEW_SESSION, *argv],
            env=env,
            path=str(REPO),
        )
        return RidadProcess(
            name=name,
            pid=transport.pid,
            base_url=f"http://127.0.0.1:{port}",
            log=log,
            protocol=protocol,
        )

    async def kill_all(self) -> None:
        """SIGKILL every process still running (teardown)."""
        for process in self.started:
            await process.kill()

    def report(self) -> str:
        """The tail of every process's output, for a failing test."""
        return "\n".join(
            f"----- {p.name} (pid {p.pid}) -----\n{p.tail()}" for p in self.started
        )


async def _ready(process: RidadProcess, port: int) -> bool:
    """Whether ``process`` itself answers ``/health`` with 200 in time.

    Another process may hold the port: the answer counts only once this one
    has logged that it listens there.
    """
    reactor = _reactor()
    deadline = reactor.seconds() + START_TIMEOUT_SECONDS
    listening = f"starting on {port}".encode()
    while process.running and reactor.seconds() < deadline:
        output = process.log.read_bytes()
        if any(f in output for f in LISTEN_FAILURES):
            return False
        if listening in output:
            try:
                code, _ = await process.get_json("/health")
            except (ConnectError, ResponseFailed, ResponseNeverReceived):
                code = 0
            if code == 200:
                return True
        await sleep(0.1)
    return False
