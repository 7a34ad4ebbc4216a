"""The STOMP client against a real, private ActiveMQ (Debian's package)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.defer import Deferred, DeferredQueue
from twisted.internet.endpoints import clientFromString, connectProtocol
from twisted.internet.task import deferLater

from ridad.bus.connection import BusConnection
from ridad.bus.framing import Frame
from ridad.bus.protocol import StompProtocol
from ridad.errors import BusUnavailable
from tests.brokers import ActiveMQ, activemq_missing
from tests.helpers import missing, wait_for

pytestmark = pytest.mark.integration

WAIT_SECONDS = 30.0


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


def _need_activemq() -> None:
    problem = activemq_missing()
    if problem is None:
        return
    missing(problem)


def connection_to(broker: ActiveMQ) -> BusConnection:
    """A BusConnection (not started) to ``broker`` with the production backoff."""
    reactor = _reactor()
    return BusConnection(
        endpoint=clientFromString(reactor, broker.endpoint),
        clock=reactor,
        login=None,
        passcode=None,
        vhost="localhost",
        heart_beat_ms=(5000, 5000),
    )


async def started(connection: BusConnection) -> BusConnection:
    """Start ``connection`` and wait until it is connected."""
    connection.startService()
    await wait_for(lambda: connection.connected, WAIT_SECONDS, _reactor())
    return connection


@pytest_twisted.async_yield_fixture
async def bus(activemq: ActiveMQ) -> AsyncIterator[BusConnection]:
    """A connected BusConnection to the session's broker."""
    connection = await started(connection_to(activemq))
    yield connection
    await connection.stopService()


async def open_stomp(
    broker: ActiveMQ, heart_beat_ms: tuple[int, int] = (0, 0)
) -> StompProtocol:
    """A bare StompProtocol connected to ``broker``; the caller disconnects it."""
    reactor = _reactor()
    protocol = await connectProtocol(
        clientFromString(reactor, broker.endpoint), StompProtocol(clock=reactor)
    )
    await protocol.connect(
        login=None, passcode=None, vhost="localhost", heart_beat_ms=heart_beat_ms
    )
    return protocol


async def next_frame(queue: DeferredQueue[Frame]) -> Frame:
    """The next frame a handler put in ``queue``, within WAIT_SECONDS."""
    got: Deferred[Frame] = queue.get()
    got.addTimeout(WAIT_SECONDS, _reactor())
    return await got


def unique(prefix: str) -> str:
    """``prefix`` with a random suffix, so tests sharing a broker do not meet."""
    return f"{prefix}.{uuid.uuid4().hex[:12]}"


HEADERS = {
    "rida-msg-id": "m-1",
    "content-type": "application/json",
    "persistent": "true",
}
BODY = b'{"state": "ready"}\x00\n\xff\xfe line two'


@pytest_twisted.ensureDeferred
async def test_published_message_arrives_with_headers_and_body_intact(
    bus: BusConnection, activemq: ActiveMQ
) -> None:
    """A published message reaches a subscriber with our headers and the exact bytes."""
    destination = "/queue/" + unique("rida.test")
    await bus.publish(destination, BODY, HEADERS)
    received: DeferredQueue[Frame] = DeferredQueue()
    consumer = await open_stomp(activemq)
    try:
        await consumer.subscribe(destination, received.put)
        frame = await next_frame(received)
    finally:
        await consumer.disconnect()
    assert frame.body == BODY
    assert frame.header("rida-msg-id") == "m-1"
    assert frame.header("content-type") == "application/json"
    assert frame.header("persistent") == "true"
    assert frame.header("destination") == destination


@pytest_twisted.ensureDeferred
async def test_virtual_topic_message_reaches_the_consumer_queue(
    activemq: ActiveMQ,
) -> None:
    """A persistent send to a virtual topic reaches its Consumer.t queue subscriber."""
    received: DeferredQueue[Frame] = DeferredQueue()
    connection = connection_to(activemq)
    connection.subscribe("/queue/Consumer.t.VirtualTopic.eng.rida.test", received.put)
    await started(connection)
    try:
        await connection.publish("/topic/VirtualTopic.eng.rida.test", BODY, HEADERS)
        frame = await next_frame(received)
    finally:
        await connection.stopService()
    assert frame.body == BODY
    assert frame.header("rida-msg-id") == "m-1"
    assert frame.header("original-destination") == "/topic/VirtualTopic.eng.rida.test"


