"""The broker connection: one STOMP connection kept up with backoff.

:class:`BusConnection` is the service that keeps one
:class:`~ridad.bus.protocol.StompProtocol` connected through a
``ClientService``, reconnecting with backoff. Each attempt connects the
endpoint, does the CONNECT handshake and subscribes every registered
subscription again (:mod:`ridad.bus.subscriptions`) before anyone may use
the connection.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, cast

from twisted.application.internet import ClientService, backoffPolicy
from twisted.application.service import Service
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import (
    IAddress,
    IProtocol,
    IProtocolFactory,
    IReactorTime,
    IStreamClientEndpoint,
    ITransport,
)
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from ridad.bus.framing import DEFAULT_MAX_FRAME_BYTES
from ridad.bus.protocol import DEFAULT_RECEIPT_TIMEOUT_SECONDS, StompProtocol
from ridad.bus.subscriptions import Handler, Registration, Registrations, Subscription
from ridad.errors import BusUnavailable

__all__ = ["BusConnection", "StompFactory"]


class StompFactory(Factory):
    """Builds ``StompProtocol``s that share a clock and time limits."""

    noisy = False

    def __init__(
        self,
        *,
        clock: IReactorTime,
        receipt_timeout_seconds: float = DEFAULT_RECEIPT_TIMEOUT_SECONDS,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    ) -> None:
        self._clock = clock
        self._receipt_timeout_seconds = receipt_timeout_seconds
        self._max_frame_bytes = max_frame_bytes

    def buildProtocol(self, addr: IAddress | None) -> StompProtocol:
        """A new, unconnected protocol."""
        protocol = StompProtocol(
            clock=self._clock,
            receipt_timeout_seconds=self._receipt_timeout_seconds,
            max_frame_bytes=self._max_frame_bytes,
        )
        protocol.factory = self
        return protocol


class _Gate(Protocol):
    """Sits between a transport and ClientService's protocol proxy.

    Until it is opened (the handshake succeeded), a lost connection reaches
    only the STOMP protocol: ClientService 26.10 has no transition for a
    connection lost while it is still connecting (automat's NoTransition
    escapes from connectionLost), so a failed attempt must look to it like
    a failed ``endpoint.connect``.
    """

    def __init__(self, proxy: IProtocol) -> None:
        self.proxy = proxy
        self.stomp: StompProtocol = proxy.unwrapped()  # type: ignore[attr-defined]
        self.is_open = False

    def makeConnection(self, transport: ITransport) -> None:
        """Connect the proxy (and so the STOMP protocol) to ``transport``."""
        self.transport = transport
        self.proxy.makeConnection(transport)

    def dataReceived(self, data: bytes) -> None:
        """Forward ``data``."""
        self.proxy.dataReceived(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Tell the proxy once open, else only the STOMP protocol."""
        (self.proxy if self.is_open else self.stomp).connectionLost(reason)


class _GateFactory(Factory):
    """Wraps each protocol that ClientService's factory builds in a ``_Gate``."""

    noisy = False

    def __init__(self, factory: IProtocolFactory) -> None:
        self._factory = factory

    def buildProtocol(self, addr: IAddress | None) -> _Gate | None:
        proxy = self._factory.buildProtocol(addr)
        return None if proxy is None else _Gate(proxy)


@implementer(IStreamClientEndpoint)
class _AttemptEndpoint:
    """An endpoint whose ``connect`` is a whole connection attempt: TCP and STOMP."""

    def __init__(
        self, attempt: Callable[[IProtocolFactory], Coroutine[Any, Any, IProtocol]]
    ) -> None:
        self._attempt = attempt

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        """Run one attempt; fire with the protocol once it is ready to use."""
        return Deferred.fromCoroutine(self._attempt(protocolFactory))


