"""Koji's bus events against a real ActiveMQ: the events ridad subscribes to
drive its Koji polling, and foreign or malformed ones are dropped. Module
builds run through kojisim, a real PostgreSQL and a real git daemon.

ridad's own bus messages are in test_bus_messages.py.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq
from treq.client import HTTPClient
from twisted.internet import reactor
from twisted.internet.endpoints import clientFromString
from twisted.logger import globalLogPublisher
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.server import Site

from ridad.bus.connection import BusConnection
from ridad.koji.client import KojiClient, PasswordAuth
from ridad.kojisim.hub import KojiHub
from ridad.kojisim.stomp_publisher import StompSink
from ridad.scheduler.events import KojiEventListener
from tests.brokers import ActiveMQ
from tests.helpers import wait_for
from tests.integration.bus_daemons import bus_daemon, messaging, sleep, stop, submit
from tests.integration.kojiworld import USERS, KojiWorld
from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    koji_config,
    wait_for_state,
)

pytestmark = pytest.mark.integration


def listeners_of(daemon: RunningDaemon) -> list[KojiEventListener]:
    """The Koji event listeners of a running daemon's broker connection."""
    bus = daemon.service.getServiceNamed("bus")
    listeners = [subscription.listener for subscription in bus.subscriptions]
    assert all(isinstance(x, KojiEventListener) for x in listeners)
    return list(listeners)


@pytest.fixture
def log_events() -> Any:
    """Every Twisted log event emitted during the test."""
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    yield events
    globalLogPublisher.removeObserver(events.append)


def bus_connection(broker: ActiveMQ) -> BusConnection:
    """A BusConnection to ``broker`` (not started)."""
    return BusConnection(
        endpoint=clientFromString(reactor, broker.endpoint),
        clock=reactor,
        vhost="localhost",
    )