@pytest_twisted.ensureDeferred
async def test_message_sent_while_the_consumer_is_away_waits_in_its_queue(
    bus: BusConnection, activemq: ActiveMQ
) -> None:
    """The virtual-topic queue keeps a message until its consumer subscribes again."""
    topic = unique("VirtualTopic.eng.rida.away")
    queue = f"/queue/Consumer.away.{topic}"
    first = await open_stomp(activemq)
    await first.subscribe(queue, lambda frame: None)
    await first.disconnect()
    await bus.publish(f"/topic/{topic}", BODY, HEADERS)
    received: DeferredQueue[Frame] = DeferredQueue()
    again = await open_stomp(activemq)
    try:
        await again.subscribe(queue, received.put)
        frame = await next_frame(received)
    finally:
        await again.disconnect()
    assert frame.body == BODY


@pytest_twisted.ensureDeferred
async def test_broker_dropping_the_connection_fails_the_send(
    activemq: ActiveMQ,
) -> None:
    """ActiveMQ drops a connection whose SEND has an ISO timestamp; send() raises."""
    protocol = await open_stomp(activemq)
    with pytest.raises(BusUnavailable, match="lost"):
        await protocol.send(
            "/queue/" + unique("rida.bad"), b"x", {"timestamp": "2026-01-01T00:00:00Z"}
        )
    assert not protocol.ready


@pytest_twisted.ensureDeferred
async def test_credentials_are_checked_and_a_refusal_is_reported(
    tmp_path: Any,
) -> None:
    """Wrong credentials fail publish with the broker's ERROR; right ones connect."""
    _need_activemq()
    broker = ActiveMQ(tmp_path / "activemq", users={"rida": "s3cret:\\x"})
    broker.start()
    reactor = _reactor()
    try:
        wrong = BusConnection(
            endpoint=clientFromString(reactor, broker.endpoint),
            clock=reactor,
            login="rida",
            passcode="wrong",
        )
        wrong.startService()
        try:
            with pytest.raises(BusUnavailable, match="ERROR.*password is invalid"):
                await wrong.publish("/queue/rida.auth", b"x", {})
        finally:
            await wrong.stopService()
        right = BusConnection(
            endpoint=clientFromString(reactor, broker.endpoint),
            clock=reactor,
            login="rida",
            passcode="s3cret:\\x",
        )
        await started(right)
        try:
            await right.publish("/queue/rida.auth", b"x", {})
        finally:
            await right.stopService()
    finally:
        broker.destroy()


@pytest_twisted.ensureDeferred
async def test_heart_beats_keep_an_idle_connection_open(activemq: ActiveMQ) -> None:
    """With 500 ms heart-beats both ways, an idle connection survives 2 s."""
    protocol = await open_stomp(activemq, heart_beat_ms=(500, 500))
    await deferLater(_reactor(), 2.0, lambda: None)
    assert protocol.ready
    await protocol.send("/queue/" + unique("rida.idle"), b"x", {})
    await protocol.disconnect()


@pytest_twisted.ensureDeferred
async def test_publish_fails_fast_while_the_broker_is_down_then_recovers(
    private_activemq: ActiveMQ,
) -> None:
    """Broker stopped: publish raises at once; started again: reconnect, resubscribe, keep data."""
    reactor = _reactor()
    kept, live = "/queue/" + unique("rida.kept"), "/queue/" + unique("rida.live")
    received: DeferredQueue[Frame] = DeferredQueue()
    connection = connection_to(private_activemq)
    connection.subscribe(live, received.put)
    await started(connection)
    try:
        await connection.publish(kept, b"persisted", HEADERS)
        private_activemq.stop()
        await wait_for(lambda: not connection.connected, WAIT_SECONDS, reactor)
        before = reactor.seconds()
        with pytest.raises(BusUnavailable):
            await connection.publish(live, b"lost", HEADERS)
        assert reactor.seconds() - before < 1.0

        private_activemq.start()
        await wait_for(lambda: connection.connected, WAIT_SECONDS, reactor)
        await connection.publish(live, b"after restart", HEADERS)
        assert (await next_frame(received)).body == b"after restart"
        connection.subscribe(kept, received.put)
        assert (await next_frame(received)).body == b"persisted"
    finally:
        await connection.stopService()
