"""``python -m ridad.devenv.listen``: print ridad's bus messages as they arrive.

It subscribes to the demo consumer's queues on the broker that ``make run``
starts, and prints each message as one line (``--json``: its JSON body) until
Ctrl-C. Through ActiveMQ's virtual topics those queues keep every message
ridad sent while nobody listened, so a late listener still sees the whole
story; the broker's queue only forgets a message once it was printed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, NoReturn, TextIO, TypeVar

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.endpoints import clientFromString, connectProtocol
from twisted.internet.error import ConnectError
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.task import deferLater, react
from twisted.logger import (
    FilteringLogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    globalLogBeginner,
    textFileLogObserver,
)
from twisted.python import usage

from ridad.bus.framing import Frame
from ridad.bus.protocol import StompProtocol
from ridad.devenv.content import BROKER_ENDPOINT, listener_destination
from ridad.errors import BusUnavailable

RETRY_SECONDS = 2.0
#: Body fields shown after the state, in this order, when present and not null.
MODULE_FIELDS = ("module_build_id", "nsvc", "old_state", "state_reason")
COMPONENT_FIELDS = ("module_build_id", "nvr", "task_id", "old_state", "state_reason")

_T = TypeVar("_T")

#: A reactor providing IReactorCore, IReactorTime and IReactorTCP.
ListenReactor = Any


class ListenOptions(usage.Options):
    """Command-line options of ``python -m ridad.devenv.listen``."""

    synopsis = "python -m ridad.devenv.listen [--broker ENDPOINT] [--destination DEST] [--json]"
    longdesc = (
        "Print each message from the demo environment's broker as one line:"
        " destination, rida-msg-id, the (component:)state and the main fields."
    )
    optParameters: ClassVar[list[list[str]]] = [
        [
            "broker",
            "b",
            BROKER_ENDPOINT,
            "The broker's STOMP endpoint (a Twisted client endpoint string).",
        ],
        ["destination", "d", listener_destination(), "What to subscribe to."],
    ]
    optFlags: ClassVar[list[list[str]]] = [
        ["json", "j", "Print each message's JSON body instead of a summary."],
    ]


def _value(value: object) -> str:
    """Render one field: bare when it is a word, else as JSON."""
    if isinstance(value, str) and value and not any(c.isspace() for c in value):
        return value if '"' not in value else json.dumps(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _body(frame: Frame) -> object:
    """The frame's body parsed as JSON, or its text when it is not JSON."""
    text = frame.body.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def describe(frame: Frame) -> str:
    """Summarise a message as one line.

    :return: ``<destination> <rida-msg-id> <state or component:state> key=value...``;
        the destination is the topic ridad sent to, also when read from a queue.
    """
    destination = (
        frame.header("original-destination") or frame.header("destination") or "-"
    )
    msg_id = frame.header("rida-msg-id") or frame.header("message-id") or "-"
    body = _body(frame)
    if not isinstance(body, dict):
        return f"{destination} {msg_id} {_value(body)}"
    fields = dict(body)
    if "component" in fields:
        what = f"{fields['component']}:{fields.get('state')}"
        shown: Sequence[str] = COMPONENT_FIELDS
    elif "name" in fields and "id" in fields:
        what = str(fields.get("state"))
        fields["module_build_id"] = fields["id"]
        parts = [fields.get(k) for k in ("name", "stream", "version", "context")]
        fields["nsvc"] = ":".join(str(p) for p in parts if p is not None)
        shown = MODULE_FIELDS
    else:  # not ridad's: show every scalar field
        what = str(fields.get("state", "-"))
        shown = [
            k
            for k, v in fields.items()
            if k != "state" and not isinstance(v, list | dict)
        ]
    extras = [
        f"{key}={_value(fields[key])}" for key in shown if fields.get(key) is not None
    ]
    return " ".join([destination, msg_id, what, *extras])


def json_line(frame: Frame) -> str:
    """Render a message's body as one line of JSON (a JSON string if it is not JSON)."""
    return json.dumps(_body(frame), ensure_ascii=False)


