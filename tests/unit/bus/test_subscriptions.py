"""Tests for L{ridad.bus.subscriptions}: what the daemon subscribes to and how
frames reach listeners."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from ridad.bus.connection import BusConnection
from ridad.bus.framing import Frame
from ridad.bus.subscriptions import (
    MessageQueue,
    Registrations,
    Subscription,
)
from tests.helpers import result_of
from tests.unit.bus.test_connection import FakeEndpoint, Link


class Listener:
    """Records the messages it is handed."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict[str, str], bytes]] = []

    def handle(self, destination: str, headers: Mapping[str, str], body: bytes) -> None:
        """Record one message."""
        self.messages.append((destination, dict(headers), body))


def test_subscription_hands_a_frame_to_its_listener() -> None:
    """A MESSAGE frame reaches the listener as destination, headers and body."""
    listener = Listener()
    subscription = Subscription("/topic/koji.>", listener)
    frame = Frame("MESSAGE", (("destination", "/topic/koji.task"), ("a", "1")), b"{}")
    subscription.deliver(frame)
    assert listener.messages == [
        ("/topic/koji.task", {"destination": "/topic/koji.task", "a": "1"}, b"{}")
    ]


def test_registrations_number_subscriptions_in_order_and_check_ack() -> None:
    """Registrations get ids rida-sub-1, -2, ... and refuse an unknown ack mode."""
    registrations = Registrations()
    first = registrations.add("/queue/a", lambda frame: None, ack="auto")
    second = registrations.add("/queue/b", lambda frame: None, ack="client")
    assert (
        [r.subscription_id for r in registrations]
        == [
            first.subscription_id,
            second.subscription_id,
        ]
        == ["rida-sub-1", "rida-sub-2"]
    )
    with pytest.raises(ValueError):
        registrations.add("/queue/c", lambda frame: None, ack="sometimes")
    assert len(registrations) == 2


def test_message_queue_handles_frames_one_at_a_time_and_acks_each() -> None:
    """A second frame waits for the first one's handler; each is then acknowledged."""
    running: list[Deferred[None]] = []
    acked: list[Frame] = []

    def handler(frame: Frame) -> Deferred[None]:
        running.append(Deferred())
        return running[-1]

    queue = MessageQueue(
        destination="/queue/q", handler=handler, ack="client", acknowledge=acked.append
    )
    one, two = Frame("MESSAGE", body=b"1"), Frame("MESSAGE", body=b"2")
    queue.put(one)
    queue.put(two)
    assert len(running) == 1 and acked == []
    running[0].callback(None)
    assert acked == [one] and len(running) == 2
    running[1].callback(None)
    assert acked == [one, two]


def test_connection_subscribes_the_subscriptions_it_was_given() -> None:
    """The subscriptions passed to BusConnection are subscribed on connecting."""
    listener = Listener()
    clock, endpoint = Clock(), FakeEndpoint()
    bus = BusConnection(
        endpoint=endpoint,
        clock=clock,
        heart_beat_ms=(0, 0),
        subscriptions=[Subscription("/topic/koji.>", listener)],
    )
    assert [s.listener for s in bus.subscriptions] == [listener]
    bus.startService()
    link: Link = endpoint.links[-1]
    link.accept()
    subscribe = link.confirm("SUBSCRIBE")
    assert subscribe.header("destination") == "/topic/koji.>"
    assert bus.connected
    link.say(
        "MESSAGE",
        ("subscription", subscribe.header("id") or ""),
        ("destination", "/topic/koji.task"),
        ("message-id", "m-1"),
        ("ack", "a-1"),
    )
    assert [m[0] for m in listener.messages] == ["/topic/koji.task"]
    assert link.frames() == [Frame("ACK", (("id", "a-1"),))]
    stopping = bus.stopService()
    link.confirm("DISCONNECT")
    transport: StringTransport = link.transport
    assert transport.disconnecting
    link.drop()
    assert result_of(stopping) is None
    assert clock.getDelayedCalls() == []
