"""Tests for L{ridad.bus.connection.BusConnection} over a fake endpoint and a Clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import (
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
)
from twisted.internet.interfaces import (
    IProtocol,
    IProtocolFactory,
    IStreamClientEndpoint,
)
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import LogLevel, capturedLogs
from twisted.python.failure import Failure
from zope.interface import implementer

from ridad.bus.connection import BusConnection
from ridad.bus.framing import Frame, FrameParser, encode_frame
from ridad.errors import BusUnavailable
from tests.helpers import failure_of, result_of

RETRY_SECONDS = 2.0


@dataclass
class Link:
    """One TCP connection the fake endpoint made: our protocol and its transport."""

    protocol: IProtocol
    transport: StringTransport
    parser: FrameParser = field(default_factory=FrameParser)

    def frames(self) -> list[Frame]:
        """The frames the client wrote since the last call."""
        data = self.transport.value()
        self.transport.clear()
        return self.parser.feed(data)

    def say(self, command: str, *headers: tuple[str, str]) -> None:
        """Send the client a frame, as the reactor would deliver it."""
        self.protocol.dataReceived(encode_frame(Frame(command, headers), version="1.2"))

    def accept(self) -> None:
        """Answer the CONNECT that must have been written."""
        [frame] = self.frames()
        assert frame.command == "CONNECT"
        self.say("CONNECTED", ("version", "1.2"), ("heart-beat", "0,0"))
        self.parser.set_version("1.2")

    def confirm(self, command: str) -> Frame:
        """Answer the one frame written, which must be ``command``, with its RECEIPT."""
        [frame] = self.frames()
        assert frame.command == command
        self.say("RECEIPT", ("receipt-id", frame.header("receipt") or ""))
        return frame

    def drop(self) -> None:
        """Deliver the end of the connection, as the reactor would."""
        self.protocol.connectionLost(Failure(ConnectionLost("reset")))


@implementer(IStreamClientEndpoint)
class FakeEndpoint:
    """Connects to StringTransports, or refuses while ``refusing``."""

    def __init__(self) -> None:
        self.links: list[Link] = []
        self.refusing = False

    def connect(self, factory: IProtocolFactory) -> Deferred[Any]:
        """Build the protocol and connect it to a new StringTransport."""
        if self.refusing:
            return fail(ConnectionRefusedError("refused"))
        protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 61613))
        transport = StringTransport()
        protocol.makeConnection(transport)
        self.links.append(Link(protocol, transport))
        return succeed(protocol)


@dataclass
class Setup:
    """A BusConnection on a fake endpoint and a Clock."""

    bus: BusConnection
    endpoint: FakeEndpoint
    clock: Clock

    @property
    def link(self) -> Link:
        """The latest connection."""
        return self.endpoint.links[-1]


def make_bus() -> Setup:
    """A BusConnection (not started) retrying every RETRY_SECONDS."""
    clock, endpoint = Clock(), FakeEndpoint()
    bus = BusConnection(
        endpoint=endpoint,
        clock=clock,
        login="u",
        passcode="p",
        vhost="/",
        heart_beat_ms=(0, 0),
        receipt_timeout_seconds=5.0,
        retry_policy=lambda attempt: RETRY_SECONDS,
    )
    return Setup(bus, endpoint, clock)


def running_bus() -> Setup:
    """A started BusConnection whose first connection is up."""
    setup = make_bus()
    setup.bus.startService()
    setup.link.accept()
    assert setup.bus.connected
    return setup


def publish(bus: BusConnection) -> Deferred[None]:
    """Start publishing a small message to /topic/t."""
    return Deferred.fromCoroutine(bus.publish("/topic/t", b"{}", {"rida-msg-id": "m1"}))


def stop(setup: Setup) -> None:
    """Stop the service, confirming DISCONNECT if connected; no timers may remain."""
    stopping = setup.bus.stopService()
    if setup.bus.connected:
        setup.link.confirm("DISCONNECT")
        assert setup.link.transport.disconnecting
        setup.link.protocol.connectionLost(Failure(ConnectionDone()))
    assert result_of(stopping) is None
    assert setup.clock.getDelayedCalls() == []


def test_start_connects_and_logs_the_attempt() -> None:
    """Starting connects, sends CONNECT with our credentials, and logs success at info."""
    setup = make_bus()
    with capturedLogs() as events:
        setup.bus.startService()
        [connect] = setup.link.frames()
        assert connect.header("login") == "u"
        assert not setup.bus.connected
        setup.link.say("CONNECTED", ("version", "1.2"))
    assert setup.bus.connected
    [event] = [e for e in events if "version" in e]
    assert (event["log_level"], event["attempt"]) == (LogLevel.info, 1)
    assert "duration_seconds" in event
    stop(setup)


def test_publish_returns_after_the_receipt() -> None:
    """publish() sends SEND with the headers given and waits for the RECEIPT."""
    setup = running_bus()
    d = publish(setup.bus)
    assert not d.called
    frame = setup.link.confirm("SEND")
    assert frame.header("rida-msg-id") == "m1"
    assert result_of(d) is None
    stop(setup)


def test_publish_during_the_first_attempt_waits_for_it() -> None:
    """A publish before the first connection completes goes out once it is up."""
    setup = make_bus()
    setup.bus.startService()
    d = publish(setup.bus)
    setup.link.accept()
    assert setup.link.frames() == []
    setup.clock.advance(0)
    setup.link.confirm("SEND")
    assert result_of(d) is None
    stop(setup)


def test_publish_fails_when_the_first_attempt_fails() -> None:
    """A publish waiting for the first connection fails with it, not at the next retry."""
    setup = make_bus()
    setup.bus.startService()
    d = publish(setup.bus)
    with capturedLogs() as events:
        setup.link.say("ERROR", ("message", "bad credentials"))
    assert not d.called
    setup.clock.advance(0)
    assert "bad credentials" in failure_of(d, BusUnavailable).value.message
    assert any(
        e.get("attempt") == 1 and e["log_level"] == LogLevel.warn for e in events
    )
    stop(setup)


def test_publish_while_the_broker_is_down_fails_at_once() -> None:
    """With the broker unreachable, publish raises at once instead of waiting."""
    setup = make_bus()
    setup.endpoint.refusing = True
    with capturedLogs():
        setup.bus.startService()
    failure_of(publish(setup.bus), BusUnavailable)
    stop(setup)


def test_lost_connection_fails_publish_at_once_then_reconnects_and_resubscribes() -> (
    None
):
    """After a loss, publish fails fast; the retry reconnects and subscribes again."""
    setup = make_bus()
    sub_id = setup.bus.subscribe("/queue/q", lambda frame: None, headers={"x": "1"})
    setup.bus.startService()
    setup.link.accept()
    first = setup.link.confirm("SUBSCRIBE")
    assert (first.header("id"), first.header("x")) == (sub_id, "1")
    with capturedLogs() as events:
        setup.link.drop()
    assert any(e["log_level"] == LogLevel.warn for e in events)
    assert not setup.bus.connected
    failure_of(publish(setup.bus), BusUnavailable)
    setup.clock.advance(RETRY_SECONDS)
    assert len(setup.endpoint.links) == 2
    setup.link.accept()
    assert not setup.bus.connected
    again = setup.link.confirm("SUBSCRIBE")
    assert again.headers == first.headers[:-1] + (
        ("receipt", again.header("receipt") or ""),
    )
    assert setup.bus.connected
    stop(setup)


def test_subscribe_while_connected_subscribes_at_once() -> None:
    """A subscription added to a live connection is sent right away, and delivered to."""
    setup = running_bus()
    seen: list[bytes] = []
    sub_id = setup.bus.subscribe("/queue/q", lambda frame: seen.append(frame.body))
    setup.link.confirm("SUBSCRIBE")
    setup.link.protocol.dataReceived(
        encode_frame(
            Frame("MESSAGE", (("subscription", sub_id), ("ack", "a1")), b"hi"),
            version="1.2",
        )
    )
    assert seen == [b"hi"]
    assert setup.link.frames() == [Frame("ACK", (("id", "a1"),))]
    stop(setup)


def test_failed_handshake_closes_the_connection_and_retries() -> None:
    """ERROR on CONNECT closes; the loss does not upset ClientService; a retry follows."""
    setup = make_bus()
    setup.bus.startService()
    with capturedLogs():
        setup.link.say("ERROR", ("message", "nope"))
        assert setup.link.transport.disconnecting
        setup.link.protocol.connectionLost(Failure(ConnectionDone()))
        setup.clock.advance(RETRY_SECONDS)
    assert len(setup.endpoint.links) == 2
    setup.link.accept()
    assert setup.bus.connected
    stop(setup)


def test_connection_lost_during_handshake_is_retried() -> None:
    """A connection that dies before CONNECTED is one failed attempt."""
    setup = make_bus()
    setup.bus.startService()
    with capturedLogs() as events:
        setup.link.drop()
    assert [e["attempt"] for e in events if "attempt" in e and "reason" in e] == [1]
    setup.clock.advance(RETRY_SECONDS)
    setup.link.accept()
    assert setup.bus.connected
    stop(setup)


def test_stop_during_handshake_aborts_the_connection() -> None:
    """Stopping before CONNECTED aborts the connection and leaves no timers."""
    setup = make_bus()
    setup.bus.startService()
    stopping = setup.bus.stopService()
    assert setup.link.transport.disconnected
    setup.link.protocol.connectionLost(Failure(ConnectionDone()))
    assert result_of(stopping) is None
    assert setup.clock.getDelayedCalls() == []


def test_stop_while_waiting_to_retry_cancels_the_retry() -> None:
    """Stopping between attempts cancels the pending retry."""
    setup = make_bus()
    setup.endpoint.refusing = True
    with capturedLogs():
        setup.bus.startService()
    assert setup.clock.getDelayedCalls()
    stop(setup)


def test_caller_may_stop_the_service_when_a_waiting_publish_fails() -> None:
    """A publish that waited for the first attempt resumes outside ClientService's machine."""
    setup = make_bus()
    setup.bus.startService()
    d = publish(setup.bus)
    stopped: list[Deferred[None]] = []
    d.addErrback(lambda f: stopped.append(setup.bus.stopService()))
    with capturedLogs():
        setup.link.drop()
        setup.clock.advance(0)
    assert len(stopped) == 1
    assert result_of(stopped[0]) is None
    assert setup.clock.getDelayedCalls() == []


def test_stop_says_disconnect_and_publish_afterwards_fails() -> None:
    """A stopped connection said DISCONNECT and refuses to publish."""
    setup = running_bus()
    with capturedLogs() as events:
        stop(setup)
    assert any(e["log_level"] == LogLevel.info for e in events)
    failure_of(publish(setup.bus), BusUnavailable)
