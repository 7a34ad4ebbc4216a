"""``python -m ridad.devenv``: prepare the demo environment and run it.

Ctrl-C or SIGTERM stops the services in reverse order (SIGTERM to each, then
waits for it to exit); the program exits with the ridad daemon's status.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, NoReturn, TextIO, TypeVar

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.task import react
from twisted.logger import (
    FilteringLogObserver,
    Logger,
    LogLevel,
    LogLevelFilterPredicate,
    globalLogBeginner,
    textFileLogObserver,
)
from twisted.python import usage

from ridad.devenv.broker import activemq_broker
from ridad.devenv.content import BASE_TAGS, BROKEN_BRANCH, MODULE_NAME
from ridad.devenv.daemons import GIT_PORT, git_daemon, kojisim_daemon, ridad_daemon
from ridad.devenv.environment import DemoEnvironment, DemoEnvironmentError, prepare
from ridad.devenv.services import ChildProcess, DemoReactor, ServiceChain

_T = TypeVar("_T")


class DemoOptions(usage.Options):
    """Command-line options of ``python -m ridad.devenv``."""

    synopsis = "python -m ridad.devenv [--dir DIR]"
    longdesc = (
        "Create the demo state directory once (git repositories and ridad.yaml),"
        " then run git daemon, ActiveMQ, kojisim and ridad until Ctrl-C."
    )
    optParameters: ClassVar[list[list[str]]] = [
        [
            "dir",
            "d",
            ".run",
            "The development state directory (created once, then reused).",
        ],
    ]


def demo_services(
    reactor: DemoReactor, environment: DemoEnvironment, *, git_port: int = GIT_PORT
) -> list[ChildProcess]:
    """List the demo environment's services in start order; ridad comes last.

    :raises DemoEnvironmentError: a program one of them needs is not installed.
    """
    return [
        git_daemon(reactor, environment, port=git_port),
        activemq_broker(reactor, environment),
        kojisim_daemon(reactor, environment),
        ridad_daemon(reactor, environment),
    ]


def python_command() -> str:
    """Return how to run this Python: relative to the current directory when inside it."""
    python = Path(sys.executable)
    try:
        relative = python.relative_to(Path.cwd())
    except ValueError:
        return str(python)
    return str(relative) if len(relative.parts) > 1 else f"./{relative}"


def listen_command() -> str:
    """Return the command that prints ridad's bus messages as they arrive."""
    return f"{python_command()} -m ridad.devenv.listen"


def submit_command(environment: DemoEnvironment, ref: str | None = None) -> str:
    """Return the curl command that submits the demo module build (at ``ref``)."""
    scmurl = environment.scmurl
    if ref is not None:
        scmurl = scmurl.rsplit("#", 1)[0] + "#" + ref
    body = json.dumps({"scmurl": scmurl})
    return shlex.join(
        [
            "curl",
            "-i",
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            body,
            f"{environment.api_url}/rida/module-builds/",
        ]
    )


def status_command(environment: DemoEnvironment) -> str:
    """Return the curl command that lists the demo module's builds.

    One submission makes one build per platform stream, and the base
    modules imported at start-up hold the first ids, so the command lists
    them by name rather than guessing ids.
    """
    return shlex.join(
        ["curl", "-s", f"{environment.api_url}/rida/module-builds/?name={MODULE_NAME}"]
    )


def koji_commands() -> tuple[str, str]:
    """Return the commands that show the demo's module builds as Koji has them."""
    tool = f"{python_command()} -m ridad.devenv.koji"
    return f"{tool} builds", f"{tool} archives NVR"


def instructions(environment: DemoEnvironment) -> str:
    """Return what to tell the developer once ridad is ready."""
    return (
        f"\nridad is ready at {environment.api_url} (state in {environment.directory};"
        " Ctrl-C stops everything).\n\n"
        "Submit the demo module build. It buildrequires every platform"
        " (platform: []), so it expands into one build per base module"
        f' ({", ".join(BASE_TAGS)}); the answer\'s "ids" lists them:\n\n'
        f"    {submit_command(environment)}\n\n"
        "Then look at them:\n\n"
        f"    {status_command(environment)}\n\n"
        f"or follow them live in a browser: {environment.api_url}/ (metrics at"
        f" {environment.api_url}/metrics).\n\n"
        "Once they are ready, Koji holds each module build itself (modulemd.txt and one"
        " modulemd.<arch>.txt, with their RPMs):\n\n"
        f"    {koji_commands()[0]}\n"
        f"    {koji_commands()[1]}   (NVR: the one the first command prints)\n\n"
        "Watch its bus messages, one line each, in another terminal"
        " (they wait in the broker until you do; --json prints the bodies):\n\n"
        f"    {listen_command()}\n\n"
        "A broken modulemd (branch 'broken') shows how ridad reports problems:\n\n"
        f"    {submit_command(environment, BROKEN_BRANCH)}\n"
    )


