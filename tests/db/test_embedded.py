"""Tests for ridad.db.embedded and ridad.db.cluster: a private cluster started
through Twisted."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2.extensions
import pytest
import pytest_twisted

from ridad.db.cluster import (
    choose_data_dir,
    fallback_dir,
    pg_ctl_argv,
    prepare_parent,
)
from ridad.db.embedded import EmbeddedPostgres
from ridad.db.pool import Pool
from ridad.errors import ConfigError
from tests.helpers import missing, wait_for

as_root = pytest.mark.usefixtures("running_as_root")


@pytest.fixture
def running_as_root() -> None:
    """The test runs the cluster as the postgres account, which needs root."""
    if os.geteuid() != 0:
        missing("the test needs root (it runs initdb as the postgres account)")


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A fresh directory under the temporary directory that everyone may traverse."""
    path = Path(tempfile.mkdtemp(prefix="ridad-test-embedded-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def clusters(postgres_bin_dir: str) -> Iterator[list[EmbeddedPostgres]]:
    """Embedded clusters to stop and delete after the test, whatever happens."""
    started: list[EmbeddedPostgres] = []
    yield started
    for cluster in started:
        argv = pg_ctl_argv(
            bin_dir=postgres_bin_dir,
            data_dir=cluster.data_dir,
            action="stop",
            account=cluster._account,
            mode="immediate",
        )
        subprocess.run(argv, capture_output=True, cwd="/", check=False)
        if "ridad-pg-" in cluster.data_dir:
            shutil.rmtree(os.path.dirname(cluster.data_dir), ignore_errors=True)


async def _query(dsn: str, sql: str) -> list[dict[str, Any]]:
    pool = Pool(dsn=dsn, reactor=_reactor(), size=1)
    await pool.start()
    try:
        return await pool.run_query(sql)
    finally:
        await pool.close()


# Pure parts


def test_data_dir_is_under_state_dir_when_reachable(open_dir: Path) -> None:
    """A state_dir every account can reach holds the cluster in ``postgres/``."""
    state_dir = str(open_dir / "state")
    assert choose_data_dir(state_dir, "postgres") == (f"{state_dir}/postgres", False)
    assert choose_data_dir(state_dir, None) == (f"{state_dir}/postgres", False)


@as_root
def test_data_dir_falls_back_to_temp_dir_under_a_private_parent(open_dir: Path) -> None:
    """Under a 0700 directory the cluster moves to a stable private temp directory."""
    private = open_dir / "private"
    private.mkdir(mode=0o700)
    state_dir = str(private / "state")
    data_dir, fallback = choose_data_dir(state_dir, "postgres")
    assert fallback
    assert data_dir == os.path.join(fallback_dir(state_dir), "postgres")
    assert fallback_dir(state_dir) == fallback_dir(state_dir + "/")
    assert fallback_dir(state_dir) != fallback_dir(str(open_dir / "other"))


@as_root
def test_a_foreign_fallback_directory_is_refused(open_dir: Path) -> None:
    """A pre-existing fallback directory not private to postgres is a ConfigError."""
    squatted = open_dir / "ridad-pg-squatted"
    squatted.mkdir(mode=0o777)
    with pytest.raises(ConfigError):
        prepare_parent(str(squatted / "postgres"), "postgres", fallback=True)


def test_pg_ctl_start_runs_as_postgres_on_loopback_without_unix_socket() -> None:
    """The start command names the port, loopback only, no Unix socket, a log file."""
    argv = pg_ctl_argv(
        bin_dir="/pg/bin", data_dir="/d", action="start", account="postgres", port=5
    )
    assert argv[1:4] == ["-u", "postgres", "--"]
    assert argv[4:8] == ["/pg/bin/pg_ctl", "start", "-D", "/d"]
    options = argv[argv.index("-o") + 1]
    assert options.split() == [
        "-p",
        "5",
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "unix_socket_directories=",
    ]
    assert argv[argv.index("-l") + 1] == "/d/server.log"


# Real clusters


@pytest_twisted.ensureDeferred
async def test_start_connect_stop_and_restart_keep_the_data(
    open_dir: Path, clusters: list[EmbeddedPostgres]
) -> None:
    """start() returns a working ridad DSN; data survives stop() and start()."""
    cluster = EmbeddedPostgres(state_dir=str(open_dir / "state"), reactor=_reactor())
    clusters.append(cluster)
    dsn = await cluster.start()
    params = psycopg2.extensions.parse_dsn(dsn)
    assert params["dbname"] == "ridad"
    assert params["host"] == "127.0.0.1"
    assert cluster.data_dir == str(open_dir / "state" / "postgres")
    await _query(dsn, "CREATE TABLE kept AS SELECT 42 AS answer")
    await cluster.stop()
    assert cluster.port is None
    dsn = await cluster.start()
    assert await _query(dsn, "SELECT answer FROM kept") == [{"answer": 42}]
    await cluster.stop()


@as_root
@pytest_twisted.ensureDeferred
async def test_state_dir_under_a_private_parent_uses_the_temp_dir(
    open_dir: Path, clusters: list[EmbeddedPostgres]
) -> None:
    """As root under a 0700 parent, the cluster runs from a private temp directory."""
    private = open_dir / "private"
    private.mkdir(mode=0o700)
    state_dir = str(private / "state")
    cluster = EmbeddedPostgres(state_dir=state_dir, reactor=_reactor())
    clusters.append(cluster)
    dsn = await cluster.start()
    assert cluster.data_dir == os.path.join(fallback_dir(state_dir), "postgres")
    parent = os.stat(fallback_dir(state_dir))
    assert parent.st_mode & 0o777 == 0o700
    assert parent.st_uid == os.stat(cluster.data_dir).st_uid != 0
    assert await _query(dsn, "SELECT current_database() AS db") == [{"db": "ridad"}]
    await cluster.stop()


@pytest_twisted.ensureDeferred
async def test_a_server_left_running_is_reused(
    open_dir: Path, clusters: list[EmbeddedPostgres]
) -> None:
    """After the daemon died, a new start() adopts the still-running server."""
    state_dir = str(open_dir / "state")
    first = EmbeddedPostgres(state_dir=state_dir, reactor=_reactor())
    clusters.append(first)
    dsn = await first.start()
    second = EmbeddedPostgres(state_dir=state_dir, reactor=_reactor())
    assert await second.start() == dsn
    await second.stop()


@pytest_twisted.ensureDeferred
async def test_start_after_the_server_was_killed_copes_with_the_stale_pid_file(
    open_dir: Path, clusters: list[EmbeddedPostgres]
) -> None:
    """kill -9 of the postmaster leaves postmaster.pid behind; start() still works."""
    cluster = EmbeddedPostgres(state_dir=str(open_dir / "state"), reactor=_reactor())
    clusters.append(cluster)
    dsn = await cluster.start()
    await _query(dsn, "CREATE TABLE kept AS SELECT 1 AS n")
    pid_file = Path(cluster.data_dir, "postmaster.pid")
    pid = int(pid_file.read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    await wait_for(lambda: not Path(f"/proc/{pid}").exists(), 10, _reactor())
    assert pid_file.exists()
    dsn = await cluster.start()
    assert await _query(dsn, "SELECT n FROM kept") == [{"n": 1}]
    await cluster.stop()
