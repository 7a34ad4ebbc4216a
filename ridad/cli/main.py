"""``rida``'s entry point: parse, resolve settings, run one command.

``run`` is the console script; it runs ``rida`` under
``twisted.internet.task.react``, which passes the reactor in.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

from treq.client import HTTPClient
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import react
from twisted.python.failure import Failure
from twisted.web.client import Agent, HTTPConnectionPool

from ridad.cli.auth import TokenMaker, gssapi_tokens, https_policy
from ridad.cli.client import MbsClient
from ridad.cli.commands import COMMANDS, Invocation
from ridad.cli.exits import INTERRUPTED, OK, SERVER, CommandError
from ridad.cli.koji_upload import SrpmUploader, koji_uploads
from ridad.cli.options import parse_arguments
from ridad.cli.settings import Settings, resolve_settings

#: Makes the HTTP client (a treq ``HTTPClient`` or ``StubTreq``) for settings.
HttpFactory = Callable[[Settings], Any]


async def rida(
    argv: Sequence[str],
    *,
    environ: Mapping[str, str],
    out: IO[str],
    err: IO[str],
    clock: IReactorTime,
    http_factory: HttpFactory,
    token_maker: TokenMaker,
    tty: bool | None = None,
    width: int = 80,
    srpm_uploader: SrpmUploader | None = None,
) -> int:
    """Run the ``rida`` command line ``argv``; return its exit status.

    Errors are written to ``err`` as one message saying what to do, never
    as a traceback. ``tty`` (default: ``out.isatty()``) chooses between
    redrawing progress in place and printing one line per change.
    ``srpm_uploader`` (default: the koji library in ``clock``'s thread
    pool) uploads the SRPMs of ``submit --srpm``.
    """
    try:
        args = parse_arguments(argv, out)
        if args is None:
            return OK
        settings = resolve_settings(args, environ)
        client = MbsClient(
            http=http_factory(settings),
            settings=settings,
            clock=clock,
            token_maker=token_maker,
        )
        invocation = Invocation(
            args=args,
            settings=settings,
            client=client,
            clock=clock,
            environ=environ,
            out=out,
            err=err,
            tty=out.isatty() if tty is None else tty,
            width=width,
            uploader=srpm_uploader or koji_uploads(clock),  # type: ignore[arg-type]
        )
        return await COMMANDS[args.command](invocation)
    except CommandError as exc:
        err.write(f"rida: {exc.message}\n")
        return exc.exit_status
    except Exception as exc:  # report, never a traceback: see the exit statuses
        err.write(
            f"rida: unexpected error: {type(exc).__name__}: {exc}"
            " (this is a bug in rida; please report it)\n"
        )
        return SERVER
    finally:
        err.flush()


def http_client(reactor: Any) -> HttpFactory:
    """The production HTTP client factory: persistent connections, TLS with
    the settings' CA and client certificate."""

    def make(settings: Settings) -> HTTPClient:
        pool = HTTPConnectionPool(reactor, persistent=True)
        if settings.api_url.startswith("https:"):
            agent = Agent(reactor, contextFactory=https_policy(settings), pool=pool)
        else:
            agent = Agent(reactor, pool=pool)
        return HTTPClient(agent)

    return make


class _Output(io.TextIOBase):
    """A standard stream that stays quiet once ``rida`` was interrupted
    (the connections the reactor closes while stopping are no news)."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__()
        self._stream = stream
        self.quiet = False

    def write(self, text: str) -> int:
        """Write ``text`` unless interrupted."""
        if not self.quiet:
            self._stream.write(text)
        return len(text)

    def flush(self) -> None:
        """Flush the stream."""
        self._stream.flush()

    def isatty(self) -> bool:
        """Whether the stream is a terminal."""
        return self._stream.isatty()


def main(reactor: Any, argv: Sequence[str]) -> Deferred[None]:
    """``react``'s main function: ``rida`` with ``argv``, ending in SystemExit.

    When the reactor stops before ``rida`` ends (Ctrl-C, SIGTERM), the exit
    status is ``INTERRUPTED``, not react's 0.
    """
    out, err = _Output(sys.stdout), _Output(sys.stderr)
    ended: Deferred[None] = Deferred()

    def relay(status: int) -> None:
        if not ended.called:
            ended.errback(Failure(SystemExit(status)))

    def interrupted() -> None:
        if not ended.called:
            err.write("\nrida: interrupted\n")
            out.quiet = err.quiet = True
            relay(INTERRUPTED)

    reactor.addSystemEventTrigger("before", "shutdown", interrupted)
    running = rida(
        argv,
        environ=os.environ,
        out=out,
        err=err,
        clock=reactor,
        http_factory=http_client(reactor),
        token_maker=gssapi_tokens(reactor),
        width=shutil.get_terminal_size().columns,
    )
    Deferred.fromCoroutine(running).addCallback(relay)
    return ended


def run() -> None:
    """The ``rida`` console script."""
    react(main, [sys.argv[1:]])