class DemoSupervisor:
    """Prepares the demo environment, runs its services and stops them on request."""

    log = Logger()

    def __init__(
        self,
        *,
        reactor: DemoReactor,
        directory: Path,
        git_port: int = GIT_PORT,
        out: TextIO = sys.stdout,
        err: TextIO = sys.stderr,
    ) -> None:
        self._reactor = reactor
        self._directory = directory
        self._git_port = git_port
        self._out = out
        self._err = err
        self._stop_requested = False
        self._waiting_on: Deferred[object] | None = None
        self._finished: Deferred[None] = Deferred()

    async def run(self) -> int:
        """Prepare, start the services, and wait for ridad to exit or a stop request.

        :return: ridad's exit status; 1 if it never ran or had to be given up on.
        """
        chain = ServiceChain([])
        ridad: ChildProcess | None = None
        gave_up = False
        try:
            environment = await self._interruptible(
                Deferred.fromCoroutine(prepare(self._directory, self._reactor))
            )
            services = demo_services(
                self._reactor, environment, git_port=self._git_port
            )
            ridad = services[-1]
            chain = ServiceChain(services)
            await self._interruptible(Deferred.fromCoroutine(chain.start()))
            self._out.write(instructions(environment))
            self._out.flush()
            await self._interruptible(ridad.when_exited())
        except CancelledError:
            self.log.info("Stopping the demo environment")
        except DemoEnvironmentError as e:
            self._err.write(f"ridad.devenv: {e.message}\n")
            gave_up = ridad is None or ridad.status is None
        finally:
            await chain.stop()
            self._finished.callback(None)
        if gave_up or ridad is None or ridad.status is None:
            return 1
        if self._stop_requested:
            # We asked ridad to stop (Ctrl-C); its SIGTERM status is expected.
            return 0
        return ridad.status

    def request_stop(self) -> Deferred[None]:
        """Interrupt ``run`` (a before-shutdown trigger).

        :return: a Deferred that fires once every service has stopped.
        """
        self._stop_requested = True
        if self._waiting_on is not None:
            self._waiting_on.cancel()
        return self._finished

    async def _interruptible(self, d: Deferred[_T]) -> _T:
        """Await ``d``, unless a stop is requested first (then raise CancelledError)."""
        if self._stop_requested:
            d.cancel()
            raise CancelledError()
        self._waiting_on = d  # type: ignore[assignment]
        try:
            return await d
        finally:
            self._waiting_on = None


async def main(reactor: DemoReactor, directory: Path) -> NoReturn:
    """Run the demo environment until ridad exits or a signal stops it.

    :raises SystemExit: always, with ridad's exit status.
    """
    supervisor = DemoSupervisor(reactor=reactor, directory=directory)
    reactor.addSystemEventTrigger("before", "shutdown", supervisor.request_stop)
    raise SystemExit(await supervisor.run())


def run(argv: Sequence[str] | None = None) -> NoReturn:
    """Parse the command line, start logging to stderr and run ``main`` in a reactor."""
    options = DemoOptions()
    try:
        options.parseOptions(sys.argv[1:] if argv is None else list(argv))
    except usage.UsageError as e:
        sys.stderr.write(f"{options}\nridad.devenv: {e}\n")
        raise SystemExit(2) from None
    _begin_logging(sys.stderr)
    react(main, [Path(options["dir"])])


def _begin_logging(stream: TextIO) -> None:
    """Log as text to ``stream``, without the probes' per-connection chatter."""
    quiet = LogLevelFilterPredicate(defaultLogLevel=LogLevel.info)
    quiet.setLogLevelForNamespace(
        "twisted.web.client._HTTP11ClientFactory", LogLevel.warn
    )
    quiet.setLogLevelForNamespace(  # the broker's readiness probe
        "twisted.internet.endpoints.OneShotFactory", LogLevel.warn
    )
    text = textFileLogObserver(stream)
    observer = FilteringLogObserver(text, [quiet])  # type: ignore[arg-type,list-item]
    globalLogBeginner.beginLoggingTo(
        [observer],  # type: ignore[list-item]
        redirectStandardIO=False,
    )
