"""Gating on Greenwave over the real daemon: a module built through kojisim
is held in done by the Greenwave stand-in (on 127.0.0.1), and released by a
greenwave.decision.update arriving over a real ActiveMQ; a Greenwave that is
down holds it without failing it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.internet.endpoints import clientFromString

from ridad.bus.connection import BusConnection
from ridad.scheduler.events import GreenwaveEventListener
from tests.brokers import ActiveMQ
from tests.fakes.greenwave import CONTEXT, TESTCASE, GreenwaveStandIn
from tests.helpers import wait_for
from tests.integration.bus_daemons import bus_daemon, messaging, stop, submit
from tests.integration.kojiworld import KojiWorld
from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    koji_config,
    wait_for_state,
)

pytestmark = pytest.mark.integration

HELD = (
    "Waiting for Greenwave (rhel-8): Of 1 required test, 1 result missing:"
    f" {TESTCASE} (test-result-missing)"
)
PASSED = (
    "Greenwave policies satisfied (rhel-8): All required tests (1 total) have"
    " passed or been waived"
)


async def gated_daemon(
    database_dsn: str,
    git_world: GitWorld,
    tmp_path: Path,
    koji_world: KojiWorld,
    activemq: ActiveMQ,
    greenwave_url: str,
    destination: str,
) -> RunningDaemon:
    """A ridad gating on ``greenwave_url`` and listening for its decision
    updates on ``destination``; re-checks only once an hour."""
    return await bus_daemon(
        database_dsn,
        git_world,
        tmp_path,
        "ridad",
        koji=koji_config(koji_world.url),
        messaging=messaging(
            activemq,
            subscriptions=[{"destination": destination, "format": "greenwave"}],
        ),
        greenwave={
            "url": greenwave_url,
            "decision_context": CONTEXT,
            "timeout_seconds": 5,
            "recheck_minutes": 60,
        },
    )


def greenwave_listener(daemon: RunningDaemon) -> GreenwaveEventListener:
    """The daemon's one Greenwave decision listener, once it is subscribed."""
    bus = daemon.service.getServiceNamed("bus")
    [subscription] = bus.subscriptions
    assert isinstance(subscription.listener, GreenwaveEventListener)
    return subscription.listener


async def build_of(daemon: RunningDaemon, module_build_id: int) -> dict[str, Any]:
    response = await treq.get(daemon.url(f"/rida/module-builds/{module_build_id}"))
    body: dict[str, Any] = await response.json()
    return body


async def held_with(
    daemon: RunningDaemon, module_build_id: int, prefix: str
) -> dict[str, Any]:
    """Wait until the build is done with a reason starting with ``prefix``."""
    await wait_for_state(daemon, module_build_id, ("done", "ready", "failed"))
    found: dict[str, Any] = {}

    async def held() -> bool:
        found.update(await build_of(daemon, module_build_id))
        return found["state"] != "done" or (found["state_reason"] or "").startswith(
            prefix
        )

    await wait_for(held, 30, reactor, interval_seconds=0.1)
    assert found["state"] == "done", found
    return found


def nvr_of(build: dict[str, Any]) -> str:
    return f"{build['name']}-{build['stream'].replace('-', '_')}-{build['version']}.{build['context']}"


async def publish_update(broker: ActiveMQ, destination: str, subject: str) -> None:
    """Send a decision update about ``subject`` as Greenwave's STOMP publisher does."""
    connection = BusConnection(
        endpoint=clientFromString(reactor, broker.endpoint),
        clock=reactor,
        vhost="localhost",
    )
    connection.startService()
    try:
        await wait_for(lambda: connection.connected, 30, reactor)
        decision = {
            "subject_type": "redhat-module",
            "subject_identifier": subject,
            "product_version": "rhel-8",
            "decision_context": CONTEXT,
            "policies_satisfied": True,
            "summary": "All required tests (1 total) have passed or been waived",
        }
        headers = {
            "subject_type": "redhat-module",
            "subject_identifier": subject,
            "product_version": "rhel-8",
            "decision_context": CONTEXT,
            "policies_satisfied": "true",
        }
        body = json.dumps({"msg": decision, "topic": destination}).encode()
        await connection.publish(destination, body, headers)
    finally:
        await connection.stopService()


@pytest_twisted.ensureDeferred
async def test_held_build_is_released_by_a_decision_update_on_the_bus(
    database_dsn: str,
    git_world: GitWorld,
    koji_world: KojiWorld,
    activemq: ActiveMQ,
    tmp_path: Path,
) -> None:
    """The build stays done with Greenwave's summary; once the test passed
    and Greenwave says so on the bus, it is ready within seconds (the
    periodic re-check is an hour away)."""
    standin = GreenwaveStandIn()
    port = standin.listen(reactor)
    url = f"http://127.0.0.1:{port.getHost().port}"
    destination = (
        f"/topic/VirtualTopic.eng.greenwave.t{uuid.uuid4().hex[:8]}.decision.update"
    )
    daemon = await gated_daemon(
        database_dsn, git_world, tmp_path, koji_world, activemq, url, destination
    )
    try:
        await wait_for(
            lambda: daemon.service.getServiceNamed("bus").connected, 30, reactor
        )
        build_id = await submit(daemon, git_world)
        held = await held_with(daemon, build_id, "Waiting for Greenwave")
        assert held["state_reason"] == HELD
        subject = nvr_of(held)
        assert [d["subject_identifier"] for d in standin.decisions()] == [subject]
        standin.passes(subject)
        await publish_update(activemq, destination, subject)
        ready = await wait_for_state(
            daemon, build_id, ("ready", "failed"), timeout_seconds=30
        )
        assert (ready["state"], ready["state_reason"]) == ("ready", PASSED)
        listener = greenwave_listener(daemon)
        assert (listener.received, listener.matched, listener.dropped) == (1, 1, 0)
        assert len(standin.decisions()) == 2
    finally:
        await stop(daemon)
        await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_greenwave_down_holds_the_build_without_failing_it(
    database_dsn: str,
    git_world: GitWorld,
    koji_world: KojiWorld,
    activemq: ActiveMQ,
    tmp_path: Path,
) -> None:
    """With Greenwave down the build is done, saying Greenwave could not be
    asked, and the daemon keeps serving; Greenwave back, a decision update
    makes it ready."""
    standin = GreenwaveStandIn()
    port = standin.listen(reactor)
    number = port.getHost().port
    await port.stopListening()
    destination = (
        f"/topic/VirtualTopic.eng.greenwave.t{uuid.uuid4().hex[:8]}.decision.update"
    )
    daemon = await gated_daemon(
        database_dsn,
        git_world,
        tmp_path,
        koji_world,
        activemq,
        f"http://127.0.0.1:{number}/api/v1.0",
        destination,
    )
    port = None
    try:
        await wait_for(
            lambda: daemon.service.getServiceNamed("bus").connected, 30, reactor
        )
        build_id = await submit(daemon, git_world)
        held = await held_with(
            daemon, build_id, "Waiting for Greenwave: it could not be asked"
        )
        assert "ConnectionRefusedError" in held["state_reason"]
        health = await treq.get(daemon.url("/health"))
        assert health.code == 200
        port = standin.listen(reactor, number)
        standin.passes(nvr_of(held))
        await publish_update(activemq, destination, nvr_of(held))
        ready = await wait_for_state(
            daemon, build_id, ("ready", "failed"), timeout_seconds=30
        )
        assert (ready["state"], ready["state_reason"]) == ("ready", PASSED)
    finally:
        await stop(daemon)
        if port is not None:
            await port.stopListening()
