"""A private PostgreSQL cluster for ``database.dsn: embedded``.

The pure helpers (binary lookup, data directory choice, port choice, argv
building) are plain functions so that test fixtures can reuse them
synchronously; :class:`EmbeddedPostgres` runs them through Twisted's process
API, each child with a time limit.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import socket
import stat
import tempfile
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.error import ProcessExitedAlready
from twisted.internet.protocol import ProcessProtocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from ridad.errors import ConfigError, DatabaseUnavailable

#: The system account a root-run daemon runs the cluster as.
CLUSTER_ACCOUNT = "postgres"
DATABASE_NAME = "ridad"
SERVER_LOG_NAME = "server.log"
_TERM_GRACE = 5.0  # seconds between SIGTERM and SIGKILL


def find_bin_dir(root: str = "/usr/lib/postgresql") -> str:
    """Return Debian's ``<root>/<highest version>/bin``, else pg_ctl's PATH directory.

    :raises ConfigError: no PostgreSQL server binaries are installed.
    """
    entries = os.listdir(root) if os.path.isdir(root) else []
    versions = [
        int(entry)
        for entry in entries
        if entry.isdigit()
        and os.path.exists(os.path.join(root, entry, "bin", "pg_ctl"))
    ]
    if versions:
        return os.path.join(root, str(max(versions)), "bin")
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is None:
        raise ConfigError(
            ["database.dsn: embedded needs the PostgreSQL server installed"]
        )
    return os.path.dirname(os.path.realpath(pg_ctl))


def cluster_account() -> str | None:
    """The account to run the cluster as: ``postgres`` for root, else None (us)."""
    return CLUSTER_ACCOUNT if os.geteuid() == 0 else None


def superuser_name(account: str | None) -> str:
    """The cluster's superuser: the account it runs as."""
    return account or pwd.getpwuid(os.geteuid()).pw_name


def can_traverse(account: str, path: str) -> bool:
    """Tell whether ``account`` may search every existing directory down to ``path``."""
    entry = pwd.getpwnam(account)
    groups = set(os.getgrouplist(account, entry.pw_gid))
    current = Path(os.path.abspath(path))
    for directory in [*reversed(current.parents), current]:
        try:
            info = os.stat(directory)
        except FileNotFoundError:
            break
        if info.st_uid == entry.pw_uid:
            bit = stat.S_IXUSR
        elif info.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return False
    return True


def fallback_dir(state_dir: str, temp_dir: str | None = None) -> str:
    """The private directory under the temporary directory, stable per ``state_dir``."""
    digest = hashlib.sha1(os.path.abspath(state_dir).encode()).hexdigest()[:12]
    return os.path.join(temp_dir or tempfile.gettempdir(), f"ridad-pg-{digest}")


def choose_data_dir(state_dir: str, account: str | None) -> tuple[str, bool]:
    """Return the data directory and whether it is the temporary-directory fallback."""
    if account is None or can_traverse(account, state_dir):
        return os.path.join(os.path.abspath(state_dir), "postgres"), False
    return os.path.join(fallback_dir(state_dir), "postgres"), True


def prepare_parent(data_dir: str, account: str | None, fallback: bool) -> None:
    """Create the data directory's parent; a fallback parent is private to ``account``.

    :raises ConfigError: the fallback directory exists but is not a private
        directory of ``account`` (someone may be tampering with it).
    """
    parent = os.path.dirname(data_dir)
    if not fallback:
        os.makedirs(parent, exist_ok=True)
        if account is not None and not can_traverse(account, parent):
            raise ConfigError([f"state_dir: {account} cannot reach {parent} (umask?)"])
        return
    owner = pwd.getpwnam(account or superuser_name(None))
    try:
        os.mkdir(parent, 0o700)
        os.chown(parent, owner.pw_uid, owner.pw_gid)
    except FileExistsError:
        info = os.lstat(parent)
        private = info.st_uid == owner.pw_uid and not info.st_mode & 0o077
        if not (stat.S_ISDIR(info.st_mode) and private):
            problem = f"{parent} exists but is not private to {owner.pw_name}"
            raise ConfigError([f"state_dir: {problem}"]) from None


