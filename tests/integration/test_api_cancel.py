"""PATCH /rida/module-builds/N {"state": "failed"}: cancel a build."""

from __future__ import annotations

import json

import pytest
import pytest_twisted
import treq

from tests.integration.support import GitWorld, RunningDaemon, json_of, modulemd_text

JSON = {b"Content-Type": [b"application/json"]}


async def submit(daemon: RunningDaemon, git_world: GitWorld) -> dict:
    git_world.module("demo", modulemd_text())
    response = await treq.post(
        daemon.url("/rida/module-builds/"),
        data=json.dumps({"scmurl": git_world.scmurl("demo")}).encode(),
        headers=JSON,
    )
    body = await json_of(response)
    assert response.code == 201, body
    return body


async def patch(daemon: RunningDaemon, module_build_id: int, body: object):
    return await treq.request(
        "PATCH",
        daemon.url(f"/rida/module-builds/{module_build_id}"),
        data=json.dumps(body).encode(),
        headers=JSON,
    )


@pytest_twisted.ensureDeferred
async def test_cancel_fails_the_build_and_answers_it(
    daemon: RunningDaemon, git_world: GitWorld, pool
) -> None:
    """Cancelling a build in init answers 200 with it failed, "Canceled by"."""
    build = await submit(daemon, git_world)
    response = await patch(daemon, build["id"], {"state": "failed"})
    body = await json_of(response)
    assert response.code == 200, body
    assert body["state"] == "failed"
    assert body["state_reason"] == "Canceled by <anonymous>"
    assert body["time_completed"] is not None
    messages = await pool.run_query(
        "SELECT body FROM outbox WHERE module_build_id = %s ORDER BY id", (build["id"],)
    )
    assert [m["body"]["state"] for m in messages] == ["init", "failed"]
    assert messages[-1]["body"]["old_state"] == "init"


@pytest_twisted.ensureDeferred
async def test_cancel_of_a_finished_build_is_400(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """A build that already failed cannot be cancelled: 400."""
    build = await submit(daemon, git_world)
    first = await patch(daemon, build["id"], {"state": "failed"})
    await first.content()
    second = await patch(daemon, build["id"], {"state": "failed"})
    body = await json_of(second)
    assert second.code == 400
    assert "failed" in body["message"]


@pytest.mark.parametrize(
    "body", [{"state": "ready"}, {"state": 4}, {"colour": "red"}, {}]
)
@pytest_twisted.ensureDeferred
async def test_cancel_with_another_change_is_400(
    daemon: RunningDaemon, git_world: GitWorld, body: dict
) -> None:
    """Anything but {"state": "failed"} is a 400."""
    build = await submit(daemon, git_world)
    response = await patch(daemon, build["id"], body)
    assert response.code == 400
    await response.content()


@pytest_twisted.ensureDeferred
async def test_cancel_of_unknown_build_is_404(daemon: RunningDaemon) -> None:
    """Cancelling a build that does not exist is a 404."""
    response = await patch(daemon, 4242, {"state": "failed"})
    assert response.code == 404
    await response.content()
