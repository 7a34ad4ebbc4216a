"""Tests for ridad.db.embedded and ridad.db.cluster: a private cluster started
through Twisted."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions
import pytest
import pytest_twisted

from ridad.db.cluster import (
    choose_data_dir,
    fallback_dir,
    initdb_argv,
    pg_ctl_argv,
    pick_free_port,
    prepare_parent,
)
from ridad.db.cluster_access import SOCKET_PORT
from ridad.db.embedded import EmbeddedPostgres
from ridad.db.pool import Pool
from ridad.errors import ConfigError
from tests.helpers import run, wait_for

as_root = pytest.mark.usefixtures("running_as_root")


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


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


def test_pg_ctl_start_for_tests_runs_as_postgres_on_loopback_without_unix_socket() -> (
    None
):
    """Without a socket directory (the tests' clusters): loopback TCP, no socket."""
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


def test_pg_ctl_start_with_a_socket_dir_listens_on_no_tcp_address() -> None:
    """The embedded cluster's start: no TCP address, the socket in its directory."""
    argv = pg_ctl_argv(
        bin_dir="/pg/bin",
        data_dir="/d",
        action="start",
        account=None,
        port=5432,
        socket_dir="/s/postgres-socket",
    )
    options = argv[argv.index("-o") + 1]
    assert options.split() == [
        "-p",
        "5432",
        "-c",
        "listen_addresses=",
        "-c",
        "unix_socket_directories=/s/postgres-socket",
    ]


def test_initdb_of_the_embedded_cluster_trusts_nobody() -> None:
    """local_only: peer authentication on the socket, TCP refused; never trust."""
    argv = initdb_argv(
        bin_dir="/pg/bin",
        data_dir="/d",
        superuser="ridad",
        account=None,
        local_only=True,
    )
    assert "--auth-local=peer" in argv and "--auth-host=reject" in argv
    assert "trust" not in argv


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
    assert params["host"] == str(open_dir / "state" / "postgres-socket")
    assert params["port"] == str(SOCKET_PORT)
    assert cluster.data_dir == str(open_dir / "state" / "postgres")
    listening = await _query(dsn, "SELECT current_setting('listen_addresses') AS a")
    assert listening == [{"a": ""}]
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


def _psql_as(
    account: str, bin_dir: str, socket_dir: str
) -> subprocess.CompletedProcess[str]:
    """``runuser -u <account> -- psql`` on the embedded cluster's socket."""
    argv = ["runuser", "-u", account, "--", os.path.join(bin_dir, "psql"), "-X"]
    argv += ["-At", "-h", socket_dir, "-p", str(SOCKET_PORT)]
    argv += ["-U", "postgres", "-d", "ridad", "-c", "SELECT 1"]
    return subprocess.run(
        argv, capture_output=True, text=True, cwd="/", timeout=60, check=False
    )


@as_root
@pytest_twisted.ensureDeferred
async def test_another_local_user_cannot_connect(
    open_dir: Path, clusters: list[EmbeddedPostgres], postgres_bin_dir: str
) -> None:
    """nobody cannot reach the socket; with the directories opened up it still
    fails peer authentication; ridad's account connects all along."""
    state_dir = open_dir / "state"
    cluster = EmbeddedPostgres(state_dir=str(state_dir), reactor=_reactor())
    clusters.append(cluster)
    dsn = await cluster.start()
    socket_dir = str(cluster.socket_dir)
    refused = _psql_as("nobody", postgres_bin_dir, socket_dir)
    assert refused.returncode != 0
    assert "Permission denied" in refused.stderr, refused.stderr
    state_dir.chmod(0o755)
    Path(socket_dir).chmod(0o755)
    try:
        refused = _psql_as("nobody", postgres_bin_dir, socket_dir)
    finally:
        Path(socket_dir).chmod(0o750)
        state_dir.chmod(0o750)
    assert refused.returncode != 0
    assert "Peer authentication failed" in refused.stderr, refused.stderr
    assert await _query(dsn, "SELECT 1 AS one") == [{"one": 1}]
    await cluster.stop()


@pytest_twisted.ensureDeferred
async def test_a_server_left_on_tcp_with_trust_is_restarted_on_the_socket(
    open_dir: Path, clusters: list[EmbeddedPostgres], postgres_bin_dir: str
) -> None:
    """A cluster an older ridad left running (TCP, trust) is restarted with
    ridad's access files, on the socket only."""
    cluster = EmbeddedPostgres(state_dir=str(open_dir / "state"), reactor=_reactor())
    clusters.append(cluster)
    await cluster.start()
    await cluster.stop()
    hba = Path(cluster.data_dir, "pg_hba.conf")
    hba.write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    port = pick_free_port()
    old = pg_ctl_argv(
        bin_dir=postgres_bin_dir,
        data_dir=cluster.data_dir,
        action="start",
        account=cluster._account,
        port=port,
    )
    run(old)
    dsn = await cluster.start()
    assert "peer map=ridad" in hba.read_text()
    listening = await _query(dsn, "SELECT current_setting('listen_addresses') AS a")
    assert listening == [{"a": ""}]
    tcp = f"host=127.0.0.1 port={port} dbname=ridad user=postgres connect_timeout=5"
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(tcp).close()
    await cluster.stop()


@pytest_twisted.ensureDeferred
async def test_a_state_dir_too_deep_for_a_socket_puts_it_in_the_temp_dir(
    open_dir: Path, clusters: list[EmbeddedPostgres]
) -> None:
    """A socket path over 107 bytes: the socket directory moves to the private
    temporary directory; the data stays under state_dir."""
    state_dir = open_dir / ("d" * 90) / "state"
    cluster = EmbeddedPostgres(state_dir=str(state_dir), reactor=_reactor())
    clusters.append(cluster)
    try:
        dsn = await cluster.start()
        assert cluster.data_dir == str(state_dir / "postgres")
        temp_parent = fallback_dir(str(state_dir))
        assert cluster.socket_dir == os.path.join(temp_parent, "postgres-socket")
        assert os.stat(temp_parent).st_mode & 0o777 == 0o700
        assert await _query(dsn, "SELECT 1 AS one") == [{"one": 1}]
        await cluster.stop()
    finally:
        shutil.rmtree(fallback_dir(str(state_dir)), ignore_errors=True)