def make_private_dir(path: str, account: str | None) -> None:
    """Create ``path`` with mode 0700, owned by ``account`` (or us)."""
    os.mkdir(path, 0o700)
    if account is not None:
        owner = pwd.getpwnam(account)
        os.chown(path, owner.pw_uid, owner.pw_gid)


def pick_free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free a moment ago (bind to 0, read, release)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def as_account(account: str | None, argv: list[str]) -> list[str]:
    """Prefix ``argv`` with ``runuser -u <account> --`` when an account is given."""
    if account is None:
        return argv
    return [shutil.which("runuser") or "/usr/sbin/runuser", "-u", account, "--", *argv]


def initdb_argv(
    *,
    bin_dir: str,
    data_dir: str,
    superuser: str,
    account: str | None,
    no_sync: bool = False,
) -> list[str]:
    """The initdb command: trust auth, UTF8, C locale."""
    argv = [os.path.join(bin_dir, "initdb"), "-D", data_dir, "-U", superuser]
    argv += ["-A", "trust", "--encoding=UTF8", "--locale=C"]
    return as_account(account, argv + (["--no-sync"] if no_sync else []))


def server_options(port: int, extra: tuple[str, ...] = ()) -> str:
    """The ``pg_ctl -o`` string: our port, loopback TCP only, no Unix sockets."""
    settings = ["listen_addresses=127.0.0.1", "unix_socket_directories=", *extra]
    return " ".join([f"-p {port}", *(f"-c {s}" for s in settings)])


def pg_ctl_argv(
    *,
    bin_dir: str,
    data_dir: str,
    action: str,
    account: str | None,
    timeout_seconds: float = 60,
    port: int | None = None,
    mode: str = "fast",
    extra_options: tuple[str, ...] = (),
) -> list[str]:
    """A ``pg_ctl start|stop|status`` command for ``data_dir``.

    ``start`` logs to ``<data_dir>/server.log`` (so the server does not hold our
    pipes open) and needs ``port``.
    """
    argv = [os.path.join(bin_dir, "pg_ctl"), action, "-D", data_dir]
    if action in ("start", "stop"):
        argv += ["-w", "-t", str(max(1, int(timeout_seconds)))]
    if action == "start":
        if port is None:
            raise ValueError("pg_ctl start needs a port")
        log_file = os.path.join(data_dir, SERVER_LOG_NAME)
        argv += ["-l", log_file, "-o", server_options(port, extra_options)]
    if action == "stop":
        argv += ["-m", mode]
    return as_account(account, argv)


def psql_argv(
    *, bin_dir: str, port: int, user: str, dbname: str, sql: str
) -> list[str]:
    """A psql command running ``sql`` over TCP and printing bare values."""
    flags = f"-X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p {port}".split()
    return [os.path.join(bin_dir, "psql"), *flags, "-U", user, "-d", dbname, "-c", sql]


def recorded_port(data_dir: str) -> int | None:
    """The port in ``postmaster.pid`` (its fourth line), or None."""
    try:
        lines = Path(data_dir, "postmaster.pid").read_text().splitlines()
        return int(lines[3])
    except (OSError, IndexError, ValueError):
        return None


def log_size(data_dir: str) -> int:
    """The current size of the server log (0 when there is none)."""
    try:
        return os.path.getsize(os.path.join(data_dir, SERVER_LOG_NAME))
    except OSError:
        return 0


