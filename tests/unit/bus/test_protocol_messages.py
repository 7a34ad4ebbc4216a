"""Tests for L{ridad.bus.protocol.StompProtocol}'s subscriptions: SUBSCRIBE,
and each MESSAGE reaching its handler and being acknowledged."""

from __future__ import annotations

from twisted.internet.defer import Deferred
from twisted.logger import LogLevel, capturedLogs

from ridad.bus.framing import Frame
from ridad.errors import BusUnavailable
from tests.helpers import failure_of, result_of
from tests.unit.bus.test_protocol import Broker, connected

# --- subscriptions -------------------------------------------------------------


def subscribed(broker: Broker, handler: object, ack: str = "client-individual") -> str:
    """Subscribe ``handler`` to /queue/q and confirm it; return the id."""
    d = Deferred.fromCoroutine(
        broker.protocol.subscribe("/queue/q", handler, ack=ack)  # type: ignore[arg-type]
    )
    [frame] = broker.frames()
    assert frame.command == "SUBSCRIBE"
    assert frame.header("ack") == ack
    broker.say("RECEIPT", ("receipt-id", frame.header("receipt") or ""))
    sub_id = result_of(d)
    assert sub_id == frame.header("id")
    return sub_id


def message(sub_id: str, n: int) -> tuple[tuple[str, str], ...]:
    """The headers of MESSAGE number ``n`` on ``sub_id``."""
    return (
        ("subscription", sub_id),
        ("message-id", f"ID:m:{n}"),
        ("ack", f"ID:a:{n}"),
        ("destination", "/queue/q"),
    )


def test_message_goes_to_its_handler_then_is_acknowledged() -> None:
    """A MESSAGE reaches the handler with headers and body; then we ACK its ack id."""
    broker = connected()
    seen: list[Frame] = []
    sub_id = subscribed(broker, seen.append)
    broker.say("MESSAGE", *message(sub_id, 1), ("x", "a:b"), body=b"\x00body\n")
    assert [f.body for f in seen] == [b"\x00body\n"]
    assert seen[0].header("x") == "a:b"
    assert broker.frames() == [Frame("ACK", (("id", "ID:a:1"),))]


def test_stomp_1_1_ack_names_message_and_subscription() -> None:
    """On STOMP 1.1 the ACK carries message-id and subscription."""
    broker = connected(version="1.1")
    sub_id = subscribed(broker, lambda frame: None)
    broker.say("MESSAGE", *message(sub_id, 3))
    assert broker.frames() == [
        Frame("ACK", (("subscription", sub_id), ("message-id", "ID:m:3")))
    ]


def test_async_handlers_run_one_at_a_time_and_ack_when_done() -> None:
    """The next message waits for the previous handler; each ACK follows its handler."""
    broker = connected()
    running: list[Deferred[None]] = []

    def handler(frame: Frame) -> Deferred[None]:
        running.append(Deferred())
        return running[-1]

    sub_id = subscribed(broker, handler)
    broker.say("MESSAGE", *message(sub_id, 1))
    broker.say("MESSAGE", *message(sub_id, 2))
    assert len(running) == 1 and broker.frames() == []
    running[0].callback(None)
    assert len(running) == 2
    assert broker.frames() == [Frame("ACK", (("id", "ID:a:1"),))]
    running[1].callback(None)
    assert broker.frames() == [Frame("ACK", (("id", "ID:a:2"),))]


def test_failing_handler_is_logged_and_its_message_acknowledged() -> None:
    """A handler that raises is logged at error and the message is still ACKed."""
    broker = connected()

    async def handler(frame: Frame) -> None:
        raise RuntimeError("poison")

    sub_id = subscribed(broker, handler)
    with capturedLogs() as events:
        broker.say("MESSAGE", *message(sub_id, 1))
    assert broker.frames() == [Frame("ACK", (("id", "ID:a:1"),))]
    [event] = [e for e in events if "log_failure" in e]
    assert event["log_level"] == LogLevel.error
    assert event["destination"] == "/queue/q"


def test_auto_ack_subscription_sends_no_ack() -> None:
    """With ack:auto the broker needs no ACK."""
    broker = connected()
    sub_id = subscribed(broker, lambda frame: None, ack="auto")
    broker.say("MESSAGE", *message(sub_id, 1))
    assert broker.frames() == []


def test_message_for_an_unknown_subscription_is_logged_and_dropped() -> None:
    """A MESSAGE naming no subscription of ours is logged, not acknowledged."""
    broker = connected()
    with capturedLogs() as events:
        broker.say("MESSAGE", *message("nope", 1))
    assert broker.frames() == []
    assert [e["subscription"] for e in events] == ["nope"]


def test_failed_subscribe_forgets_the_handler() -> None:
    """ERROR in answer to SUBSCRIBE fails subscribe() and closes."""
    broker = connected()
    d = Deferred.fromCoroutine(broker.protocol.subscribe("/queue/q", lambda f: None))
    broker.say("ERROR", ("message", "no such queue"))
    assert "no such queue" in failure_of(d, BusUnavailable).value.message
