"""A private PostgreSQL cluster for ``database.dsn: embedded``.

:class:`EmbeddedPostgres` creates, starts and stops it, running initdb,
pg_ctl and psql through :func:`ridad.process.run_process`, each with a time
limit; the commands and the layout come from :mod:`ridad.db.cluster`.
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
    find_bin_dir,
    initdb_argv,
    log_since,
    log_size,
    make_private_dir,
    pg_ctl_argv,
    pick_free_port,
    prepare_parent,
    psql_argv,
    recorded_port,
    superuser_name,
)
from ridad.errors import ConfigError, DatabaseUnavailable
from ridad.process import run_process

_MAX_OUTPUT_BYTES = 1024 * 1024  # of stdout and of stderr, per tool run


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
