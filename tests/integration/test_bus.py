"""ridad's bus messages and Koji's bus events against a real ActiveMQ: module
builds through in-process kojisim, a real PostgreSQL and a real git daemon,
and the test's own STOMP subscriber on a virtual-topic consumer queue."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq
from treq.client import HTTPClient
from twisted.internet import reactor, threads
from twisted.internet.endpoints import clientFromString
from twisted.internet.task import deferLater
from twisted.logger import globalLogPublisher
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.server import Site

from ridad.bus.connection import BusConnection
from ridad.bus.publisher import validate_body
from ridad.koji.client import KojiClient, PasswordAuth
from ridad.kojisim.hub import KojiHub
from ridad.kojisim.stomp_publisher import StompSink
from ridad.scheduler.events import KojiEventListener
from tests.brokers import ActiveMQ
from tests.helpers import wait_for
from tests.integration.kojiworld import USERS, KojiWorld
from tests.integration.stomp_listener import Received, StompListener
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

pytestmark = pytest.mark.integration

JSON = {b"Content-Type": [b"application/json"]}
PREFIX = "/topic/VirtualTopic.eng.rida."
MODULE_STATES = ["init", "wait", "build", "done", "ready"]


async def sleep(seconds: float) -> None:
    await deferLater(reactor, seconds, lambda: None)


def consumer_queue(name: str) -> str:
    """The wildcard subscription to every ridad topic's queue of consumer ``name``."""
    return f"/queue/Consumer.{name}.VirtualTopic.eng.rida.>"


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


async def outbox(pool: Any, module_build_id: int) -> list[dict[str, Any]]:
    """The outbox rows of one build, in the order they were written."""
    return list(
        await pool.run_query(
            "SELECT msg_id::text AS msg_id, topic, body, sent FROM outbox"
            " WHERE module_build_id = %s ORDER BY id",
            (module_build_id,),
        )
    )


async def trace_sequence(pool: Any, module_build_id: int) -> list[tuple[Any, str]]:
    """The (component, state) changes of the state trace that send a message:
    all but the creation of components."""
    trace = await pool.run_query(
        "SELECT c.name AS component, t.new_state AS state, t.old_state"
        " FROM state_trace t LEFT JOIN component_builds c"
        " ON c.id = t.component_build_id WHERE t.module_build_id = %s ORDER BY t.id",
        (module_build_id,),
    )
    return [
        (t["component"], t["state"])
        for t in trace
        if not (t["component"] is not None and t["old_state"] is None)
    ]


def of_build(messages: list[Received], module_build_id: int) -> list[Received]:
    """The messages about one module build."""
    return [
        m
        for m in messages
        if m.json().get("module_build_id", m.json().get("id")) == module_build_id
    ]


def announced(messages: list[Received]) -> list[tuple[Any, str]]:
    """The (component, state) pairs messages announce (component None: the module)."""
    return [(m.json().get("component"), m.json()["state"]) for m in messages]


def has_module_state(module_build_id: int, state: str) -> Any:
    def check(messages: list[Received]) -> bool:
        return any(
            m.topic == "module.state.change" and m.json()["state"] == state
            for m in of_build(messages, module_build_id)
        )

    return check


def first_deliveries(messages: list[Received]) -> list[Received]:
    """Each msg_id's first delivery, in arrival order."""
    seen: set[str | None] = set()
    firsts = []
    for m in messages:
        if m.msg_id not in seen:
            seen.add(m.msg_id)
            firsts.append(m)
    return firsts


def assert_well_formed(message: Received) -> None:
    """Body valid for its topic; headers as the README promises."""
    body = message.json()
    validate_body(message.topic, body)
    assert message.msg_id == body["msg_id"], message.headers
    assert message.headers.get("content-type") == "application/json"
    assert message.headers.get("persistent") == "true"
    assert message.headers.get("original-destination") == PREFIX + message.topic


@pytest_twisted.async_yield_fixture
async def listeners() -> AsyncIterator[list[StompListener]]:
    """Subscribers the test starts; stopped after it."""
    started: list[StompListener] = []
    yield started
    for listener in started:
        await listener.stop()


async def listen(
    started: list[StompListener], broker: ActiveMQ, *destinations: str
) -> StompListener:
    listener = StompListener(broker.endpoint, destinations)
    started.append(listener)
    return await listener.start()


@pytest_twisted.ensureDeferred
async def test_subscriber_sees_every_transition_of_a_build_in_trace_order(
    database_dsn: str,
    git_world: GitWorld,
    koji_world: KojiWorld,
    activemq: ActiveMQ,
    listeners: list[StompListener],
    tmp_path: Path,
    pool: Any,
) -> None:
    """A consumer-queue subscriber gets one valid message per change of a build,
    in the order of its state trace."""
    subscriber = await listen(listeners, activemq, consumer_queue(uuid.uuid4().hex))
    daemon = await bus_daemon(
        database_dsn,
        git_world,
        tmp_path,
        "ridad",
        koji=koji_config(koji_world.url),
        messaging=messaging(activemq),
    )
    try:
        build_id = await submit(daemon, git_world)
        done = await wait_for_state(daemon, build_id, ("ready", "failed"))
        assert done["state"] == "ready", done
        await subscriber.wait_until(has_module_state(build_id, "ready"))
        await sleep(0.5)
    finally:
        await stop(daemon)
    rows = await outbox(pool, build_id)
    delivered = of_build(subscriber.messages, build_id)
    for message in delivered:
        assert_well_formed(message)
    counts = Counter(m.msg_id for m in delivered)
    assert all(n == 1 for n in counts.values()), counts
    assert [m.msg_id for m in delivered] == [r["msg_id"] for r in rows]
    sequence = announced(delivered)
    assert sequence == await trace_sequence(pool, build_id)
    assert [s for c, s in sequence if c is None] == MODULE_STATES
    assert {c for c, _ in sequence} == {
        None,
        "module-build-macros",
        "alpha",
        "beta",
        "gamma",
    }


