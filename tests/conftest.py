"""Fixtures shared by every test directory: mostly real PostgreSQL.

The server is ``RIDAD_TEST_DSN`` when set (CI points it at the machine's
PostgreSQL), else a private cluster started for the session. Without either,
database tests are skipped with the reason, except under ``CI=true``, where
they fail. Each database test gets a fresh database cloned from a template
database that our real migrations built once per session.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions
import pytest
import pytest_twisted
from hypothesis import settings
from twisted.internet.defer import Deferred

from ridad.db.cluster import find_bin_dir
from ridad.db.pool import Pool, strip_dsn_password
from ridad.db.schema import migrate
from ridad.errors import ConfigError
from tests.brokers import ActiveMQ, activemq_missing
from tests.helpers import PrivateCluster, missing

settings.register_profile("ci", deadline=None, print_blob=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")

_database_numbers = itertools.count()


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


@dataclass(frozen=True)
class PostgresServer:
    """A PostgreSQL server the tests may create and drop databases on."""

    dsn: str

    def dsn_for(self, dbname: str) -> str:
        """The DSN of database ``dbname`` on this server."""
        return str(psycopg2.extensions.make_dsn(self.dsn, dbname=dbname))

    def execute(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Run one statement outside a transaction; return its rows, if any."""
        conn = psycopg2.connect(self.dsn, connect_timeout=5)
        try:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            conn.close()

    def create_database(self, name: str, template: str = "template0") -> str:
        """Create database ``name`` from ``template`` and return its DSN."""
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.dsn_for(name)

    def drop_database(self, name: str) -> None:
        """Disconnect everyone from database ``name`` and drop it."""
        self.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _unreachable(dsn: str) -> str | None:
    try:
        psycopg2.connect(dsn, connect_timeout=5).close()
    except psycopg2.Error as e:
        return str(e).strip()
    return None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server: RIDAD_TEST_DSN, else a private cluster."""
    dsn = os.environ.get("RIDAD_TEST_DSN")
    if dsn:
        problem = _unreachable(dsn)
        if problem:
            missing(f"RIDAD_TEST_DSN ({strip_dsn_password(dsn)}) fails: {problem}")
        yield PostgresServer(dsn)
        return
    try:
        cluster = PrivateCluster.create()
    except (ConfigError, OSError, RuntimeError) as e:
        missing(f"RIDAD_TEST_DSN is unset and no private cluster could start: {e}")
    try:
        yield PostgresServer(cluster.dsn)
    finally:
        cluster.destroy()


async def _migrate(dsn: str) -> None:
    pool = Pool(dsn=dsn, reactor=_reactor(), size=1)
    await pool.start()
    try:
        await migrate(pool)
    finally:
        await pool.close()


@pytest.fixture(scope="session")
def template_database(postgres_server: PostgresServer) -> Iterator[str]:
    """The name of a database our real migrations built, cloned for each test."""
    name = f"ridad_test_tpl_{os.getpid()}"
    postgres_server.drop_database(name)
    dsn = postgres_server.create_database(name)
    try:
        pytest_twisted.blockon(Deferred.fromCoroutine(_migrate(dsn)))
        yield name
    finally:
        postgres_server.drop_database(name)


@pytest.fixture
def database_dsn(
    postgres_server: PostgresServer, template_database: str
) -> Iterator[str]:
    """The DSN of a fresh, migrated database, dropped after the test."""
    name = f"ridad_test_{os.getpid()}_{next(_database_numbers)}"
    dsn = postgres_server.create_database(name, template=template_database)
    yield dsn
    postgres_server.drop_database(name)


@pytest.fixture
def empty_database_dsn(postgres_server: PostgresServer) -> Iterator[str]:
    """The DSN of a fresh database with no ridad schema, dropped after the test."""
    name = f"ridad_test_{os.getpid()}_{next(_database_numbers)}"
    dsn = postgres_server.create_database(name)
    yield dsn
    postgres_server.drop_database(name)


@pytest_twisted.async_yield_fixture
async def pool(database_dsn: str) -> AsyncIterator[Pool]:
    """A started Pool on a fresh migrated database, closed after the test."""
    started = Pool(dsn=database_dsn, reactor=_reactor())
    await started.start()
    yield started
    await started.close()


@pytest.fixture(scope="session")
def postgres_bin_dir() -> str:
    """The directory of the PostgreSQL server programs (initdb, pg_ctl)."""
    try:
        return find_bin_dir()
    except ConfigError as e:
        missing(e.message)


@pytest.fixture
def killable_postgres(postgres_bin_dir: str) -> Iterator[PrivateCluster]:
    """A private cluster the test may stop and start again on the same port.

    ``.dsn`` is its ``postgres`` database; ``.stop("immediate")`` is a crash;
    ``.start()`` brings it back on ``.port``.
    """
    cluster = PrivateCluster.create()
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="session")
def activemq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActiveMQ]:
    """A private ActiveMQ shared by the session."""
    if problem := activemq_missing():
        missing(problem)
    broker = ActiveMQ(tmp_path_factory.mktemp("activemq"))
    broker.start()
    yield broker
    broker.destroy()


@pytest.fixture
def private_activemq(tmp_path: Path) -> Iterator[ActiveMQ]:
    """A private ActiveMQ the test may stop, kill and restart."""
    if problem := activemq_missing():
        missing(problem)
    broker = ActiveMQ(tmp_path / "activemq")
    broker.start()
    yield broker
    broker.destroy()
