"""The daemon and its database: outages give 503s and heal by themselves,
and daemons started together on an empty database do not race."""

from __future__ import annotations

from pathlib import Path

import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.task import deferLater

from ridad.db.pool import Pool
from tests.helpers import PrivateCluster, wait_for
from tests.integration.support import (
    GitWorld,
    daemon_config,
    json_of,
    start_daemon,
)


async def status_of(url: str) -> int:
    response = await treq.get(url)
    await response.content()
    return response.code


@pytest_twisted.ensureDeferred
async def test_database_killed_and_restarted_gives_503_then_recovers(
    killable_postgres: PrivateCluster, git_world: GitWorld, tmp_path: Path
) -> None:
    """While the database is down the API answers 503 in JSON; then it heals."""
    daemon = await start_daemon(
        daemon_config(killable_postgres.dsn, git_world, tmp_path / "state"),
        tmp_path / "ridad.yaml",
    )
    try:
        assert await status_of(daemon.url("/rida/module-builds/")) == 200
        killable_postgres.stop("immediate")
        response = await treq.get(daemon.url("/rida/module-builds/"))
        body = await json_of(response)
        assert response.code == 503, body
        assert body["error"] == "Service Unavailable"
        assert response.headers.getRawHeaders(b"retry-after")
        health = await treq.get(daemon.url("/health"))
        assert health.code == 503
        assert (await json_of(health))["database"] == "unreachable"
        killable_postgres.start()

        async def listing_works() -> bool:
            return await status_of(daemon.url("/rida/module-builds/")) == 200

        await wait_for(listing_works, 60, reactor, interval_seconds=0.2)
        assert await status_of(daemon.url("/health")) == 200
    finally:
        await daemon.service.stopService()


@pytest_twisted.ensureDeferred
async def test_daemon_waits_for_a_database_that_is_not_up_yet(
    killable_postgres: PrivateCluster, git_world: GitWorld, tmp_path: Path
) -> None:
    """A daemon started before its database retries, then opens the API."""
    killable_postgres.stop("fast")
    config = daemon_config(killable_postgres.dsn, git_world, tmp_path / "state")
    starting = Deferred.fromCoroutine(start_daemon(config, tmp_path / "ridad.yaml"))
    await deferLater(reactor, 1.5, lambda: None)  # let it fail a few attempts
    assert not starting.called
    killable_postgres.start()
    daemon = await starting
    try:
        assert await status_of(daemon.url("/health")) == 200
    finally:
        await daemon.service.stopService()


@pytest_twisted.ensureDeferred
async def test_two_daemons_start_on_one_empty_database(
    empty_database_dsn: str, git_world: GitWorld, tmp_path: Path
) -> None:
    """Two daemons starting at once on an empty database both come up; the
    migrations are applied once."""
    starts = [
        start_daemon(
            daemon_config(empty_database_dsn, git_world, tmp_path / f"state{i}"),
            tmp_path / f"ridad{i}.yaml",
        )
        for i in (1, 2)
    ]
    daemons = await gatherResults([Deferred.fromCoroutine(s) for s in starts])
    try:
        for daemon in daemons:
            assert await status_of(daemon.url("/health")) == 200
            assert await status_of(daemon.url("/rida/module-builds/")) == 200
        pool = Pool(dsn=empty_database_dsn, reactor=reactor, size=1)
        await pool.start()
        try:
            rows = await pool.run_query(
                "SELECT version, count(*) AS n FROM schema_migrations GROUP BY version"
            )
        finally:
            await pool.close()
        assert rows and all(r["n"] == 1 for r in rows)
    finally:
        for daemon in daemons:
            await daemon.service.stopService()