@pytest_twisted.ensureDeferred
async def test_foreign_and_malformed_koji_events_are_dropped(
    database_dsn: str,
    git_world: GitWorld,
    koji_world: KojiWorld,
    activemq: ActiveMQ,
    log_events: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    """Koji events about unknown tasks and malformed ones are counted and
    dropped; the daemon keeps serving and building."""
    events = f"/topic/koji.t{uuid.uuid4().hex[:12]}."
    daemon = await bus_daemon(
        database_dsn,
        git_world,
        tmp_path,
        "ridad",
        koji=koji_config(koji_world.url),
        messaging=messaging(
            activemq, subscriptions=[{"destination": events + ">", "format": "koji"}]
        ),
    )
    publisher = bus_connection(activemq)
    publisher.startService()
    try:
        await wait_for(lambda: daemon_connected(daemon), 30, reactor)
        [listener] = listeners_of(daemon)
        foreign = {
            "attribute": "state",
            "old": "OPEN",
            "new": "CLOSED",
            "info": {"id": 987654321, "method": "build"},
        }
        await publisher.publish(
            events + "task.closed",
            json.dumps(foreign).encode(),
            {"id": "987654321", "new": "CLOSED", "type": "TaskStateChange"},
        )
        await publisher.publish(events + "task.closed", b"\xff{not json", {})
        await publisher.publish(
            events + "task.closed", b'{"info": {"method": "build"}}', {}
        )
        await publisher.publish(
            events + "build.complete", b'{"info": {"id": "x"}, "new": 1}', {}
        )
        await wait_for(lambda: listener.received == 4, 10, reactor)
        assert (listener.matched, listener.dropped) == (0, 3)
        drops = [e for e in log_events if "Dropped a malformed Koji event" in str(e)]
        assert len(drops) == 3
        health = await treq.get(daemon.url("/health"))
        assert health.code == 200
        build_id = await submit(daemon, git_world)
        done = await wait_for_state(daemon, build_id, ("ready", "failed"))
        assert done["state"] == "ready", done
        assert listener.dropped == 3
    finally:
        await publisher.stopService()
        await stop(daemon)


def daemon_connected(daemon: RunningDaemon) -> bool:
    """Whether the daemon's broker connection is up (and subscribed)."""
    return any(
        isinstance(child, BusConnection) and child.connected for child in daemon.service
    )


async def component_latencies(
    pool: Any, koji: Any, module_build_id: int
) -> dict[str, float]:
    """Seconds from each component's Koji task completion to ridad recording it complete."""
    rows = await pool.run_query(
        "SELECT c.name, c.task_id, t.time FROM state_trace t"
        " JOIN component_builds c ON c.id = t.component_build_id"
        " WHERE t.module_build_id = %s AND t.new_state = 'complete' ORDER BY t.id",
        (module_build_id,),
    )
    latencies = {}
    for row in rows:
        info = await koji.call("getTaskInfo", row["task_id"])
        latencies[row["name"]] = round(
            row["time"].timestamp() - info["completion_ts"], 3
        )
    return latencies


async def build_and_time(
    database_dsn: str,
    git_world: GitWorld,
    tmp_path: Path,
    name: str,
    koji_url: str,
    messaging_section: dict[str, Any],
    poll_interval_seconds: float,
    timeout_seconds: float,
) -> tuple[int, float, list[KojiEventListener]]:
    """Build module ``name`` with a ridad polling Koji every
    ``poll_interval_seconds``; return its id, the seconds it took and the
    daemon's Koji event listeners."""
    daemon = await bus_daemon(
        database_dsn,
        git_world,
        tmp_path,
        name,
        koji=koji_config(koji_url, poll_interval_seconds=poll_interval_seconds),
        messaging=messaging_section,
    )
    try:
        await wait_for(lambda: daemon_connected(daemon), 30, reactor)
        await sleep(0.5)  # the first cycle, at once after start, found nothing
        started = reactor.seconds()
        build_id = await submit(daemon, git_world, name)
        done = await wait_for_state(
            daemon, build_id, ("ready", "failed"), timeout_seconds=timeout_seconds
        )
        assert done["state"] == "ready", (done["state_reason"], done)
        return build_id, reactor.seconds() - started, listeners_of(daemon)
    finally:
        await stop(daemon)


@asynccontextmanager
async def kojisim_publishing_events(
    broker: ActiveMQ, events: str
) -> AsyncIterator[tuple[str, KojiClient]]:
    """An in-process kojisim hub that publishes its bus events on ``broker``
    under the prefix ``events``; yields the hub's URL and an admin client."""
    sink_connection = bus_connection(broker)
    sink_connection.startService()
    await wait_for(lambda: sink_connection.connected, 30, reactor)
    sink = StompSink(publisher=sink_connection)
    hub = KojiHub(
        clock=reactor,
        reactor=reactor,
        users=USERS,
        build_seconds=0.3,
        event_sink=sink,
        event_prefix=events,
    )
    port = reactor.listenTCP(0, Site(hub.resource()), interface="127.0.0.1")
    koji_url = f"http://127.0.0.1:{port.getHost().port}/kojihub"
    http_pool = HTTPConnectionPool(reactor, persistent=False)
    koji = KojiClient(
        http=HTTPClient(Agent(reactor, pool=http_pool)),
        hub_url=koji_url,
        clock=reactor,
        auth=PasswordAuth(user="admin", password="admin"),
    )
    try:
        yield koji_url, koji
    finally:
        hub.stop()
        await http_pool.closeCachedConnections()
        await port.stopListening()
        await sink.idle()
        await sink_connection.stopService()


@pytest_twisted.ensureDeferred
async def test_koji_events_trigger_an_immediate_poll(
    database_dsn: str,
    git_world: GitWorld,
    activemq: ActiveMQ,
    tmp_path: Path,
    pool: Any,
) -> None:
    """With a 30 s poll interval, kojisim's bus events alone drive a module to
    ready in far less than one interval per step."""
    events = f"/topic/koji.t{uuid.uuid4().hex[:12]}."
    async with kojisim_publishing_events(activemq, events) as (koji_url, koji):
        await koji.call("createTag", "f40-build", arches="x86_64")
        with_events, event_seconds, [listener] = await build_and_time(
            database_dsn,
            git_world,
            tmp_path,
            "events",
            koji_url,
            messaging(
                activemq,
                subscriptions=[{"destination": events + ">", "format": "koji"}],
            ),
            poll_interval_seconds=30,
            timeout_seconds=25,
        )
        by_events = await component_latencies(pool, koji, with_events)
        polled, poll_seconds, _ = await build_and_time(
            database_dsn,
            git_world,
            tmp_path,
            "polled",
            koji_url,
            messaging(activemq),
            poll_interval_seconds=2,
            timeout_seconds=60,
        )
        by_polling = await component_latencies(pool, koji, polled)
    print(
        f"\nevents (poll 30 s): ready in {event_seconds:.2f} s;"
        f" task completion -> complete: {by_events};"
        f" listener received {listener.received}, matched {listener.matched},"
        f" dropped {listener.dropped}"
        f"\npolling (2 s, no events): ready in {poll_seconds:.2f} s;"
        f" task completion -> complete: {by_polling}"
    )
    assert listener.matched > 0
    assert listener.dropped == 0
    assert set(by_events) == {"module-build-macros", "alpha", "beta", "gamma"}
