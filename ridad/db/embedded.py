"""A private PostgreSQL cluster for ``database.dsn: embedded``.

:class:`EmbeddedPostgres` creates, starts and stops it, running initdb,
pg_ctl and psql through :func:`ridad.process.run_process`, each with a time
limit; the commands and the layout come from :mod:`ridad.db.cluster`, who
may connect from :mod:`ridad.db.cluster_access`.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from twisted.logger import Logger

from ridad.db.cluster import (
    CLUSTER_ACCOUNT,
    DATABASE_NAME,
    child_env,
    choose_data_dir,
    cluster_account,
    dsn_for,
    fallback_dir,
    find_bin_dir,
    initdb_argv,
    log_since,
    log_size,
    make_private_dir,
    pg_ctl_argv,
    pid_file_listening,
    prepare_fallback_dir,
    prepare_parent,
    psql_argv,
    superuser_name,
)
from ridad.db.cluster_access import (
    SOCKET_PORT,
    choose_socket_dir,
    make_state_dir,
    prepare_socket_dir,
    write_access_files,
)
from ridad.errors import ConfigError, DatabaseUnavailable
from ridad.process import run_process

_MAX_OUTPUT_BYTES = 1024 * 1024  # of stdout and of stderr, per tool run


class EmbeddedPostgres:
    """A PostgreSQL cluster of our own under ``<state_dir>/postgres``.

    It listens on no TCP port: only on a Unix socket in
    ``<state_dir>/postgres-socket``, a directory that ridad's account alone
    may enter (and, as root, the ``postgres`` account running the server),
    with peer authentication for ridad's account alone behind it.

    As root the cluster runs as the ``postgres`` account; when that account
    cannot reach ``state_dir`` (a 0700 parent such as /root), the cluster lives
    in a private directory under the system temporary directory instead (see
    :attr:`data_dir`), and so does a socket whose path would be too long.
    ``reactor`` must provide IReactorProcess and IReactorTime.
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
        self.socket_dir: str | None = None
        self.port: int | None = None

    @property
    def data_dir(self) -> str:
        """Where the cluster lives (decided on first use, then fixed).

        :raises ConfigError: running as root without a ``postgres`` account.
        """
        return self._place()[0]

    async def start(self) -> str:
        """Create the cluster if needed, start it and return the ``ridad`` DSN.

        A server still running from before (the daemon was killed) is reused,
        or restarted when it listens otherwise than this code asks (TCP);
        PostgreSQL itself clears a stale ``postmaster.pid`` of a killed server.

        :raises ConfigError: no PostgreSQL binaries, no ``postgres`` account, or
            an untrustworthy fallback or socket directory.
        :raises DatabaseUnavailable: initdb, pg_ctl or psql failed or timed out.
        """
        make_state_dir(self._state_dir, group_of=self._account)
        data_dir = self._prepare_dirs()
        if not os.path.exists(os.path.join(data_dir, "PG_VERSION")):
            await self._initdb(data_dir)
        changed = write_access_files(data_dir, superuser_name(self._account))
        if await self._reuse_running(data_dir, restart=changed):
            self.log.info("Reusing the running embedded PostgreSQL")
        else:
            await self._start_server(data_dir)
        exists = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'"
        if (await self._psql(exists)).strip() != "1":
            await self._psql(f"CREATE DATABASE {DATABASE_NAME}")
        self.port = SOCKET_PORT
        self.log.info(
            "Embedded PostgreSQL listens on a Unix socket in {directory} only;"
            " its data is in {data_dir}",
            directory=self.socket_dir,
            data_dir=data_dir,
        )
        return dsn_for(
            SOCKET_PORT, superuser_name(self._account), host=self._socket_dir()
        )

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

    def _prepare_dirs(self) -> str:
        """Make the data directory's parent and the socket directory; return
        the data directory."""
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
        temp_parent = fallback_dir(self._state_dir)
        socket_dir, socket_fallback = choose_socket_dir(data_dir, temp_parent)
        if socket_fallback and not fallback:
            prepare_fallback_dir(temp_parent, self._account)
        prepare_socket_dir(socket_dir, self._account)
        self.socket_dir = socket_dir
        return data_dir

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

    def _socket_dir(self) -> str:
        if self.socket_dir is None:
            raise RuntimeError("the socket directory is chosen by start()")
        return self.socket_dir

    def _pg_ctl(self, data_dir: str, action: str) -> list[str]:
        return pg_ctl_argv(
            bin_dir=self._bin(),
            data_dir=data_dir,
            action=action,
            account=self._account,
            timeout_seconds=self._timeout_seconds,
            port=SOCKET_PORT,
            socket_dir=self._socket_dir() if action == "start" else None,
        )

    def _psql_argv(self, sql: str) -> list[str]:
        return psql_argv(
            bin_dir=self._bin(),
            host=self._socket_dir(),
            port=SOCKET_PORT,
            user=superuser_name(self._account),
            dbname="postgres",
            sql=sql,
        )

    async def _psql(self, sql: str) -> str:
        return await self._check("psql", self._psql_argv(sql))

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
            local_only=True,
        )
        await self._check("initdb", argv)
        write_access_files(staging, superuser_name(self._account))
        try:
            os.rename(staging, data_dir)
        except OSError as e:
            problem = f"{data_dir} exists but holds no PostgreSQL cluster"
            raise ConfigError([f"state_dir: {problem}"]) from e
        self.log.info("Created a PostgreSQL cluster in {data_dir}", data_dir=data_dir)

    async def _reuse_running(self, data_dir: str, *, restart: bool) -> bool:
        """Whether a server already runs on ``data_dir`` as asked, ready for use.

        One listening otherwise (an older ridad's, on TCP), or any when
        ``restart`` (its access files changed), is stopped and False returned.

        :raises DatabaseUnavailable: ``postmaster.pid`` names a live process
            that does not answer on our socket.
        """
        if (await self._run(self._pg_ctl(data_dir, "status")))[0] != 0:
            return False
        if restart or pid_file_listening(data_dir) != (self._socket_dir(), ""):
            self.log.info(
                "Restarting the embedded PostgreSQL in {data_dir} with ridad's"
                " access settings",
                data_dir=data_dir,
            )
            await self._check("pg_ctl stop", self._pg_ctl(data_dir, "stop"))
            return False
        if (await self._run(self._psql_argv("SELECT 1")))[0] == 0:
            return True
        raise DatabaseUnavailable(
            f"{data_dir}/postmaster.pid names a live process but no server answers "
            f"in {self.socket_dir}; if no PostgreSQL uses {data_dir}, remove that file"
        )

    async def _start_server(self, data_dir: str) -> None:
        """pg_ctl start; a failure carries what the server logged."""
        offset = log_size(data_dir)
        code, out, err = await self._run(self._pg_ctl(data_dir, "start"))
        if code != 0:
            output = (err or out).strip()
            logged = log_since(data_dir, offset)
            raise DatabaseUnavailable(
                f"pg_ctl start failed (exit {code}): {output}\n{logged}"
            )

    async def _check(self, what: str, argv: list[str]) -> str:
        """Run ``argv``; return its output, or raise if it failed."""
        code, out, err = await self._run(argv)
        if code != 0:
            output = (err or out).strip()
            raise DatabaseUnavailable(f"{what} failed (exit {code}): {output}")
        return out

    async def _run(self, argv: list[str]) -> tuple[int | None, str, str]:
        """Run ``argv`` with the time limit; return (exit code, stdout, stderr).

        :raises DatabaseUnavailable: it did not finish within the limit, or
            could not be started.
        """
        try:
            result = await run_process(
                reactor=self._reactor,
                clock=self._reactor,
                executable=argv[0],
                args=argv,
                env=child_env(),
                timeout_seconds=self._timeout_seconds,
                max_stdout_bytes=_MAX_OUTPUT_BYTES,
                max_stderr_bytes=_MAX_OUTPUT_BYTES,
                path="/",
            )
        except OSError as e:
            raise DatabaseUnavailable(f"cannot run {argv[0]}: {e}") from e
        if result.timed_out:
            program = os.path.basename(argv[0])
            raise DatabaseUnavailable(
                f"{program} did not finish within {self._timeout_seconds:g} s"
            )
        return (
            result.exit_code,
            result.stdout.decode("utf-8", "replace"),
            result.stderr.decode("utf-8", "replace"),
        )
