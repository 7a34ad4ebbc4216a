"""What the bus tests share: a ridad started with a ``messaging`` section for
a real ActiveMQ, the demo module submitted to it, and a stop for daemons."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import treq
from twisted.internet import reactor
from twisted.internet.task import deferLater

from tests.brokers import ActiveMQ
from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    daemon_config,
    json_of,
    modulemd_text,
    start_daemon,
)

JSON = {b"Content-Type": [b"application/json"]}
PREFIX = "/topic/VirtualTopic.eng.rida."


async def sleep(seconds: float) -> None:
    await deferLater(reactor, seconds, lambda: None)


def messaging(broker: ActiveMQ, **overrides: Any) -> dict[str, Any]:
    """The ``messaging`` section for ``broker``."""
    section: dict[str, Any] = {
        "stomp": {"endpoint": broker.endpoint, "heart_beat_ms": 2000},
        "destination_prefix": PREFIX,
        "subscriptions": [],
        "outbox_retention_days": 7,
    }
    section.update(overrides)
    return section


async def bus_daemon(
    database_dsn: str,
    git_world: GitWorld,
    tmp_path: Path,
    name: str,
    **overrides: Any,
) -> RunningDaemon:
    """A ridad started with ``overrides`` (koji, messaging) in its configuration."""
    config = daemon_config(database_dsn, git_world, tmp_path / f"{name}-state")
    config.update(overrides)
    return await start_daemon(config, tmp_path / f"{name}.yaml")


async def stop(*daemons: RunningDaemon | None) -> None:
    for daemon in daemons:
        if daemon is not None and daemon.service.running:
            await daemon.service.stopService()


async def submit(daemon: RunningDaemon, git_world: GitWorld, name: str = "demo") -> int:
    """Commit the demo module (3 components, 2 batches) as ``name``; submit it."""
    git_world.module(name, modulemd_text())
    response = await treq.post(
        daemon.url("/rida/module-builds/"),
        data=json.dumps({"scmurl": git_world.scmurl(name)}).encode(),
        headers=JSON,
    )
    body = await json_of(response)
    assert response.code == 201, body
    return int(body["id"])