@pytest_twisted.ensureDeferred
async def test_broker_outage_mid_build_loses_nothing(
    database_dsn: str,
    git_world: GitWorld,
    koji_world: KojiWorld,
    private_activemq: ActiveMQ,
    listeners: list[StompListener],
    tmp_path: Path,
    pool: Any,
) -> None:
    """The broker stopped mid-build and started again: every message arrives,
    under its own msg_id, first deliveries in outbox order."""
    broker = private_activemq
    koji_world.hub.build_seconds = 1.5
    subscriber = await listen(listeners, broker, consumer_queue("outage"))
    daemon = await bus_daemon(
        database_dsn,
        git_world,
        tmp_path,
        "ridad",
        koji=koji_config(koji_world.url),
        messaging=messaging(broker),
    )
    try:
        build_id = await submit(daemon, git_world)
        await wait_for_state(daemon, build_id, ("build",))
        await threads.deferToThread(broker.stop)
        await wait_for(lambda: not subscriber.connection.connected, 10, reactor)
        written_before = len(await outbox(pool, build_id))

        async def unsent() -> bool:
            return any(r["sent"] is None for r in await outbox(pool, build_id))

        await wait_for(unsent, 15, reactor)
        await sleep(3)
        health = await (await treq.get(daemon.url("/health"))).json()
        assert health["scheduler"] == "active", health
        during = await outbox(pool, build_id)
        assert len(during) > written_before, "the build stood still"
        waiting = [r for r in during if r["sent"] is None]
        await threads.deferToThread(broker.start)
        await subscriber.wait_connected()
        done = await wait_for_state(daemon, build_id, ("ready", "failed"))
        assert done["state"] == "ready", done
        await subscriber.wait_until(has_module_state(build_id, "ready"), 60)
        await sleep(0.5)
    finally:
        await stop(daemon)
    rows = await outbox(pool, build_id)
    assert all(r["sent"] is not None for r in rows), rows
    expected = [r["msg_id"] for r in rows]
    delivered = of_build(subscriber.messages, build_id)
    for message in delivered:
        assert_well_formed(message)
    bodies: dict[str | None, bytes] = {}
    for message in delivered:
        assert bodies.setdefault(message.msg_id, message.body) == message.body
    assert {m.msg_id for m in delivered} == set(expected)
    assert [m.msg_id for m in first_deliveries(delivered)] == expected
    assert announced(first_deliveries(delivered)) == await trace_sequence(
        pool, build_id
    )
    duplicates = len(delivered) - len(expected)
    print(
        f"\noutage: {len(expected)} messages, {len(waiting)} waited in the outbox,"
        f" {duplicates} delivered again"
    )


@pytest_twisted.ensureDeferred
async def test_unsent_messages_are_sent_after_restart(
    database_dsn: str,
    git_world: GitWorld,
    private_activemq: ActiveMQ,
    listeners: list[StompListener],
    tmp_path: Path,
    pool: Any,
) -> None:
    """A build recorded while the broker is down is announced, under its
    original msg_id, by the next ridad once the broker is back."""
    broker = private_activemq
    await threads.deferToThread(broker.stop)
    first = await bus_daemon(
        database_dsn, git_world, tmp_path, "first", messaging=messaging(broker)
    )
    second = None
    try:
        build_id = await submit(first, git_world)
        await sleep(1.5)
        [row] = await outbox(pool, build_id)
        assert row["sent"] is None
        assert row["body"]["state"] == "init"
        await first.service.stopService()
        await threads.deferToThread(broker.start)
        subscriber = await listen(listeners, broker, consumer_queue("restart"))
        second = await bus_daemon(
            database_dsn, git_world, tmp_path, "second", messaging=messaging(broker)
        )
        await subscriber.wait_until(has_module_state(build_id, "init"))

        async def marked() -> bool:
            return (await outbox(pool, build_id))[0]["sent"] is not None

        await wait_for(marked, 10, reactor)
    finally:
        await stop(first, second)
    [message] = of_build(subscriber.messages, build_id)
    assert_well_formed(message)
    assert message.msg_id == row["msg_id"]
    assert message.json() == row["body"]


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
    sink_connection = bus_connection(activemq)
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
    finally:
        hub.stop()
        await http_pool.closeCachedConnections()
        await port.stopListening()
        await sink.idle()
        await sink_connection.stopService()
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
