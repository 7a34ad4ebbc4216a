"""``auth.method: none`` (or no auth section on loopback): announced loudly
at start-up, and everybody is ``<anonymous>``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest_twisted
import treq
from twisted.logger import LogLevel, capturedLogs

from tests.integration.support import (
    GitWorld,
    daemon_config,
    json_of,
    modulemd_text,
    start_daemon,
)


@pytest_twisted.ensureDeferred
async def test_daemon_without_auth_warns_and_records_anonymous(
    database_dsn: str, git_world: GitWorld, tmp_path: Path
) -> None:
    """Start-up logs that authentication is off; a submission is owned by <anonymous>."""
    config = daemon_config(database_dsn, git_world, tmp_path / "state")
    with capturedLogs() as events:
        daemon = await start_daemon(config, tmp_path / "ridad.yaml")
    try:
        warnings = [
            e["log_format"]
            for e in events
            if e["log_level"] == LogLevel.warn
            and "AUTHENTICATION IS OFF" in e["log_format"]
        ]
        assert len(warnings) == 1 and "no auth section" in warnings[0]
        git_world.module("demo", modulemd_text())
        response = await treq.post(
            daemon.url("/rida/module-builds/"),
            data=json.dumps({"scmurl": git_world.scmurl("demo")}).encode(),
            headers={b"Content-Type": [b"application/json"]},
        )
        body = await json_of(response)
        assert response.code == 201, body
        assert body["owner"] == "<anonymous>"
    finally:
        await daemon.service.stopService()
