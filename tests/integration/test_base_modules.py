"""Base modules as imported builds, through the real daemon (makeService,
real git server, real PostgreSQL): koji.base_module_tags imported before the
API answers and not again on a restart, and import-module over HTTP from an
scmurl of the real git server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest_twisted
import treq
import yaml
from twisted.internet import reactor

from ridad.db.pool import Pool
from tests.integration.kojiworld import KojiWorld
from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    daemon_config,
    json_of,
    koji_config,
    start_daemon,
)

PLATFORM = "/module-build-service/2/module-builds/?name=platform&verbose=true"


def el8() -> str:
    """platform:el8 as an administrator imports it."""
    return yaml.safe_dump(
        {
            "document": "modulemd",
            "version": 2,
            "data": {
                "name": "platform",
                "stream": "el8.2.1",
                "version": 3,
                "summary": "EL 8.2.1",
                "description": "The base.",
                "license": {"module": ["MIT"]},
                "xmd": {"mbs": {"koji_tag": "el8-build", "virtual_streams": ["el8"]}},
                "profiles": {"buildroot": {"rpms": ["bash"]}},
            },
        }
    )


async def import_el8(daemon: RunningDaemon, git_world: GitWorld, pool: Pool) -> None:
    """import-module of platform:el8.2.1 from the git server: 201, MBS's
    message, the stream version and virtual streams recorded."""
    response = await treq.post(
        daemon.url("/module-build-service/2/import-module/"),
        data=json.dumps({"scmurl": git_world.scmurl("platform")}).encode(),
        headers={b"Content-Type": [b"application/json"]},
    )
    answer = await json_of(response)
    assert response.code == 201, answer
    assert answer["messages"] == ["Module platform:el8.2.1:3:00000000 imported"]
    rows = await pool.run_query(
        "SELECT stream_version, virtual_streams, owner FROM module_builds"
        " WHERE stream = 'el8.2.1'"
    )
    assert rows == [
        {
            "stream_version": 80201.0,
            "virtual_streams": ["el8"],
            "owner": "<anonymous>",
        }
    ]


@pytest_twisted.ensureDeferred
async def test_configured_base_modules_are_ready_builds_across_restarts(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld, tmp_path: Path
) -> None:
    """platform:f40 of koji.base_module_tags is a ready build when the API
    first answers; a restart adds no row and no message; import-module then
    records platform:el8.2.1 from the git server's scmurl."""
    git_world.module("platform", el8())
    config = daemon_config(
        database_dsn,
        git_world,
        tmp_path / "state",
        koji=koji_config(koji_world.url),
        auth={"method": "none", "import_allowed_users": ["root"]},
    )
    daemon = await start_daemon(config, tmp_path / "ridad.yaml")
    try:
        body = await json_of(await treq.get(daemon.url(PLATFORM)))
        [platform] = body["items"]
        assert (platform["stream"], platform["version"], platform["context"]) == (
            "f40",
            "0",
            "00000000",
        )
        assert (platform["state_name"], platform["koji_tag"]) == ("ready", "f40-build")
        assert platform["owner"] == "<ridad>"
    finally:
        await daemon.service.stopService()
    pool = Pool(dsn=database_dsn, reactor=reactor)
    await pool.start()
    try:
        before = await pool.run_query("SELECT id, time_modified FROM module_builds")
        messages = await pool.run_query("SELECT count(*) AS n FROM outbox")
        daemon = await start_daemon(config, tmp_path / "ridad.yaml")
        try:
            assert (
                await pool.run_query("SELECT id, time_modified FROM module_builds")
                == before
            )
            assert await pool.run_query("SELECT count(*) AS n FROM outbox") == messages
            await import_el8(daemon, git_world, pool)
        finally:
            await daemon.service.stopService()
    finally:
        await pool.close()