class BusConnection(Service):
    """One STOMP connection to the broker, kept up with backoff.

    A ``ClientService`` reconnects; each attempt connects ``endpoint``, does
    the CONNECT handshake and subscribes every registered subscription again
    before anyone may use the connection. ``subscriptions`` are what the
    daemon listens to from the start; :meth:`subscribe` adds more.
    """

    name = "bus"
    log = Logger()

    def __init__(
        self,
        *,
        endpoint: IStreamClientEndpoint,
        clock: IReactorTime,
        login: str | None = None,
        passcode: str | None = None,
        vhost: str = "/",
        heart_beat_ms: tuple[int, int] = (10000, 10000),
        receipt_timeout_seconds: float = DEFAULT_RECEIPT_TIMEOUT_SECONDS,
        retry_policy: Callable[[int], float] | None = None,
        subscriptions: Sequence[Subscription] = (),
    ) -> None:
        self._endpoint = endpoint
        self._clock = clock
        self._login = login
        self._passcode = passcode
        self._vhost = vhost
        self._heart_beat_ms = heart_beat_ms
        self._registrations = Registrations()
        #: What the daemon subscribed to at construction.
        self.subscriptions: tuple[Subscription, ...] = tuple(subscriptions)
        self._protocol: StompProtocol | None = None
        self._down_reason: str | None = None
        self._attempts = 0
        self._background: set[Deferred[str]] = set()
        self._client = ClientService(
            _AttemptEndpoint(self._attempt),
            StompFactory(clock=clock, receipt_timeout_seconds=receipt_timeout_seconds),
            retryPolicy=retry_policy or backoffPolicy(),
            clock=clock,
        )
        for subscription in self.subscriptions:
            self._registrations.add(
                subscription.destination, subscription.deliver, ack="client-individual"
            )

    @property
    def connected(self) -> bool:
        """Whether a connection is up, handshake and subscriptions done."""
        return self._protocol is not None and self._protocol.ready

    def startService(self) -> None:
        """Start connecting (in the background)."""
        super().startService()
        self._client.startService()

    def stopService(self) -> Deferred[None]:
        """Say DISCONNECT if connected, then stop reconnecting."""
        super().stopService()
        return Deferred.fromCoroutine(self._stop())

    async def publish(
        self, destination: str, body: bytes, headers: Mapping[str, str]
    ) -> None:
        """Send a message; return once the broker's RECEIPT arrived.

        Fails at once while the broker is known to be down, rather than
        waiting for the next reconnection attempt.

        :raises BusUnavailable: not connected, or the broker did not take it.
        """
        protocol = await self._ready()
        started = self._clock.seconds()
        await protocol.send(destination, body, headers)
        self.log.debug(
            "Sent to {destination} in {duration_seconds} s",
            destination=destination,
            duration_seconds=round(self._clock.seconds() - started, 6),
        )

    def subscribe(
        self,
        destination: str,
        handler: Handler,
        *,
        ack: str = "client-individual",
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Subscribe ``handler`` to ``destination``, now and after every reconnect.

        :returns: the subscription id.
        :raises ValueError: an unknown ack mode.
        """
        registration = self._registrations.add(
            destination, handler, ack=ack, headers=headers
        )
        if self._protocol is not None and self._protocol.ready:
            self._track(self._subscribe(self._protocol, registration), destination)
        return registration.subscription_id

    # -- internals ----------------------------------------------------------

    async def _stop(self) -> None:
        protocol = self._protocol
        if protocol is not None:
            await protocol.disconnect()
        await self._client.stopService()
        for pending in list(self._background):
            await pending

    async def _ready(self) -> StompProtocol:
        if self._protocol is not None and self._protocol.ready:
            return self._protocol
        if not self.running:
            raise BusUnavailable("The broker connection is not running")
        if self._down_reason is not None:
            raise BusUnavailable(
                f"The broker is unreachable ({self._down_reason}); reconnecting"
            )
        # ClientService fires these waiters inside its state machine's
        # transitions; resume the caller a tick later, so that it may call
        # the machine (stopService) without re-entering it.
        try:
            protocol = await self._client.whenConnected(failAfterFailures=1)
        except CancelledError as e:
            await deferLater(self._clock, 0, lambda: None)
            raise BusUnavailable("The broker connection was stopped") from e
        except Exception as e:
            await deferLater(self._clock, 0, lambda: None)
            if isinstance(e, BusUnavailable):
                raise
            raise BusUnavailable(f"Cannot reach the broker: {e}") from e
        await deferLater(self._clock, 0, lambda: None)
        return cast(StompProtocol, protocol)

    async def _attempt(self, factory: IProtocolFactory) -> IProtocol:
        self._attempts += 1
        started = self._clock.seconds()
        try:
            gate = await self._endpoint.connect(_GateFactory(factory))
            try:
                await self._handshake(gate.stomp)
            except BaseException:
                gate.stomp.abort()
                raise
        except CancelledError:
            raise
        except Exception as e:
            self._down_reason = str(e) or type(e).__name__
            self.log.warn(
                "Connecting to the broker failed (attempt {attempt}): {reason}",
                attempt=self._attempts,
                reason=self._down_reason,
            )
            raise
        gate.is_open = True
        self._protocol, self._down_reason = gate.stomp, None
        self.log.info(
            "Connected to the broker with STOMP {version} (attempt {attempt},"
            " {duration_seconds} s)",
            version=gate.stomp.version,
            attempt=self._attempts,
            duration_seconds=round(self._clock.seconds() - started, 3),
        )
        self._attempts = 0
        gate.stomp.when_lost().addCallback(self._lost, gate.stomp)
        return gate.proxy

    async def _handshake(self, protocol: StompProtocol) -> None:
        await protocol.connect(
            login=self._login,
            passcode=self._passcode,
            vhost=self._vhost,
            heart_beat_ms=self._heart_beat_ms,
        )
        index = 0
        while index < len(self._registrations):  # subscribe() may add meanwhile
            await self._subscribe(protocol, self._registrations[index])
            index += 1

    async def _subscribe(
        self, protocol: StompProtocol, registration: Registration
    ) -> str:
        return await protocol.subscribe(
            registration.destination,
            registration.handler,
            ack=registration.ack,
            headers=registration.headers,
            subscription_id=registration.subscription_id,
        )

    def _track(self, coroutine: Coroutine[Any, Any, str], destination: str) -> None:
        subscribing = Deferred.fromCoroutine(coroutine)
        self._background.add(subscribing)

        def done(result: str | Failure) -> None:
            self._background.discard(subscribing)
            if isinstance(result, Failure):
                self.log.warn(
                    "Subscribing to {destination} failed: {reason}; retrying on reconnect",
                    destination=destination,
                    reason=result.getErrorMessage(),
                )

        subscribing.addBoth(done)

    def _lost(self, reason: BaseException, protocol: StompProtocol) -> None:
        if self._protocol is protocol:
            self._protocol = None
        self._down_reason = str(reason) or type(reason).__name__
        if self.running:
            self.log.warn(
                "Lost the broker connection ({reason}); reconnecting",
                reason=self._down_reason,
            )
        else:
            self.log.info("Disconnected from the broker")
