"""ridad's bus messages against a real ActiveMQ: module builds through
in-process kojisim, a real PostgreSQL and a real git daemon, and the test's
own STOMP subscriber on a virtual-topic consumer queue. Every change of a
build is announced once, in trace order, through broker outages and restarts.

Koji's bus events, which ridad listens to, are in test_bus_koji_events.py.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq
from twisted.internet import reactor, threads

from ridad.bus.publisher import validate_body
from tests.brokers import ActiveMQ
from tests.helpers import wait_for
from tests.integration.bus_daemons import (
    PREFIX,
    bus_daemon,
    messaging,
    sleep,
    stop,
    submit,
)
from tests.integration.kojiworld import KojiWorld
from tests.integration.stomp_listener import Received, StompListener
from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    koji_config,
    wait_for_state,
)

pytestmark = pytest.mark.integration

MODULE_STATES = ["init", "wait", "build", "done", "ready"]


def consumer_queue(name: str) -> str:
    """The wildcard subscription to every ridad topic's queue of consumer ``name``."""
    return f"/queue/Consumer.{name}.VirtualTopic.eng.rida.>"


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


async def broker_outage(
    broker: ActiveMQ,
    subscriber: StompListener,
    daemon: RunningDaemon,
    pool: Any,
    build_id: int,
) -> list[dict[str, Any]]:
    """Stop ``broker`` while the build goes on, check the scheduler stays active
    and the build's messages wait in the outbox, then start the broker again
    and wait for ``subscriber`` to reconnect. Return the rows that waited."""
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
    return waiting


async def assert_delivered_in_outbox_order(
    pool: Any, build_id: int, delivered: list[Received], expected: list[str]
) -> None:
    """Every message in ``delivered`` is well formed, each msg_id always with
    the same body; the msg_ids are those ``expected`` (the outbox's), whose
    first deliveries come in outbox order and announce the state trace."""
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
        waiting = await broker_outage(broker, subscriber, daemon, pool, build_id)
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
    await assert_delivered_in_outbox_order(pool, build_id, delivered, expected)
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
