"""Component reuse across a crash of a real ``twistd`` process: ridad is
SIGKILLed after it recorded reused components, just before Koji tags their
NVRs (the hub never sees that tagging) or just after (Koji tagged them, the
answer is lost). Started again it tags what is missing ("already tagged"
counts as tagged), finishes the build, and builds no reused component in
Koji."""

from __future__ import annotations

import json
import os
import signal
import xmlrpc.client
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.web.server import Site

from ridad.kojisim.hub import KojiHub
from ridad.kojisim.resource import hub_root
from tests.integration.kojiworld import KojiWorld, xmlrpc_calls
from tests.integration.processes import Processes, RidadProcess
from tests.integration.reuse_world import (
    CHANGED,
    REUSED,
    SIX,
    build_tasks,
    by_name,
    commit_module,
    last_task_id,
)
from tests.integration.support import GitWorld, daemon_config, koji_config
from tests.integration.test_crash import is_ready, wait_for_build

pytestmark = [pytest.mark.integration, pytest.mark.slow]

JSON = {b"Content-Type": [b"application/json"]}
HARMLESS = xmlrpc.client.dumps((), "getLastEvent").encode()


class KillOnTagging:
    """A front of the kojisim hub that, once armed, SIGKILLs a process when
    a request tags a given NVR into a given tag: before the hub sees it
    (``before``) or after the hub tagged it, before the answer is sent."""

    def __init__(self, hub: KojiHub) -> None:
        self._hub = hub
        self._armed: tuple[str, str, RidadProcess, bool] | None = None
        self.killed: RidadProcess | None = None

    def arm(self, tag: str, nvr: str, process: RidadProcess, *, before: bool) -> None:
        """Kill ``process`` at the next tagging of ``nvr`` into ``tag``."""
        self._armed = (tag, nvr, process, before)

    def answer(self, method: bytes, body: bytes, info: Any, content_type: str) -> Any:
        """The hub's reply, with the kill before or after it when armed."""
        armed = self._armed
        if armed is None or content_type == "application/octet-stream":
            return self._hub.answer(method, body, info, content_type)
        tag, nvr, process, before = armed
        if (tag, nvr) not in _taggings(body):
            return self._hub.answer(method, body, info, content_type)
        self._armed = None
        self.killed = process
        if before:
            os.kill(process.pid, signal.SIGKILL)
            return self._hub.answer(method, HARMLESS, info, content_type)
        reply = self._hub.answer(method, body, info, content_type)
        os.kill(process.pid, signal.SIGKILL)
        return reply

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hub, name)


def _taggings(body: bytes) -> set[tuple[str, str]]:
    """The ``(tag, nvr)`` of the ``tagBuildBypass`` calls of a request."""
    return {
        (str(params[0]), str(params[1]))
        for method, params in xmlrpc_calls(body)
        if method == "tagBuildBypass"
    }


@pytest_twisted.async_yield_fixture
async def kill_on_tagging(
    koji_world: KojiWorld,
) -> AsyncIterator[tuple[KillOnTagging, str]]:
    """The test's kojisim behind a :class:`KillOnTagging` front, and its URL."""
    front = KillOnTagging(koji_world.hub)
    port = reactor.listenTCP(0, Site(hub_root(front)), interface="127.0.0.1")
    yield front, f"http://127.0.0.1:{port.getHost().port}/kojihub"
    await port.stopListening()


async def submit(process: RidadProcess, git_world: GitWorld) -> int:
    response = await process.http.post(
        process.url("/rida/module-builds/"),
        data=json.dumps({"scmurl": git_world.scmurl("demo")}).encode(),
        headers=JSON,
        timeout=30,
    )
    body = await response.json()
    assert response.code == 201, body
    return int(body["id"])


def rows(dsn: str, module_build_id: int) -> dict[str, tuple[str, bool, Any]]:
    """Each component's state, ``tagged`` and ``reused_component_id``."""
    conn = psycopg2.connect(dsn, connect_timeout=5)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(
                "SELECT name, state, tagged, reused_component_id"
                " FROM component_builds WHERE module_build_id = %s",
                (module_build_id,),
            )
            found = cursor.fetchall()
    finally:
        conn.close()
    return {name: (state, tagged, reused) for name, state, tagged, reused in found}


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("before", [True, False], ids=["before-tagging", "after"])
async def test_reuse_recorded_then_killed_around_tagging_finishes_once(
    before: bool,
    database_dsn: str,
    git_world: GitWorld,
    koji_world: KojiWorld,
    kill_on_tagging: tuple[KillOnTagging, str],
    processes: Processes,
    tmp_path: Path,
) -> None:
    """Killed with the reuse of batch 2 recorded (complete, untagged),
    before or after Koji tagged the reused NVRs, ridad started again tags
    them, finishes the build and builds only the changed component and the
    later batches in Koji, once each."""
    front, hub_url = kill_on_tagging
    config = daemon_config(
        database_dsn, git_world, tmp_path / "state", koji=koji_config(hub_url)
    )
    first = await processes.start("first", config)
    for name in SIX:
        git_world.rpm(name)
    commit_module(git_world, 2030)
    old_id = await submit(first, git_world)
    old = await wait_for_build(first, old_id, is_ready, "first ready", 180)
    old_nvr = by_name(old)["ant"]["nvr"]

    tasks_before = last_task_id(koji_world.hub)
    git_world.rpm(CHANGED)
    commit_module(git_world, 2031)
    new_id = await submit(first, git_world)
    tag = f"module-demo-main-4020310101000000-{old['context']}-build"
    front.arm(tag, old_nvr, first, before=before)
    await first.protocol.when_ended().addTimeout(120, reactor)
    assert front.killed is first
    await first.kill()

    recorded = rows(database_dsn, new_id)
    assert recorded["ant"][0] == "complete" and recorded["ant"][2] is not None
    assert recorded["ant"][1] is False, recorded  # recorded, not yet tagged
    in_koji = {b["nvr"] for b in await koji_world.client.call("listTagged", tag)}
    assert (old_nvr in in_koji) is not before, in_koji

    second = await processes.start("second", config)
    done = await wait_for_build(second, new_id, is_ready, "second ready", 180)
    rebuilt = build_tasks(koji_world.hub, after=tasks_before)
    assert set(rebuilt) == {"module-build-macros", "cat", "eel", "fox"}, rebuilt
    assert set(rebuilt.values()) == {1}, rebuilt
    for name in ("ant", "bee", "dog"):
        component = by_name(done)[name]
        assert component["state_reason"] == REUSED, component
        assert component["nvr"] == by_name(old)[name]["nvr"]
    assert all(r[1] for r in rows(database_dsn, new_id).values())
    assert done["koji_tag"] + "-build" == tag