def log_since(data_dir: str, offset: int, limit: int = 4000) -> str:
    """What the server logged after ``offset`` (at most its last ``limit`` bytes)."""
    try:
        with open(os.path.join(data_dir, SERVER_LOG_NAME), "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(offset, f.tell() - limit))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def dsn_for(port: int, user: str, dbname: str = DATABASE_NAME) -> str:
    """The DSN of a database of the embedded cluster."""
    return f"host=127.0.0.1 port={port} dbname={dbname} user={user}"


def child_env() -> dict[str, str]:
    """A small environment for the PostgreSQL tools: no stray PG* settings."""
    path = os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    return {"PATH": path, "LANG": "C", "LC_ALL": "C"}


class _Output(ProcessProtocol):
    """Collect a child's output; fire ``done`` with (exit code or None, out, err)."""

    def __init__(self, done: Deferred[tuple[int | None, str, str]]) -> None:
        self._done = done
        self._out: list[bytes] = []
        self._err: list[bytes] = []

    def outReceived(self, data: bytes) -> None:
        self._out.append(data)

    def errReceived(self, data: bytes) -> None:
        self._err.append(data)

    def processEnded(self, reason: Failure) -> None:
        out = b"".join(self._out).decode("utf-8", "replace")
        err = b"".join(self._err).decode("utf-8", "replace")
        self._done.callback((reason.value.exitCode, out, err))


class EmbeddedPostgres:
    """A PostgreSQL cluster of our own under ``<state_dir>/postgres``.

    As root the cluster runs as the ``postgres`` account; when that account
    cannot reach ``state_dir`` (a 0700 parent such as /root), the cluster lives
    in a private directory under the system temporary directory instead (see
    :attr:`data_dir`). ``reactor`` must provide IReactorProcess and IReactorTime.
    """

    log = Logger()

    def __init__(
        self,
        *,
        state_dir: str,
        reactor: Any,
        bin_dir: str | None = None,
        timeout_seconds: float = 120,
    ) -> None:
        self._state_dir = os.path.abspath(state_dir)
        self._reactor = reactor
        self._bin_dir = bin_dir
        self._timeout_seconds = timeout_seconds
        self._account = cluster_account()
        self._placement: tuple[str, bool] | None = None
        self.port: int | None = None

    @property
    def data_dir(self) -> str:
        """Where the cluster lives (decided on first use, then fixed).

        :raises ConfigError: running as root without a ``postgres`` account.
        """
        return self._place()[0]

    async def start(self) -> str:
        """Create the cluster if needed, start it and return the ``ridad`` DSN.

        A server still running from before (the daemon was killed) is reused;
        PostgreSQL itself clears a stale ``postmaster.pid`` of a killed server.

        :raises ConfigError: no PostgreSQL binaries, no ``postgres`` account, or
            an untrustworthy fallback directory.
        :raises DatabaseUnavailable: initdb, pg_ctl or psql failed or timed out.
        """
        data_dir, fallback = self._place()
        if fallback:
            self.log.warn(  # noqa: G010 (twisted.logger has no .warning)
                "The {account} account cannot reach {state_dir}; the embedded "
                "PostgreSQL cluster lives in {data_dir} instead",
                account=self._account,
                state_dir=self._state_dir,
                data_dir=data_dir,
            )
        prepare_parent(data_dir, self._account, fallback)
        if not os.path.exists(os.path.join(data_dir, "PG_VERSION")):
            await self._initdb(data_dir)
        port = await self._running_port(data_dir)
        if port is None:
            port = await self._start_server(data_dir)
        exists = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'"
        if (await self._psql(port, exists)).strip() != "1":
            await self._psql(port, f"CREATE DATABASE {DATABASE_NAME}")
        self.port = port
        self.log.info(
            "Embedded PostgreSQL runs on port {port} in {data_dir}",
            port=port,
            data_dir=data_dir,
        )
        return dsn_for(port, superuser_name(self._account))

    async def stop(self) -> None:
        """Stop the cluster (``pg_ctl stop -m fast``) if it is running.

        :raises DatabaseUnavailable: pg_ctl failed or timed out.
        """
        data_dir = self.data_dir
        if not os.path.exists(os.path.join(data_dir, "PG_VERSION")):
            return
        if (await self._run(self._pg_ctl(data_dir, "status")))[0] != 0:
            return
        await self._check("pg_ctl stop", self._pg_ctl(data_dir, "stop"))
        self.port = None
        self.log.info("Embedded PostgreSQL stopped")

    def _place(self) -> tuple[str, bool]:
        if self._placement is None:
            try:
                self._placement = choose_data_dir(self._state_dir, self._account)
            except KeyError:
                problem = f"embedded needs a {CLUSTER_ACCOUNT} account as root"
                raise ConfigError([f"database.dsn: {problem}"]) from None
        return self._placement

    def _bin(self) -> str:
        if self._bin_dir is None:
            self._bin_dir = find_bin_dir()
        return self._bin_dir

    def _pg_ctl(self, data_dir: str, action: str, port: int | None = None) -> list[str]:
        return pg_ctl_argv(
            bin_dir=self._bin(),
            data_dir=data_dir,
            action=action,
            account=self._account,
            timeout_seconds=self._timeout_seconds,
            port=port,
        )

    def _psql_argv(self, port: int, sql: str) -> list[str]:
        user = superuser_name(self._account)
        return psql_argv(
            bin_dir=self._bin(), port=port, user=user, dbname="postgres", sql=sql
        )

    async def _psql(self, port: int, sql: str) -> str:
        return await self._check("psql", self._psql_argv(port, sql))

    async def _initdb(self, data_dir: str) -> None:
        """initdb into a staging directory, then rename it: no half-made cluster."""
        staging = data_dir + ".initdb"
        if os.path.lexists(staging):
            shutil.rmtree(staging)
        make_private_dir(staging, self._account)
        argv = initdb_argv(
            bin_dir=self._bin(),
            data_dir=staging,
            superuser=superuser_name(self._account),
            account=self._account,
        )
        await self._check("initdb", argv)
        try:
            os.rename(staging, data_dir)
        except OSError as e:
            problem = f"{data_dir} exists but holds no PostgreSQL cluster"
            raise ConfigError([f"state_dir: {problem}"]) from e
        self.log.info("Created a PostgreSQL cluster in {data_dir}", data_dir=data_dir)

    async def _running_port(self, data_dir: str) -> int | None:
        """The port of a server already running on ``data_dir``, or None."""
        if (await self._run(self._pg_ctl(data_dir, "status")))[0] != 0:
            return None
        port = recorded_port(data_dir)
        probe = None if port is None else self._psql_argv(port, "SELECT 1")
        if probe is not None and (await self._run(probe))[0] == 0:
            self.log.info("Reusing the running PostgreSQL on port {port}", port=port)
            return port
        raise DatabaseUnavailable(
            f"{data_dir}/postmaster.pid names a live process but no server answers "
            f"on port {port}; if no PostgreSQL uses {data_dir}, remove that file"
        )

    async def _start_server(self, data_dir: str) -> int:
        """pg_ctl start on a free port, with a new port when another took it."""
        for _ in range(3):
            port = pick_free_port()
            offset = log_size(data_dir)
            code, out, err = await self._run(self._pg_ctl(data_dir, "start", port))
            if code == 0:
                return port
            logged = log_since(data_dir, offset)
            if "Address already in use" not in logged:
                output = (err or out).strip()
                raise DatabaseUnavailable(
                    f"pg_ctl start failed (exit {code}): {output}\n{logged}"
                )
        raise DatabaseUnavailable("pg_ctl start failed: no free port after 3 tries")

    async def _check(self, what: str, argv: list[str]) -> str:
        """Run ``argv``; return its output, or raise if it failed."""
        code, out, err = await self._run(argv)
        if code != 0:
            output = (err or out).strip()
            raise DatabaseUnavailable(f"{what} failed (exit {code}): {output}")
        return out

    async def _run(self, argv: list[str]) -> tuple[int | None, str, str]:
        """Run ``argv`` with the time limit: SIGTERM, then SIGKILL after a grace."""
        done: Deferred[tuple[int | None, str, str]] = Deferred()
        transport = self._reactor.spawnProcess(
            _Output(done), argv[0], argv, env=child_env(), path="/"
        )
        limit = self._timeout_seconds
        term = self._reactor.callLater(limit, _signal, transport, "TERM")
        kill = self._reactor.callLater(limit + _TERM_GRACE, _signal, transport, "KILL")
        try:
            result = await done
        finally:
            for timer in (term, kill):
                if timer.active():
                    timer.cancel()
        if term.called:
            program = os.path.basename(argv[0])
            raise DatabaseUnavailable(f"{program} did not finish within {limit:g} s")
        return result


def _signal(transport: Any, signal_name: str) -> None:
    try:
        transport.signalProcess(signal_name)
    except ProcessExitedAlready:
        pass
