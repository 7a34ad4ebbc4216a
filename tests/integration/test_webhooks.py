"""Build on push end to end: a GitHub push delivery to a live ridad builds
the pushed commit of a real git repository, is not built twice, is refused
with another secret, and follows a SIGHUP that changes the secret."""

from __future__ import annotations

from typing import Any

import pytest_twisted
import treq
import yaml

from tests.integration.support import (
    WEBHOOK_SECRET,
    GitWorld,
    RunningDaemon,
    json_of,
    modulemd_text,
)
from tests.unit.api.webhook_support import payload, signed

PATH = "/rida/webhooks/github"


async def deliver(
    daemon: RunningDaemon, body: dict[str, Any], key: str, delivery: str
) -> tuple[int, Any]:
    """POST a GitHub push delivery signed with ``key``."""
    headers, raw = signed("github", body, key=key, delivery=delivery)
    response = await treq.post(daemon.url(PATH), data=raw, headers=headers)
    return response.code, await json_of(response)


@pytest_twisted.ensureDeferred
async def test_a_github_push_builds_once_and_follows_a_reloaded_secret(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """A signed push of main builds its commit as the pusher's ridad user;
    the redelivery answers the same build; after a SIGHUP with a new secret
    the old one is refused (401) and the new one builds the next push."""
    commit = git_world.module("demo", modulemd_text(), date="2026-11-27T10:00:00+00:00")
    body = payload("github", commit)
    body["repository"]["clone_url"] = git_world.url("modules/demo.git")
    code, built = await deliver(daemon, body, WEBHOOK_SECRET, "delivery-1")
    assert code == 201, built
    assert built["scmurl"] == f"{git_world.url('modules/demo.git')}?#{commit}"
    assert (built["owner"], built["stream"], built["state"]) == (
        "alice",
        "main",
        "init",
    )
    code, again = await deliver(daemon, body, WEBHOOK_SECRET, "delivery-1")
    assert (code, again["duplicate"], again["ids"]) == (200, True, [built["id"]])

    config = yaml.safe_load(daemon.config_path.read_text())
    config["webhooks"]["github"]["secret"] = "rotated secret"
    daemon.config_path.write_text(yaml.safe_dump(config))
    daemon.service.reload()
    newer = git_world.module(
        "demo",
        modulemd_text(extra={"summary": "Newer"}),
        date="2026-11-27T11:00:00+00:00",
    )
    body["after"] = newer
    code, refused = await deliver(daemon, body, WEBHOOK_SECRET, "delivery-2")
    assert code == 401, refused
    code, rebuilt = await deliver(daemon, body, "rotated secret", "delivery-2")
    assert code == 201, rebuilt
    assert rebuilt["id"] != built["id"]
    listed = await json_of(await treq.get(daemon.url("/rida/module-builds/?name=demo")))
    assert sorted(b["id"] for b in listed) == sorted([built["id"], rebuilt["id"]])
    assert rebuilt["scmurl"].endswith(f"?#{newer}")
