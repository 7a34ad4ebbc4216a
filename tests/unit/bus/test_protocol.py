"""Tests for L{ridad.bus.protocol.StompProtocol} against a StringTransport and a Clock."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import LogLevel, capturedLogs
from twisted.python.failure import Failure

from ridad.bus.connection import StompFactory
from ridad.bus.framing import Frame, FrameParser, encode_frame
from ridad.bus.protocol import StompProtocol
from ridad.errors import BusUnavailable
from tests.helpers import failure_of, result_of

TIMEOUT = 5.0


@dataclass
class Broker:
    """The far end of a StringTransport: reads our frames and answers them."""

    protocol: StompProtocol
    transport: StringTransport
    clock: Clock
    version: str = "1.2"
    parser: FrameParser = field(default_factory=FrameParser)

    def frames(self) -> list[Frame]:
        """The frames the client wrote since the last call."""
        data = self.transport.value()
        self.transport.clear()
        return self.parser.feed(data)

    def say(self, command: str, *headers: tuple[str, str], body: bytes = b"") -> None:
        """Send the client one frame."""
        frame = Frame(command, headers, body)
        self.protocol.dataReceived(encode_frame(frame, version=self.version))

    def drop(self) -> None:
        """Deliver the connection loss the client asked for (or a crash)."""
        self.protocol.connectionLost(Failure(ConnectionDone("closed")))


def make_broker() -> Broker:
    """A protocol built by the factory, connected to a fresh StringTransport."""
    clock = Clock()
    protocol = StompFactory(clock=clock, receipt_timeout_seconds=TIMEOUT).buildProtocol(
        None
    )
    transport = StringTransport()
    protocol.makeConnection(transport)
    return Broker(protocol, transport, clock)


def connected(
    version: str = "1.2",
    heart_beat: str = "0,0",
    ours: tuple[int, int] = (0, 0),
) -> Broker:
    """A broker whose client finished the handshake on ``version``."""
    broker = make_broker()
    d = Deferred.fromCoroutine(
        broker.protocol.connect(login="u", passcode="p", vhost="/", heart_beat_ms=ours)
    )
    broker.frames()
    broker.say("CONNECTED", ("version", version), ("heart-beat", heart_beat))
    broker.parser.set_version(version)
    broker.version = version
    result_of(d)
    return broker


def send(broker: Broker, body: bytes = b"{}", **headers: str) -> Deferred[None]:
    """Start a send to /topic/t."""
    return Deferred.fromCoroutine(broker.protocol.send("/topic/t", body, headers))


# --- handshake ---------------------------------------------------------------


def test_connect_offers_both_versions_and_completes_on_connected() -> None:
    """CONNECT asks for 1.1 or 1.2 with credentials; CONNECTED completes connect()."""
    broker = make_broker()
    d = Deferred.fromCoroutine(
        broker.protocol.connect(
            login="u", passcode="p", vhost="vh", heart_beat_ms=(1000, 2000)
        )
    )
    [frame] = broker.frames()
    assert frame == Frame(
        "CONNECT",
        (
            ("accept-version", "1.1,1.2"),
            ("host", "vh"),
            ("heart-beat", "1000,2000"),
            ("login", "u"),
            ("passcode", "p"),
        ),
    )
    assert not d.called
    broker.say("CONNECTED", ("version", "1.2"), ("server", "ActiveMQ/5.17.2"))
    assert result_of(d) is None
    assert broker.protocol.version == "1.2"
    assert broker.protocol.ready


def test_stomp_1_1_is_negotiated_and_used_for_escaping() -> None:
    """A 1.1 broker gets 1.1 escaping: a CR in a header value stays raw."""
    broker = connected(version="1.1")
    send(broker, x="a\rb:c")
    assert b"x:a\rb\\cc\n" in broker.transport.value()


def test_connect_error_raises_bus_unavailable_with_the_brokers_message() -> None:
    """ERROR instead of CONNECTED fails connect() with the broker's message."""
    broker = make_broker()
    d = Deferred.fromCoroutine(
        broker.protocol.connect(login="u", passcode="bad", vhost="/")
    )
    broker.say("ERROR", ("message", "User name [u] or password is invalid."))
    failure = failure_of(d, BusUnavailable)
    assert "password is invalid" in failure.value.message
    assert broker.transport.disconnecting