class BusListener:
    """Subscribes to one destination and writes a line per message, reconnecting."""

    def __init__(
        self,
        *,
        reactor: ListenReactor,
        endpoint: IStreamClientEndpoint,
        broker: str,
        destination: str,
        render: Callable[[Frame], str],
        out: TextIO,
        err: TextIO,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self._reactor = reactor
        self._endpoint = endpoint
        self._broker = broker
        self._destination = destination
        self._render = render
        self._out = out
        self._err = err
        self._retry_seconds = retry_seconds
        self._stopping = False
        self._stomp: StompProtocol | None = None
        self._waiting: Deferred[Any] | None = None
        self._finished: Deferred[None] = Deferred()

    async def run(self) -> None:
        """Listen until ``stop``, connecting again whenever the broker goes away."""
        reported: str | None = None
        try:
            while not self._stopping:
                try:
                    await self._listen_once()
                except (ConnectError, BusUnavailable) as e:
                    reason = e.message if isinstance(e, BusUnavailable) else str(e)
                    if reason != reported and not self._stopping:
                        self._note(
                            f"No messages from {self._broker} ({reason}); retrying"
                            f" every {self._retry_seconds:g} s. Is `make run` running?"
                        )
                    reported = reason
                if not self._stopping:
                    await self._wait(deferLater(self._reactor, self._retry_seconds))
        except CancelledError:
            if not self._stopping:
                raise
        finally:
            self._finished.callback(None)

    async def stop(self) -> None:
        """Say DISCONNECT (messages in flight stay queued), then wait for ``run``."""
        self._stopping = True
        stomp = self._stomp
        if stomp is not None and stomp.ready:
            await stomp.disconnect()
        elif self._waiting is not None:
            self._waiting.cancel()
        await self._finished

    async def _listen_once(self) -> None:
        stomp = StompProtocol(clock=self._reactor)
        await self._wait(connectProtocol(self._endpoint, stomp))
        self._stomp = stomp
        try:
            await self._wait(
                Deferred.fromCoroutine(
                    stomp.connect(login=None, passcode=None, vhost="/")
                )
            )
            await self._wait(
                Deferred.fromCoroutine(stomp.subscribe(self._destination, self._write))
            )
            self._note(
                f"Listening to {self._destination} at {self._broker} (Ctrl-C stops)."
            )
            reason = await self._wait(stomp.when_lost())
        finally:
            self._stomp = None
            stomp.abort()  # a no-op once the connection is closed
        if not self._stopping:
            raise BusUnavailable(f"the connection was lost: {reason}")

    def _write(self, frame: Frame) -> None:
        self._out.write(self._render(frame) + "\n")
        self._out.flush()

    def _note(self, text: str) -> None:
        self._err.write(f"ridad.devenv.listen: {text}\n")
        self._err.flush()

    async def _wait(self, d: Deferred[_T]) -> _T:
        """Await ``d``; ``stop`` cancels it."""
        if self._stopping:
            d.cancel()
        self._waiting = d
        try:
            return await d
        finally:
            self._waiting = None


async def main(
    reactor: ListenReactor,
    options: ListenOptions,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> None:
    """Print the messages of ``options['destination']`` until the reactor shuts down."""
    listener = BusListener(
        reactor=reactor,
        endpoint=clientFromString(reactor, options["broker"]),
        broker=options["broker"],
        destination=options["destination"],
        render=json_line if options["json"] else describe,
        out=out,
        err=err,
    )
    reactor.addSystemEventTrigger(
        "before", "shutdown", lambda: Deferred.fromCoroutine(listener.stop())
    )
    await listener.run()


def run(argv: Sequence[str] | None = None) -> NoReturn:
    """Parse the command line and listen in a reactor until Ctrl-C."""
    options = ListenOptions()
    try:
        options.parseOptions(sys.argv[1:] if argv is None else list(argv))
    except usage.UsageError as e:
        sys.stderr.write(f"{options}\nridad.devenv.listen: {e}\n")
        raise SystemExit(2) from None
    quiet = LogLevelFilterPredicate(defaultLogLevel=LogLevel.warn)
    text = textFileLogObserver(sys.stderr)
    globalLogBeginner.beginLoggingTo(
        [FilteringLogObserver(text, [quiet])],  # type: ignore[list-item,arg-type]
        redirectStandardIO=False,
    )
    react(main, [options])


if __name__ == "__main__":
    run()
