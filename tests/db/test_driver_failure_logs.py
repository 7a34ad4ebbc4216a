"""Why a component failed: the tail of its Koji task's log, through the driver.

kojisim (in process, fake clock) fails a package the way a broken build
does and leaves its logs in the task's output; the driver fails the
component with Koji's reason and the last 40 lines of the log the fault
names, and the module with a short reason. The component's reason is shown
by both APIs (the Klein apps through StubTreq) and carried by the component
message, published by the outbox relay to a recording publisher. Koji
trouble while the log is read fails the component anyway, without the log.
"""

from __future__ import annotations

import json
from typing import Any

import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import fail
from twisted.internet.error import ConnectionRefusedError

from ridad.db.pool import Pool
from ridad.domain.builds import BuildSnapshot, ComponentBuild
from ridad.domain.states import ComponentState, ModuleState
from ridad.kojisim.build_logs import BUILDROOT_FAILURE, MOCK_FAILURE
from tests.db import test_driver
from tests.db.test_api_handlers import call
from tests.db.test_driver import Rig, platform_build
from tests.db.test_relay import PREFIX, relay_for
from tests.fakes.recording_publisher import RecordingPublisher
from tests.unit.api.support import make_apps
from tests.unit.koji.fakehub import _body_of, _methods_of

world = test_driver.world
rig = test_driver.rig

RIDA = "http://ridad/rida/module-builds/"
MBS = "http://ridad/module-build-service/1/"


async def _failed_module(rig: Rig) -> tuple[BuildSnapshot, ComponentBuild]:
    """Build the module (b set to fail) until it failed; it and component b."""
    module_build_id, _ = await rig.transitions.create_module_build(platform_build())
    done = await rig.cycle_until(module_build_id, ModuleState.READY, ModuleState.FAILED)
    assert done.build.state is ModuleState.FAILED
    b = next(c for c in done.components if c.name == "b")
    assert b.state is ComponentState.FAILED and b.task_id is not None
    return done, b


def _expected(fault: str, log: str, task_id: int, data: bytes) -> str:
    """Koji's fault, the header, and the log's last 40 lines."""
    lines = data.decode().splitlines()[-40:]
    header = f"--- last {len(lines)} lines of {log} (Koji task {task_id}) ---"
    return "\n".join([fault, header, *lines])


@pytest_twisted.ensureDeferred
async def test_failed_component_carries_the_end_of_its_build_log(
    rig: Rig, pool: Pool
) -> None:
    """b's reason is the fault naming build.log, then that log's last 40
    lines (its own 45 lines end with rpmbuild's errors); the module's reason
    is one line."""
    rig.world.sim.fail_packages.add("b")
    done, b = await _failed_module(rig)
    build_log = rig.world.sim.task_output(b.task_id)["build.log"]
    expected = _expected(MOCK_FAILURE, "build.log", b.task_id, build_log)
    assert b.state_reason == expected
    lines = expected.splitlines()
    assert len(lines) == 42
    assert lines[1] == f"--- last 40 lines of build.log (Koji task {b.task_id}) ---"
    assert (lines[-3], lines[-1]) == ("RPM build errors:", "[exit status 1]")
    assert done.build.state_reason == (
        f"Component b failed in Koji task {b.task_id}: {MOCK_FAILURE}"
    )
    await _assert_shown(pool, done, b, expected)
    await _assert_announced(pool, done, b, expected)


async def _assert_shown(
    pool: Pool, done: BuildSnapshot, b: ComponentBuild, expected: str
) -> None:
    """GET /rida/module-builds/N, MBS's module build (its tasks) and MBS's
    component build all show b's whole reason."""
    apps = make_apps(pool, clock=reactor)
    code, body, _ = await call(apps.rida, "GET", f"{RIDA}{done.build.id}")
    assert code == 200
    shown = {c["name"]: c["state_reason"] for c in body["components"]}
    assert shown["b"] == expected
    assert body["state_reason"] == done.build.state_reason
    code, body, _ = await call(apps.mbs, "GET", f"{MBS}module-builds/{done.build.id}")
    assert code == 200
    assert body["tasks"]["rpms"]["b"]["state_reason"] == expected
    code, body, _ = await call(apps.mbs, "GET", f"{MBS}component-builds/{b.id}")
    assert (code, body["state_name"], body["state_reason"]) == (200, "FAILED", expected)


async def _assert_announced(
    pool: Pool, done: BuildSnapshot, b: ComponentBuild, expected: str
) -> None:
    """The relay publishes b's move to failed with the whole reason (valid
    against the schema), and the module's with the short one."""
    publisher = RecordingPublisher(prefix=PREFIX)
    await relay_for(pool, publisher).drain()
    bodies = [
        (m.destination[len(PREFIX) :], json.loads(m.body)) for m in publisher.messages
    ]
    failed = [
        body
        for topic, body in bodies
        if topic == "component.state.change" and body["component"] == "b"
        if body["state"] == "failed"
    ]
    assert [(m["old_state"], m["task_id"], m["state_reason"]) for m in failed] == [
        ("building", b.task_id, expected)
    ]
    module = [
        body
        for topic, body in bodies
        if topic == "module.state.change" and body["state"] == "failed"
    ]
    assert [m["state_reason"] for m in module] == [done.build.state_reason]
    components = {c["name"]: c for c in module[0]["components"]}
    assert components["b"]["state_reason"] == expected


@pytest_twisted.ensureDeferred
async def test_a_buildroot_failure_carries_the_end_of_root_log(rig: Rig) -> None:
    """A buildroot that cannot be installed: the fault names root.log, and
    its 21 lines, the package manager's refusal last, follow."""
    rig.world.sim.fail_buildroot_packages.add("b")
    done, b = await _failed_module(rig)
    root_log = rig.world.sim.task_output(b.task_id)["root.log"]
    assert "build.log" not in rig.world.sim.task_output(b.task_id)
    assert b.state_reason == _expected(
        BUILDROOT_FAILURE, "root.log", b.task_id, root_log
    )
    assert b.state_reason.splitlines()[1] == (
        f"--- last 21 lines of root.log (Koji task {b.task_id}) ---"
    )
    assert done.build.state_reason == (
        f"Component b failed in Koji task {b.task_id}: {BUILDROOT_FAILURE}"
    )


@pytest_twisted.ensureDeferred
async def test_koji_trouble_reading_the_log_fails_the_component_without_it(
    rig: Rig,
) -> None:
    """Koji refuses the connection of the request that looks for the log:
    one attempt, then b fails with Koji's reason alone, in the same cycle,
    and the module fails as before."""
    agent = rig.world.agent
    forward = agent.request
    refused: list[tuple[str, ...]] = []

    def request(method: bytes, uri: bytes, headers: Any = None, body: Any = None):
        methods = _methods_of(_body_of(body))
        if "getTaskChildren" in methods:
            refused.append(methods)
            return fail(ConnectionRefusedError())
        return forward(method, uri, headers, body)

    agent.request = request  # type: ignore[method-assign]
    rig.world.sim.fail_packages.add("b")
    done, b = await _failed_module(rig)
    assert b.state_reason == MOCK_FAILURE
    assert refused == [("getTaskChildren", "listTaskOutput")]
    assert done.build.state_reason == (
        f"Component b failed in Koji task {b.task_id}: {MOCK_FAILURE}"
    )