def test_stomp_1_0_broker_is_refused() -> None:
    """A CONNECTED without a version means STOMP 1.0, which we do not speak."""
    broker = make_broker()
    d = Deferred.fromCoroutine(
        broker.protocol.connect(login=None, passcode=None, vhost="/")
    )
    broker.say("CONNECTED", ("session", "1"))
    assert "1.0" in failure_of(d, BusUnavailable).value.message
    assert broker.transport.disconnecting


def test_connect_times_out_and_drops_the_connection() -> None:
    """No CONNECTED within the time limit fails connect() and closes."""
    broker = make_broker()
    d = Deferred.fromCoroutine(
        broker.protocol.connect(login=None, passcode=None, vhost="/")
    )
    broker.clock.advance(TIMEOUT)
    assert "CONNECTED" in failure_of(d, BusUnavailable).value.message
    assert broker.transport.disconnecting
    broker.drop()
    assert broker.clock.getDelayedCalls() == []


# --- send and receipts -------------------------------------------------------------


def test_send_returns_only_when_its_receipt_arrives() -> None:
    """send() writes SEND with our headers and a receipt, and waits for RECEIPT."""
    broker = connected()
    d = send(broker, b'{"a": 1}\x00\n', **{"rida-msg-id": "m1", "content-type": "x/y"})
    [frame] = broker.frames()
    assert frame.command == "SEND"
    assert frame.header("destination") == "/topic/t"
    assert frame.header("rida-msg-id") == "m1"
    assert frame.header("content-type") == "x/y"
    assert frame.header("content-length") == "10"
    assert frame.body == b'{"a": 1}\x00\n'
    assert not d.called
    broker.say("RECEIPT", ("receipt-id", frame.header("receipt") or ""))
    assert result_of(d) is None
    assert broker.clock.getDelayedCalls() == []


def test_each_send_has_its_own_receipt() -> None:
    """Receipts are unique, and each completes only its own send."""
    broker = connected()
    first, second = send(broker), send(broker)
    receipts = [f.header("receipt") for f in broker.frames()]
    assert len(set(receipts)) == 2
    broker.say("RECEIPT", ("receipt-id", receipts[1] or ""))
    assert second.called and not first.called


def test_error_fails_pending_sends_with_the_brokers_message() -> None:
    """ERROR before the receipt fails the send and closes the connection."""
    broker = connected()
    d = send(broker)
    broker.say("ERROR", ("message", "Not allowed"), body=b"java stack trace")
    failure = failure_of(d, BusUnavailable)
    assert "Not allowed" in failure.value.message
    assert failure.value.details["body"] == "java stack trace"
    assert broker.transport.disconnecting


def test_lost_connection_fails_pending_sends() -> None:
    """A connection lost before the receipt fails the send."""
    broker = connected()
    d = send(broker)
    broker.protocol.connectionLost(Failure(ConnectionLost("reset")))
    assert "lost" in failure_of(d, BusUnavailable).value.message
    assert not broker.protocol.ready


def test_missing_receipt_times_out_and_drops_the_connection() -> None:
    """No receipt within the limit fails the send and every other pending one."""
    broker = connected()
    d = send(broker)
    broker.clock.advance(1)
    other = send(broker)
    broker.clock.advance(TIMEOUT - 1)
    assert "RECEIPT" in failure_of(d, BusUnavailable).value.message
    failure_of(other, BusUnavailable)
    assert broker.transport.disconnected


def test_send_before_connect_raises() -> None:
    """A send on a connection without a handshake is refused at once."""
    failure_of(send(make_broker()), BusUnavailable)


def test_send_refuses_headers_it_owns() -> None:
    """Callers cannot set receipt, destination or content-length."""
    failure_of(send(connected(), receipt="mine"), ValueError)


