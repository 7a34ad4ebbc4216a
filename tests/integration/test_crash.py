"""ridad killed with SIGKILL in the middle of a module build, as a real
``twistd`` process: started again (or taken over by a standby), it finishes
the build and never submits a component to Koji twice."""

from __future__ import annotations

import json
import os
import signal
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.error import ProcessTerminated
from twisted.web.server import Site

from ridad.kojisim.hub import KojiHub
from ridad.kojisim.resource import hub_root
from tests.integration.kojiworld import KojiWorld, xmlrpc_calls
from tests.integration.processes import Processes, RidadProcess, sleep
from tests.integration.support import (
    GitWorld,
    daemon_config,
    koji_config,
    modulemd_text,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

JSON = {b"Content-Type": [b"application/json"]}
BUILD_SECONDS = 1.5
TAKEOVER_SECONDS = 15


class KillOnBuild:
    """A front of the kojisim hub that, once armed, SIGKILLs a process right
    after the hub accepted a ``build`` of a matching source, before the answer
    is sent: ridad dies between submitting a build and recording its task."""

    def __init__(self, hub: KojiHub) -> None:
        self._hub = hub
        self._armed: tuple[str, RidadProcess] | None = None
        self.killed: RidadProcess | None = None

    def arm(self, package: str, process: RidadProcess) -> None:
        """Kill ``process`` at the next build of ``package``."""
        self._armed = (package, process)

    def answer(self, method: bytes, body: bytes, info: Any, content_type: str) -> Any:
        """The hub's reply, after the kill if this request submits the build."""
        reply = self._hub.answer(method, body, info, content_type)
        if self._armed is not None and content_type != "application/octet-stream":
            package, process = self._armed
            if package in map(package_of, _build_sources(body)):
                self._armed = None
                self.killed = process
                os.kill(process.pid, signal.SIGKILL)
        return reply

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hub, name)


def package_of(source: str) -> str:
    """The package a build source names: ``.../rpms/NAME[.git]?#commit``, or
    an uploaded ``.../NAME-VERSION-RELEASE.src.rpm``."""
    path = source.partition("?")[0].rstrip("/")
    name = path.rsplit("/", 1)[-1].removesuffix(".git")
    if name.endswith(".src.rpm"):
        name = name.rsplit("-", 2)[0]
    return name


def _build_sources(body: bytes) -> list[str]:
    """The sources of the ``build`` calls in an XML-RPC request (multiCall too)."""
    return [
        str(params[0]) for method, params in xmlrpc_calls(body) if method == "build"
    ]


@pytest_twisted.async_yield_fixture
async def kill_on_build(
    koji_world: KojiWorld,
) -> AsyncIterator[tuple[KillOnBuild, str]]:
    """The test's kojisim behind a :class:`KillOnBuild` front, and its hub URL."""
    front = KillOnBuild(koji_world.hub)
    port = reactor.listenTCP(0, Site(hub_root(front)), interface="127.0.0.1")
    yield front, f"http://127.0.0.1:{port.getHost().port}/kojihub"
    await port.stopListening()


def crash_config(
    dsn: str, git_world: GitWorld, tmp_path: Path, hub_url: str
) -> dict[str, Any]:
    """The configuration every ridad process of a test shares."""
    return daemon_config(dsn, git_world, tmp_path / "state", koji=koji_config(hub_url))


async def submit(process: RidadProcess, git_world: GitWorld, text: str) -> int:
    """Commit ``text`` as module ``demo`` and submit it; return the build's id."""
    git_world.module("demo", text)
    response = await process.http.post(
        process.url("/rida/module-builds/"),
        data=json.dumps({"scmurl": git_world.scmurl("demo")}).encode(),
        headers=JSON,
        timeout=30,
    )
    body = await response.json()
    assert response.code == 201, body
    return int(body["id"])


async def wait_for_build(
    process: RidadProcess,
    module_build_id: int,
    condition: Callable[[dict[str, Any]], bool],
    what: str,
    timeout_seconds: float = 60,
) -> dict[str, Any]:
    """Poll ``GET /rida/module-builds/N`` on ``process`` until ``condition``."""
    deadline = reactor.seconds() + timeout_seconds
    while True:
        assert process.running, f"{process.name} exited while waiting for {what}"
        code, body = await process.get_json(f"/rida/module-builds/{module_build_id}")
        assert code == 200, body
        if condition(body):
            return body
        if body.get("state") == "failed" or reactor.seconds() > deadline:
            raise AssertionError(f"no {what}: {body}")
        await sleep(0.1)


def is_building(build: dict[str, Any]) -> bool:
    """Whether some component of the build has a Koji task building."""
    return any(c["state"] == "building" for c in build["components"])


def is_ready(build: dict[str, Any]) -> bool:
    """Whether the build is ready."""
    return bool(build["state"] == "ready")


async def build_tasks_per_source(koji_world: KojiWorld) -> Counter[str]:
    """How many Koji build tasks each source got."""
    tasks = await koji_world.client.call(
        "listTasks", opts={"method": "build", "decode": True}
    )
    return Counter(str(task["request"][0]) for task in tasks)


