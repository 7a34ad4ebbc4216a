"""The STOMP protocol: one connection to a broker, as a Twisted protocol.

:class:`StompProtocol` speaks STOMP 1.1/1.2 over one connection: the CONNECT
handshake, heart-beats in both directions on an injected clock, SEND that
waits for the broker's RECEIPT, SUBSCRIBE and the dispatch of each MESSAGE to
its subscription's :class:`~ridad.bus.subscriptions.MessageQueue`, and
DISCONNECT. :class:`ridad.bus.connection.BusConnection` is the service that
keeps one of them connected, reconnecting with backoff.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

from twisted.internet.defer import Deferred, succeed
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.protocol import Protocol, connectionDone
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from ridad.bus.framing import (
    DEFAULT_MAX_FRAME_BYTES,
    Frame,
    FrameParser,
    StompProtocolError,
    ack_frame,
    connect_frame,
    disconnect_frame,
    encode_frame,
    send_frame,
    subscribe_frame,
)
from ridad.bus.subscriptions import Handler, MessageQueue
from ridad.errors import BusUnavailable

__all__ = ["DEFAULT_RECEIPT_TIMEOUT_SECONDS", "StompProtocol"]

#: Added to twice the broker's heart-beat interval before we call it silent.
SILENCE_SLACK_SECONDS = 1.0
DEFAULT_RECEIPT_TIMEOUT_SECONDS = 10.0
_CONNECTED = "\x00CONNECTED"  # the pending-reply key of the handshake


def _heart_beat_header(value: str | None) -> tuple[int, int]:
    if value is None:
        return (0, 0)
    parts = value.split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise StompProtocolError(f"Bad heart-beat header {value!r}")
    return (int(parts[0]), int(parts[1]))


class StompProtocol(Protocol):
    """One STOMP connection to a broker.

    Every wait for the broker (CONNECTED, RECEIPT) is limited to
    ``receipt_timeout_seconds``; a broker that misses it is treated as dead
    and the connection is dropped, failing everything pending.
    """

    log = Logger()

    def __init__(
        self,
        *,
        clock: IReactorTime,
        receipt_timeout_seconds: float = DEFAULT_RECEIPT_TIMEOUT_SECONDS,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    ) -> None:
        self._clock = clock
        self._receipt_timeout_seconds = receipt_timeout_seconds
        self._parser = FrameParser(max_frame_bytes=max_frame_bytes)
        self._pending: dict[str, tuple[Deferred[Frame], IDelayedCall]] = {}
        self._subscriptions: dict[str, MessageQueue] = {}
        self._numbers = itertools.count(1)
        self._lost_waiters: list[Deferred[BaseException]] = []
        self._lost_reason: BaseException | None = None
        self._closing = False
        self._beats: LoopingCall | None = None
        self._watchdog: IDelayedCall | None = None
        self._silence_seconds = 0.0
        #: The negotiated STOMP version, once CONNECTED arrived.
        self.version: str | None = None
        #: The broker's CONNECTED frame.
        self.connected_frame: Frame | None = None

    @property
    def ready(self) -> bool:
        """Whether the handshake is done and the connection is still open."""
        return self.version is not None and not self._closing

    def unwrapped(self) -> StompProtocol:
        """This protocol, also when reached through an attribute-forwarding proxy."""
        return self

    def when_lost(self) -> Deferred[BaseException]:
        """A Deferred that fires with the reason once the connection is gone."""
        if self._lost_reason is not None:
            return succeed(self._lost_reason)
        waiter: Deferred[BaseException] = Deferred()
        self._lost_waiters.append(waiter)
        return waiter

    async def connect(
        self,
        *,
        login: str | None,
        passcode: str | None,
        vhost: str,
        heart_beat_ms: tuple[int, int] = (10000, 10000),
    ) -> None:
        """Send CONNECT and wait for CONNECTED; then start the heart-beats.

        :raises BusUnavailable: the broker answered ERROR (its message is
            kept), only speaks STOMP 1.0, did not answer in time, or the
            connection was lost.
        """
        if self.version is not None or _CONNECTED in self._pending:
            raise RuntimeError("connect() called twice")
        self._write(
            connect_frame(
                host=vhost, login=login, passcode=passcode, heart_beat_ms=heart_beat_ms
            )
        )
        connected = await self._expect(_CONNECTED)
        version = connected.header("version") or "1.0"
        try:
            if version not in ("1.1", "1.2"):
                raise BusUnavailable(f"The broker speaks STOMP {version}, not 1.1/1.2")
            server_ms = _heart_beat_header(connected.header("heart-beat"))
        except BusUnavailable:
            self.abort()
            raise
        self.version = version
        self.connected_frame = connected
        self._parser.set_version(version)
        self._start_heart_beats(heart_beat_ms, server_ms)

    async def send(
        self, destination: str, body: bytes, headers: Mapping[str, str]
    ) -> None:
        """Send ``body`` to ``destination``; return once its RECEIPT arrived.

        :raises BusUnavailable: not connected, ERROR from the broker, no
            receipt in time, or the connection was lost meanwhile.
        :raises ValueError: ``headers`` sets destination, receipt or
            content-length.
        """
        receipt = self._next_receipt()
        frame = send_frame(destination, body, headers, receipt=receipt)
        await self._request(frame, receipt)

    async def subscribe(
        self,
        destination: str,
        handler: Handler,
        *,
        ack: str = "client-individual",
        headers: Mapping[str, str] | None = None,
        subscription_id: str | None = None,
    ) -> str:
        """Subscribe to ``destination``; return once the broker confirmed it.

        Each MESSAGE goes to ``handler``, one at a time in arrival order.
        Unless ``ack`` is ``auto``, it is acknowledged after the handler
        returned, and also when it raised (the failure is logged), so one
        poison message cannot wedge the subscription.

        :returns: the subscription id.
        :raises BusUnavailable: not connected, ERROR, or no receipt in time.
        """
        sub_id = subscription_id or f"sub-{next(self._numbers)}"
        receipt = self._next_receipt()
        frame = subscribe_frame(
            destination, sub_id, ack=ack, headers=headers, receipt=receipt
        )
        self._subscriptions[sub_id] = MessageQueue(
            destination=destination,
            handler=handler,
            ack=ack,
            acknowledge=lambda frame: self._acknowledge(destination, frame),
        )
        try:
            await self._request(frame, receipt)
        except BaseException:
            self._subscriptions.pop(sub_id, None)
            raise
        return sub_id

    async def disconnect(self) -> None:
        """Say DISCONNECT, wait for its receipt (within the limit), and close.

        Messages whose handler is still running stay unacknowledged; the
        broker delivers them again later.
        """
        if self._lost_reason is not None:
            return
        if self.ready:
            receipt = self._next_receipt()
            try:
                await self._request(disconnect_frame(receipt=receipt), receipt)
            except BusUnavailable as e:
                self.log.debug("DISCONNECT unconfirmed: {reason}", reason=e.message)
        lost = self.when_lost()
        self._close()
        await lost

    def abort(self) -> None:
        """Drop the connection now, without DISCONNECT."""
        if self._lost_reason is None and self.transport is not None:
            self._closing = True
            self.transport.abortConnection()  # type: ignore[attr-defined]

    # -- Twisted Protocol ---------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        """Parse ``data`` and act on each complete frame."""
        if self._watchdog is not None and self._watchdog.active():
            self._watchdog.reset(self._silence_seconds)
        try:
            frames = self._parser.feed(data)
        except StompProtocolError as e:
            self.log.warn("Dropping the broker connection: {reason}", reason=e.message)
            self._fail_pending(e)
            self.abort()
            return
        for frame in frames:
            if self._closing:
                return
            self._frame_received(frame)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Fail everything pending and stop the timers."""
        self._closing = True
        self._lost_reason = reason.value
        if self._beats is not None and self._beats.running:
            self._beats.stop()
        if self._watchdog is not None and self._watchdog.active():
            self._watchdog.cancel()
        self._fail_pending(
            BusUnavailable(
                f"The broker connection was lost: {reason.getErrorMessage()}"
            )
        )
        waiters, self._lost_waiters = self._lost_waiters, []
        for waiter in waiters:
            waiter.callback(reason.value)

    # -- internals ----------------------------------------------------------

    def _next_receipt(self) -> str:
        return f"rida-{next(self._numbers)}"

    def _write(self, frame: Frame) -> None:
        if self._closing or self.transport is None:
            raise BusUnavailable("The broker connection is closed")
        self.transport.write(encode_frame(frame, version=self.version or "1.2"))

    def _expect(self, key: str) -> Deferred[Frame]:
        def forget(d: Deferred[Frame]) -> None:
            entry = self._pending.pop(key, None)
            if entry is not None and entry[1].active():
                entry[1].cancel()

        waiter: Deferred[Frame] = Deferred(forget)
        timer = self._clock.callLater(
            self._receipt_timeout_seconds, self._timed_out, key
        )
        self._pending[key] = (waiter, timer)
        return waiter

    async def _request(self, frame: Frame, receipt: str) -> None:
        if not self.ready:
            raise BusUnavailable("Not connected to the broker")
        self._write(frame)
        await self._expect(receipt)

    def _resolve(self, key: str, frame: Frame) -> bool:
        entry = self._pending.pop(key, None)
        if entry is None:
            return False
        waiter, timer = entry
        if timer.active():
            timer.cancel()
        waiter.callback(frame)
        return True

    def _fail_pending(self, error: BusUnavailable) -> None:
        pending, self._pending = self._pending, {}
        for waiter, timer in pending.values():
            if timer.active():
                timer.cancel()
            waiter.errback(Failure(error))

    def _timed_out(self, key: str) -> None:
        entry = self._pending.pop(key, None)
        if entry is None:
            return
        what = "CONNECTED" if key == _CONNECTED else f"RECEIPT {key}"
        error = BusUnavailable(
            f"No {what} from the broker within {self._receipt_timeout_seconds} s"
        )
        self.log.warn("{reason}; dropping the connection", reason=error.message)
        entry[0].errback(Failure(error))
        self._fail_pending(error)
        self.abort()

    def _close(self) -> None:
        if self._lost_reason is None and self.transport is not None:
            self._closing = True
            self.transport.loseConnection()

    def _frame_received(self, frame: Frame) -> None:
        if frame.command == "CONNECTED":
            if self._resolve(_CONNECTED, frame):
                return
        elif frame.command == "RECEIPT":
            receipt = frame.header("receipt-id") or ""
            if not self._resolve(receipt, frame):
                self.log.warn("Unexpected RECEIPT {receipt}", receipt=receipt)
            return
        elif frame.command == "MESSAGE" and self.ready:
            self._message_received(frame)
            return
        elif frame.command == "ERROR":
            self._error_received(frame)
            return
        self.log.warn(
            "Unexpected {command} frame from the broker", command=frame.command
        )
        self._fail_pending(StompProtocolError(f"Unexpected {frame.command} frame"))
        self.abort()

    def _error_received(self, frame: Frame) -> None:
        message = frame.header("message") or "no message"
        error = BusUnavailable(
            f"The broker sent ERROR: {message}",
            details={
                "receipt_id": frame.header("receipt-id"),
                "body": frame.body[:2000].decode("utf-8", "replace"),
            },
        )
        self.log.warn("The broker sent ERROR: {reason}", reason=message)
        self._fail_pending(error)
        self._close()

    def _message_received(self, frame: Frame) -> None:
        sub_id = frame.header("subscription") or ""
        subscription = self._subscriptions.get(sub_id)
        if subscription is None:
            self.log.warn(
                "MESSAGE for unknown subscription {subscription} from {destination}",
                subscription=sub_id,
                destination=frame.header("destination"),
            )
            return
        subscription.put(frame)

    def _acknowledge(self, destination: str, frame: Frame) -> None:
        if not self.ready:
            return
        try:
            self._write(ack_frame(frame, version=self.version or "1.2"))
        except BusUnavailable as e:
            self.log.warn(
                "Could not acknowledge a message from {destination}: {reason}",
                destination=destination,
                reason=e.message,
            )

    def _start_heart_beats(
        self, ours_ms: tuple[int, int], theirs_ms: tuple[int, int]
    ) -> None:
        send_ms = (
            0 if not ours_ms[0] or not theirs_ms[1] else max(ours_ms[0], theirs_ms[1])
        )
        hear_ms = (
            0 if not ours_ms[1] or not theirs_ms[0] else max(ours_ms[1], theirs_ms[0])
        )
        if send_ms:
            self._beats = LoopingCall(self._beat)
            self._beats.clock = self._clock
            self._beats.start(send_ms / 1000, now=False)
        if hear_ms:
            self._silence_seconds = 2 * hear_ms / 1000 + SILENCE_SLACK_SECONDS
            self._watchdog = self._clock.callLater(self._silence_seconds, self._silent)

    def _beat(self) -> None:
        if not self._closing and self.transport is not None:
            self.transport.write(b"\n")

    def _silent(self) -> None:
        error = BusUnavailable(f"The broker was silent for {self._silence_seconds} s")
        self.log.warn("{reason}; dropping the connection", reason=error.message)
        self._fail_pending(error)
        self.abort()
