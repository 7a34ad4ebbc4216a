"""Module builds from submission to ready through kojisim over HTTP on
loopback, with real PostgreSQL and a real git daemon."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.task import deferLater

from ridad.bus.publisher import validate_body
from tests.integration.kojiworld import KojiWorld
from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    daemon_config,
    json_of,
    koji_config,
    modulemd_text,
    start_daemon,
    wait_for_state,
)

JSON = {b"Content-Type": [b"application/json"]}
THREE_BATCHES = {
    "alpha": {"rationale": "first", "buildorder": 1},
    "beta": {"rationale": "second", "buildorder": 2},
    "gamma": {"rationale": "third", "buildorder": 3},
}


async def submit(daemon: RunningDaemon, git_world: GitWorld, text: str) -> dict:
    git_world.module("demo", text)
    response = await treq.post(
        daemon.url("/rida/module-builds/"),
        data=json.dumps({"scmurl": git_world.scmurl("demo")}).encode(),
        headers=JSON,
    )
    body = await json_of(response)
    assert response.code == 201, body
    return body


async def koji_daemon(
    database_dsn: str,
    git_world: GitWorld,
    koji: KojiWorld,
    tmp_path: Path,
    name: str = "ridad",
    **koji_overrides: Any,
) -> RunningDaemon:
    config = daemon_config(
        database_dsn,
        git_world,
        tmp_path / f"{name}-state",
        koji=koji_config(koji.url, **koji_overrides),
    )
    return await start_daemon(config, tmp_path / f"{name}.yaml")


@pytest_twisted.async_yield_fixture
async def koji_built(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld, tmp_path: Path
) -> AsyncIterator[RunningDaemon]:
    """ridad with a koji section pointing at kojisim."""
    daemon = await koji_daemon(database_dsn, git_world, koji_world, tmp_path)
    yield daemon
    await daemon.service.stopService()


async def sleep(seconds: float) -> None:
    await deferLater(reactor, seconds, lambda: None)


@pytest_twisted.ensureDeferred
async def test_three_batches_reach_ready_with_the_expected_koji_layout(
    koji_built: RunningDaemon,
    git_world: GitWorld,
    koji_world: KojiWorld,
    pool,
    tmp_path: Path,
) -> None:
    """A three-batch module reaches ready; Koji holds its tags, target, groups,
    inheritance and tagged builds. The state_dir ridad made for it is 0750."""
    for name in THREE_BATCHES:
        git_world.rpm(name)
    build = await submit(koji_built, git_world, modulemd_text(THREE_BATCHES))
    done = await wait_for_state(koji_built, build["id"], ("ready", "failed"))
    assert done["state"] == "ready", done
    state_dir = tmp_path / "ridad-state"
    for made in (state_dir, state_dir / "tmp"):
        assert made.stat().st_mode & 0o777 == 0o750, made
    tag = done["koji_tag"]
    assert tag == f"module-demo-main-{done['version']}-{done['context']}"
    assert [c["name"] for c in done["components"]] == [
        "module-build-macros",
        "alpha",
        "beta",
        "gamma",
    ]
    assert [c["batch"] for c in done["components"]] == [1, 2, 3, 4]
    for c in done["components"]:
        assert c["state"] == "complete", c
        assert done["tasks"][f"rpms/{c['name']}"] == f"{c['task_id']}/closed"
        assert f".module+f40+{done['id']}+" in c["nvr"]
    koji = koji_world.client
    target = await koji.call("getBuildTarget", tag)
    assert (target["build_tag_name"], target["dest_tag_name"]) == (f"{tag}-build", tag)
    parents = await koji.call("getInheritanceData", f"{tag}-build")
    assert [p["name"] for p in parents] == ["f40-build"]
    groups = {
        g["name"]: {p["package"] for p in g["packagelist"]}
        for g in await koji.call("getTagGroups", f"{tag}-build", inherit=False)
    }
    assert groups["build"] >= {"bash", "rpm-build", "module-build-macros"}
    assert groups["srpm-build"] >= {"bash", "module-build-macros"}
    tagged = {b["name"] for b in await koji.call("listTagged", tag)}
    assert tagged == {"alpha", "beta", "gamma"}
    build_tagged = {b["name"] for b in await koji.call("listTagged", f"{tag}-build")}
    assert build_tagged == {"module-build-macros", "alpha", "beta", "gamma"}
    tag_info = await koji.call("getTag", f"{tag}-build")
    assert tag_info["extra"]["rpm.macro.dist"].startswith(f".module+f40+{done['id']}+")
    await assert_messages_follow_the_trace(pool, done["id"])


async def assert_messages_follow_the_trace(pool, module_build_id: int) -> None:
    """Every change after creation has one message, in trace order, valid."""
    messages = await pool.run_query(
        "SELECT topic, body FROM outbox WHERE module_build_id = %s ORDER BY id",
        (module_build_id,),
    )
    for message in messages:
        validate_body(message["topic"], message["body"])
    announced = [(m["body"].get("component"), m["body"]["state"]) for m in messages]
    trace = await pool.run_query(
        "SELECT c.name AS component, t.new_state AS state, t.old_state"
        " FROM state_trace t LEFT JOIN component_builds c"
        " ON c.id = t.component_build_id WHERE t.module_build_id = %s ORDER BY t.id",
        (module_build_id,),
    )
    expected = [
        (t["component"], t["state"])
        for t in trace
        if not (t["component"] is not None and t["old_state"] is None)
    ]
    assert announced == expected
    assert [s for c, s in announced if c is None] == [
        "init",
        "wait",
        "build",
        "done",
        "ready",
    ]


@pytest_twisted.ensureDeferred
async def test_failing_component_fails_the_module_naming_it_and_its_task(
    koji_built: RunningDaemon, git_world: GitWorld, koji_world: KojiWorld, pool
) -> None:
    """A component whose Koji build fails fails the module with its name and
    task; the component's reason goes on with the last 40 lines of its
    build.log, in the API and in its message."""
    koji_world.hub.fail_packages.add("beta")
    build = await submit(koji_built, git_world, modulemd_text())
    done = await wait_for_state(koji_built, build["id"], ("ready", "failed"))
    assert done["state"] == "failed"
    beta = next(c for c in done["components"] if c["name"] == "beta")
    assert beta["state"] == "failed"
    assert "beta" in done["state_reason"]
    assert str(beta["task_id"]) in done["state_reason"]
    assert "\n" not in done["state_reason"]
    build_log = koji_world.hub.task_output(beta["task_id"])["build.log"]
    header = f"--- last 40 lines of build.log (Koji task {beta['task_id']}) ---"
    fault = done["state_reason"].split(": ", 1)[1]
    expected = "\n".join([fault, header, *build_log.decode().splitlines()[-40:]])
    assert beta["state_reason"] == expected
    messages = await pool.run_query(
        "SELECT body FROM outbox WHERE module_build_id = %s"
        " AND topic = 'component.state.change' ORDER BY id",
        (build["id"],),
    )
    failed = [
        m["body"]["state_reason"]
        for m in messages
        if (m["body"]["component"], m["body"]["state"]) == ("beta", "failed")
    ]
    assert failed == [expected]


@pytest_twisted.ensureDeferred
async def test_cancel_cancels_the_open_koji_tasks(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld, tmp_path: Path
) -> None:
    """Cancelling a building module fails it and cancels its Koji tasks."""
    koji_world.hub.build_seconds = 30
    daemon = await koji_daemon(database_dsn, git_world, koji_world, tmp_path)
    try:
        build = await submit(daemon, git_world, modulemd_text())
        await wait_for_state(daemon, build["id"], ("build",))
        while True:
            body = await (
                await treq.get(daemon.url(f"/rida/module-builds/{build['id']}"))
            ).json()
            building = [c for c in body["components"] if c["state"] == "building"]
            if building:
                break
            await sleep(0.2)
        response = await treq.request(
            "PATCH",
            daemon.url(f"/rida/module-builds/{build['id']}"),
            data=b'{"state": "failed"}',
            headers=JSON,
        )
        body = await json_of(response)
        assert response.code == 200
        assert body["state_reason"] == "Canceled by <anonymous>"
        task_id = building[0]["task_id"]
        for _ in range(100):
            info = await koji_world.client.call("getTaskInfo", task_id)
            if info["state"] == 3:  # CANCELED
                break
            await sleep(0.2)
        assert info["state"] == 3
        final = await wait_for_state(daemon, build["id"], ("failed",))
        macros = final["components"][0]
        for _ in range(100):
            final = await (
                await treq.get(daemon.url(f"/rida/module-builds/{build['id']}"))
            ).json()
            macros = final["components"][0]
            if macros["state"] == "canceled":
                break
            await sleep(0.2)
        assert macros["state"] == "canceled"
    finally:
        await daemon.service.stopService()


@pytest_twisted.ensureDeferred
async def test_koji_offline_for_a_while_does_not_fail_the_build(
    koji_built: RunningDaemon, git_world: GitWorld, koji_world: KojiWorld
) -> None:
    """ServerOffline for a few seconds delays the build; it still reaches ready."""
    build = await submit(koji_built, git_world, modulemd_text())
    await wait_for_state(koji_built, build["id"], ("build",))
    koji_world.hub.set_offline("Koji is down for maintenance")
    await sleep(3)
    koji_world.hub.set_offline(None)
    done = await wait_for_state(koji_built, build["id"], ("ready", "failed"))
    assert done["state"] == "ready", done


@pytest_twisted.ensureDeferred
async def test_daemon_restarted_mid_build_finishes_without_duplicate_tasks(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld, tmp_path: Path
) -> None:
    """Stopped while building and started again, ridad finishes the build and
    never submits a component twice."""
    koji_world.hub.build_seconds = 1
    first = await koji_daemon(database_dsn, git_world, koji_world, tmp_path, "first")
    build = await submit(first, git_world, modulemd_text())
    await wait_for_state(first, build["id"], ("build",))
    await sleep(1.5)
    await first.service.stopService()
    second = await koji_daemon(database_dsn, git_world, koji_world, tmp_path, "second")
    try:
        done = await wait_for_state(second, build["id"], ("ready", "failed"))
        assert done["state"] == "ready", done
    finally:
        await second.service.stopService()
    sources = Counter(
        task["request"][0]
        for task in await koji_world.client.call(
            "listTasks", opts={"method": "build", "decode": True}
        )
    )
    assert sources and all(n == 1 for n in sources.values()), sources


@pytest_twisted.ensureDeferred
async def test_standby_daemon_takes_over_when_the_active_one_stops(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld, tmp_path: Path
) -> None:
    """Two daemons share a database; when the active one stops, the standby
    takes over and finishes the build."""
    a = await koji_daemon(database_dsn, git_world, koji_world, tmp_path, "a")
    b = await koji_daemon(database_dsn, git_world, koji_world, tmp_path, "b")
    try:
        roles: list[str] = []
        for _ in range(50):
            roles = [
                (await (await treq.get(d.url("/health"))).json())["scheduler"]
                for d in (a, b)
            ]
            if sorted(roles) == ["active", "standby"]:
                break
            await sleep(0.2)
        assert sorted(roles) == ["active", "standby"]
        active, standby = (a, b) if roles[0] == "active" else (b, a)
        build = await submit(standby, git_world, modulemd_text())
        await wait_for_state(standby, build["id"], ("build",))
        await active.service.stopService()
        done = await wait_for_state(standby, build["id"], ("ready", "failed"))
        assert done["state"] == "ready", done
        health = await (await treq.get(standby.url("/health"))).json()
        assert health["scheduler"] == "active"
    finally:
        for d in (a, b):
            if d.service.running:
                await d.service.stopService()


pytestmark = pytest.mark.integration


@pytest_twisted.ensureDeferred
async def test_resubmitted_failed_build_rebuilds_only_what_did_not_complete(
    koji_built: RunningDaemon, git_world: GitWorld, koji_world: KojiWorld
) -> None:
    """A failed build submitted again keeps its id and completed components."""
    koji_world.hub.fail_packages.add("gamma")
    build = await submit(koji_built, git_world, modulemd_text())
    failed = await wait_for_state(koji_built, build["id"], ("ready", "failed"))
    assert failed["state"] == "failed"
    before = {c["name"]: c for c in failed["components"]}
    assert before["alpha"]["state"] == "complete"
    koji_world.hub.fail_packages.discard("gamma")
    response = await treq.post(
        koji_built.url("/rida/module-builds/"),
        data=json.dumps({"scmurl": git_world.scmurl("demo")}).encode(),
        headers=JSON,
    )
    again = await json_of(response)
    assert response.code == 201, again
    assert again["id"] == build["id"]
    done = await wait_for_state(koji_built, build["id"], ("ready", "failed"))
    assert done["state"] == "ready", done
    after = {c["name"]: c for c in done["components"]}
    for name in ("module-build-macros", "alpha", "beta"):
        assert after[name]["task_id"] == before[name]["task_id"], name
    assert after["gamma"]["task_id"] != before["gamma"]["task_id"]


@pytest_twisted.ensureDeferred
async def test_task_outliving_the_timeout_fails_the_module(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld, tmp_path: Path
) -> None:
    """A task FREE longer than task_timeout_hours fails its module with a reason."""
    koji_world.hub.pause_builder()
    daemon = await koji_daemon(
        database_dsn, git_world, koji_world, tmp_path, task_timeout_hours=0.0005
    )
    try:
        build = await submit(daemon, git_world, modulemd_text())
        done = await wait_for_state(daemon, build["id"], ("ready", "failed"))
        assert done["state"] == "failed"
        assert "more than" in done["state_reason"]
        assert "module-build-macros" in done["state_reason"]
    finally:
        koji_world.hub.resume_builder()
        await daemon.service.stopService()