def component_row(
    dsn: str, module_build_id: int, name: str
) -> tuple[str, bool, int | None]:
    """A component's state, whether its submission intent is recorded, and its task."""
    conn = psycopg2.connect(dsn, connect_timeout=5)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(
                "SELECT state, submitted_at IS NOT NULL, task_id"
                " FROM component_builds WHERE module_build_id = %s AND name = %s",
                (module_build_id, name),
            )
            row = cursor.fetchone()
    finally:
        conn.close()
    assert row is not None
    return row[0], row[1], row[2]


def assert_built_once_and_complete(sources: Counter[str], done: dict[str, Any]) -> None:
    """Every component was built by exactly one Koji task and is complete."""
    assert done["state"] == "ready", done
    names = [c["name"] for c in done["components"]]
    assert names == ["module-build-macros", "alpha", "beta", "gamma"], done
    assert all(c["state"] == "complete" for c in done["components"]), done
    assert len(sources) == 4 and set(sources.values()) == {1}, sources
    packages = Counter(package_of(source) for source in sources)
    assert set(packages.values()) == {1}, sources


@pytest_twisted.ensureDeferred
async def test_kill_9_mid_build_then_restart_finishes_without_duplicate_tasks(
    database_dsn: str,
    git_world: GitWorld,
    koji_world: KojiWorld,
    kill_on_build: tuple[KillOnBuild, str],
    processes: Processes,
    tmp_path: Path,
) -> None:
    """SIGKILLed once while a component builds and once between Koji accepting
    a build and recording its task, ridad started again on the same database
    finishes the module with every component built by exactly one Koji task."""
    front, hub_url = kill_on_build
    koji_world.hub.build_seconds = BUILD_SECONDS
    config = crash_config(database_dsn, git_world, tmp_path, hub_url)

    first = await processes.start("first", config)
    module_build_id = await submit(first, git_world, modulemd_text())
    await wait_for_build(first, module_build_id, is_building, "component building")
    await first.kill()

    second = await processes.start("second", config)
    front.arm("gamma", second)
    await second.protocol.when_ended().addTimeout(30, reactor)
    assert front.killed is second
    await second.kill()
    sources = await build_tasks_per_source(koji_world)
    assert Counter(map(package_of, sources))["gamma"] == 1, sources

    assert component_row(database_dsn, module_build_id, "gamma") == (
        "waiting",
        True,
        None,
    )  # the intent is recorded, the task Koji made is not

    third = await processes.start("third", config)
    done = await wait_for_build(third, module_build_id, is_ready, "ready")
    assert_built_once_and_complete(await build_tasks_per_source(koji_world), done)


@pytest_twisted.ensureDeferred
async def test_two_daemons_one_killed_the_other_finishes(
    database_dsn: str,
    git_world: GitWorld,
    koji_world: KojiWorld,
    processes: Processes,
    tmp_path: Path,
) -> None:
    """Of two ridad processes on one database, the active scheduler is
    SIGKILLed mid-build; the standby takes over within seconds and finishes
    the module without a duplicate Koji task."""
    koji_world.hub.build_seconds = BUILD_SECONDS
    config = crash_config(database_dsn, git_world, tmp_path, koji_world.url)
    pair = [
        await processes.start("a", config),
        await processes.start("b", config),
    ]
    roles: list[str] = []
    for _ in range(100):
        roles = [(await p.get_json("/health"))[1]["scheduler"] for p in pair]
        if sorted(roles) == ["active", "standby"]:
            break
        await sleep(0.1)
    assert sorted(roles) == ["active", "standby"], roles
    active, standby = pair if roles[0] == "active" else pair[::-1]

    module_build_id = await submit(standby, git_world, modulemd_text())
    await wait_for_build(standby, module_build_id, is_building, "component building")
    killed_at = reactor.seconds()
    await active.kill()
    role = "standby"
    while role != "active":
        assert reactor.seconds() - killed_at < TAKEOVER_SECONDS, "no takeover"
        await sleep(0.1)
        role = (await standby.get_json("/health"))[1]["scheduler"]

    done = await wait_for_build(standby, module_build_id, is_ready, "ready")
    assert_built_once_and_complete(await build_tasks_per_source(koji_world), done)


@pytest_twisted.ensureDeferred
async def test_daemon_whose_port_is_taken_stops_instead_of_running_without_api(
    processes: Processes, database_dsn: str, git_world: GitWorld, tmp_path: Path
) -> None:
    """A listen port held by another program stops the daemon with a clear log."""
    import socket

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        config = daemon_config(database_dsn, git_world, tmp_path / "state")
        config["listen"] = f"tcp:{port}:interface=127.0.0.1"
        process = processes._spawn("taken", config, port)
        processes.started.append(process)
        ended = process.protocol.when_ended()
        ended.addTimeout(60, reactor)
        reason = await ended
        assert b"Cannot listen on" in process.log.read_bytes(), process.tail()
        assert isinstance(reason, ProcessTerminated), process.tail()
        assert reason.exitCode == 1
    finally:
        holder.close()
