"""The demo environment's own daemons: git daemon, kojisim and ridad.

Each function describes one L{ChildProcess}: the command line, the
environment and the probe that says it is ready. ``ridad.devenv.main``
chains them with the broker from ``ridad.devenv.broker``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from treq.client import HTTPClient
from twisted.internet.defer import CancelledError
from twisted.internet.error import ConnectError
from twisted.web.client import (
    Agent,
    HTTPConnectionPool,
    ResponseFailed,
    ResponseNeverReceived,
)

from ridad.devenv.content import (
    BASE_TAGS,
    BROKER_ENDPOINT,
    GIT_HOST,
    KOJI_BUILD_SECONDS,
    KOJI_EVENT_PREFIX,
    KOJI_HOST,
    KOJI_PASSWORD,
    KOJI_PORT,
    KOJI_USER,
    koji_hub_url,
)
from ridad.devenv.environment import (
    DemoEnvironment,
    DemoEnvironmentError,
    executable,
    git_environment,
    run_git,
)
from ridad.devenv.services import ChildProcess, DemoReactor, ListenAddress
from ridad.errors import KojiError
from ridad.koji.client import KojiClient, PasswordAuth, RetryPolicy

GIT_PORT = 9418
GIT_READY_TIMEOUT_SECONDS = 10.0
RIDAD_READY_TIMEOUT_SECONDS = 120.0
HEALTH_REQUEST_TIMEOUT_SECONDS = 2.0

# twistd from this virtualenv, in the foreground, without a pid file.
_TWISTD = (str(Path(sys.executable).parent / "twistd"), "-n", "--pidfile=")


def _twistd_environment() -> dict[str, str]:
    """This process's environment, with the source tree first on C{PYTHONPATH}."""
    env = dict(os.environ)
    source_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (source_root, env.get("PYTHONPATH", "")) if p
    )
    return env


def git_daemon(
    reactor: DemoReactor, environment: DemoEnvironment, *, port: int = GIT_PORT
) -> ChildProcess:
    """Describe a ``git daemon`` serving the demo repositories on ``port``.

    It is ready once ``git ls-remote`` of the module repository succeeds.
    """
    argv = [
        executable("git", "git"),
        "daemon",
        "--export-all",
        f"--base-path={environment.git_root}",
        f"--listen={GIT_HOST}",
        f"--port={port}",
        "--reuseaddr",
    ]
    relative = environment.module_repository.relative_to(environment.git_root)
    url = f"git://{GIT_HOST}:{port}/{relative.as_posix()}"

    async def serves_module() -> bool:
        try:
            await run_git(reactor, "ls-remote", "--heads", url)
        except DemoEnvironmentError:
            return False
        return True

    return ChildProcess(
        name="git daemon",
        reactor=reactor,
        argv=argv,
        env=git_environment(),
        probe=serves_module,
        ready_timeout_seconds=GIT_READY_TIMEOUT_SECONDS,
        listens_on=ListenAddress(
            GIT_HOST,
            port,
            "Stop the program using it (often a git daemon left by an earlier "
            "`make run`; the git:// URLs in ridad.yaml need this port)",
        ),
    )


async def start_git_daemon(
    reactor: DemoReactor, environment: DemoEnvironment, *, port: int = GIT_PORT
) -> ChildProcess:
    """Start a ``git daemon`` serving the demo repositories on ``port``.

    :return: the running daemon; ``await daemon.stop()`` ends it.
    :raises DemoEnvironmentError: the port is in use, or it did not come up.
    """
    daemon = git_daemon(reactor, environment, port=port)
    try:
        await daemon.start()
    except BaseException:
        await daemon.stop()
        raise
    return daemon


def ridad_daemon(
    reactor: DemoReactor,
    environment: DemoEnvironment,
    *,
    ready_timeout_seconds: float = RIDAD_READY_TIMEOUT_SECONDS,
) -> ChildProcess:
    """Describe the ridad daemon under ``twistd -n`` with the demo config.

    It is ready once ``GET /health`` answers 200.
    """
    argv = [
        *_TWISTD,
        "--logger=ridad.logs.observer",
        "ridad",
        "--config",
        str(environment.config_path),
    ]
    env = _twistd_environment()
    env.setdefault("RIDAD_LOG_FORMAT", "text")  # a human watches the terminal
    pool = HTTPConnectionPool(reactor, persistent=False)
    http = HTTPClient(Agent(reactor, pool=pool))  # type: ignore[arg-type]
    health_url = f"{environment.api_url}/health"

    async def healthy() -> bool:
        try:
            response = await http.get(
                health_url, reactor=reactor, timeout=HEALTH_REQUEST_TIMEOUT_SECONDS
            )
            await response.content()
        except (ConnectError, ResponseFailed, ResponseNeverReceived, CancelledError):
            return False  # not listening yet, or too slow: ask again
        return bool(response.code == 200)

    return ChildProcess(
        name="ridad",
        reactor=reactor,
        argv=argv,
        env=env,
        probe=healthy,
        ready_timeout_seconds=ready_timeout_seconds,
        listens_on=ListenAddress(
            environment.api_host,
            environment.api_port,
            f"Stop the program using it, or change `listen` in {environment.config_path}",
        ),
    )


def kojisim_daemon(reactor: DemoReactor, environment: DemoEnvironment) -> ChildProcess:
    """Describe kojisim, the embedded build system, under ``twistd -n``.

    It is ready once ridad's Koji user can log in and the base modules' tags
    exist (created on first start, as an administrator would).
    """
    argv = [
        *_TWISTD,
        "kojisim",
        "--listen",
        f"tcp:{KOJI_PORT}:interface={KOJI_HOST}",
        "--user",
        f"{KOJI_USER}:{KOJI_PASSWORD}",
        "--build-seconds",
        str(KOJI_BUILD_SECONDS),
        "--work-dir",
        str(environment.directory / "kojisim"),
        "--stomp",
        BROKER_ENDPOINT,
        "--stomp-prefix",
        KOJI_EVENT_PREFIX,
    ]
    env = _twistd_environment()
    pool = HTTPConnectionPool(reactor, persistent=False)
    koji = KojiClient(
        http=HTTPClient(Agent(reactor, pool=pool)),  # type: ignore[arg-type]
        hub_url=koji_hub_url(),
        clock=reactor,
        auth=PasswordAuth(user=KOJI_USER, password=KOJI_PASSWORD),
        retry=RetryPolicy(give_up_after_seconds=0.5),
    )

    async def has_base_tag() -> bool:
        try:
            for tag in BASE_TAGS.values():
                if await koji.call("getTag", tag) is None:
                    await koji.call("createTag", tag, arches="x86_64")
        except KojiError:
            return False  # not listening yet
        return True

    (environment.directory / "kojisim").mkdir(parents=True, exist_ok=True)
    return ChildProcess(
        name="kojisim",
        reactor=reactor,
        argv=argv,
        env=env,
        probe=has_base_tag,
        ready_timeout_seconds=GIT_READY_TIMEOUT_SECONDS,
        listens_on=ListenAddress(
            KOJI_HOST,
            KOJI_PORT,
            "Stop the program using it (often a kojisim left by an earlier `make run`)",
        ),
    )