def test_cancelled_send_forgets_its_receipt() -> None:
    """Cancelling a send removes its timer; a late receipt is then ignored."""
    broker = connected()
    d = send(broker)
    d.cancel()
    failure_of(d)
    assert broker.clock.getDelayedCalls() == []
    [frame] = broker.frames()
    with capturedLogs() as events:
        broker.say("RECEIPT", ("receipt-id", frame.header("receipt") or ""))
    assert [e["log_level"] for e in events] == [LogLevel.warn]


# --- heart-beats ---------------------------------------------------------------


def test_heart_beats_are_sent_at_the_negotiated_interval() -> None:
    """We send an EOL every max(our offer, the broker's wish) milliseconds."""
    broker = connected(heart_beat="0,3000", ours=(1000, 0))
    broker.clock.advance(2.9)
    assert broker.transport.value() == b""
    broker.clock.advance(0.1)
    assert broker.transport.value() == b"\n"
    broker.clock.advance(3)
    assert broker.transport.value() == b"\n\n"


def test_silent_broker_is_dropped_after_twice_its_interval_plus_slack() -> None:
    """Any bytes from the broker reset the watchdog; silence drops the connection."""
    broker = connected(heart_beat="2000,0", ours=(0, 1000))
    broker.clock.advance(4.9)
    broker.protocol.dataReceived(b"\n")
    broker.clock.advance(4.9)
    assert not broker.transport.disconnecting
    d = send(broker)
    broker.protocol.dataReceived(b"\r\n")
    with capturedLogs() as events:
        broker.clock.advance(5.0)
    assert broker.transport.disconnected
    assert "silent" in failure_of(d, BusUnavailable).value.message
    assert any(e["log_level"] == LogLevel.warn for e in events)
    broker.drop()
    assert broker.clock.getDelayedCalls() == []


def test_zero_heart_beats_mean_no_timers() -> None:
    """When either side offers 0 there are no heart-beat timers."""
    broker = connected(heart_beat="0,0", ours=(10000, 10000))
    assert broker.clock.getDelayedCalls() == []


def test_lost_connection_stops_the_heart_beat_timers() -> None:
    """Losing the connection cancels the send loop and the watchdog."""
    broker = connected(heart_beat="1000,1000", ours=(1000, 1000))
    assert broker.clock.getDelayedCalls()
    broker.drop()
    assert broker.clock.getDelayedCalls() == []


# --- closing -------------------------------------------------------------------


def test_disconnect_waits_for_its_receipt_then_closes() -> None:
    """disconnect() says DISCONNECT, waits for the receipt, closes, and waits."""
    broker = connected()
    d = Deferred.fromCoroutine(broker.protocol.disconnect())
    [frame] = broker.frames()
    assert frame.command == "DISCONNECT"
    assert not broker.transport.disconnecting
    broker.say("RECEIPT", ("receipt-id", frame.header("receipt") or ""))
    assert broker.transport.disconnecting and not d.called
    broker.drop()
    assert result_of(d) is None


def test_when_lost_fires_with_the_reason() -> None:
    """when_lost() fires once the connection is gone, also if asked afterwards."""
    broker = connected()
    before = broker.protocol.when_lost()
    broker.protocol.connectionLost(Failure(ConnectionLost("reset")))
    assert isinstance(result_of(before), ConnectionLost)
    assert isinstance(result_of(broker.protocol.when_lost()), ConnectionLost)


@pytest.mark.parametrize(
    "data",
    [b"HELLO\n\n\x00", b"SEND\ndestination:/x\n\n\x00"],
)
def test_garbage_or_a_client_frame_from_the_broker_drops_the_connection(
    data: bytes,
) -> None:
    """Bytes that are not a broker frame fail what is pending and close."""
    broker = connected()
    d = send(broker)
    with capturedLogs():
        broker.protocol.dataReceived(data)
    failure_of(d, BusUnavailable)
    assert broker.transport.disconnected
