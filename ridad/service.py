"""``RidadService``: the root of ridad's service tree.

It owns the database: the embedded cluster (if configured) and the pool are
started, and the schema migrated and checked, before any child service
starts; the HTTP port is the last child, so the API opens only then.
"""

from __future__ import annotations

import atexit
import os
import random
import signal
import sys
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

from twisted.application.service import MultiService, Service
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.error import ReactorNotRunning
from twisted.internet.interfaces import (
    IListeningPort,
    IProtocolFactory,
    IReactorFromThreads,
    IReactorTime,
    IStreamServerEndpoint,
)
from twisted.internet.task import deferLater
from twisted.logger import Logger

from ridad import __version__
from ridad.config.model import Config, LiveConfig
from ridad.db.embedded import EmbeddedPostgres
from ridad.db.pool import Pool
from ridad.db.schema import migrate
from ridad.errors import ConfigError, DatabaseUnavailable

START_BACKOFF_MAX_SECONDS = 30.0
#: The exit status of a process stopped by a fatal start-up error.
FATAL_EXIT_STATUS = 1


def start_backoff_seconds(
    attempt: int, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait before database start attempt ``attempt + 1``.

    Capped exponential backoff with full jitter on its upper half.

    :returns: the delay in seconds.
    """
    ceiling = min(START_BACKOFF_MAX_SECONDS, 0.5 * 2**attempt)
    return ceiling / 2 + rand() * ceiling / 2


def fatal_stopper(
    reactor: Any,
    *,
    at_exit: Callable[..., object] = atexit.register,
    status: int = FATAL_EXIT_STATUS,
) -> Callable[[], None]:
    """The ``on_fatal`` of the daemon: stop, then exit with ``status``.

    The reactor stops now, or as soon as it runs (a failure may come before
    twistd starts it, when ``reactor.stop()`` alone would raise and leave the
    process running without listening). twistd shuts the services down as
    usual; once it has finished, the process exits with ``status`` rather than
    twistd's 0, so that a supervisor (systemd's ``Restart=on-failure``) sees
    the failure.

    :param at_exit: registers the final exit (``atexit.register``).
    :returns: the function to call on a fatal error; later calls do nothing.
    """
    called: list[bool] = []

    def stop() -> None:
        try:
            reactor.stop()
        except ReactorNotRunning:
            pass  # already stopping

    def on_fatal() -> None:
        if called:
            return
        called.append(True)
        at_exit(exit_now, status)
        reactor.callWhenRunning(stop)

    return on_fatal


def exit_now(status: int) -> None:
    """Flush stdout and stderr, then end the process with ``status``.

    Run at interpreter exit, after twistd and the threads are done.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


class RidadService(MultiService):
    """The daemon: database first, then the children in insertion order.

    With ``read_config`` and ``from_thread``, SIGHUP re-reads the
    configuration (:meth:`reload`) while the service runs: the handler is
    installed by ``startService`` and the previous one restored by
    ``stopService``.
    """

    name = "ridad"
    log = Logger()

    def __init__(
        self,
        *,
        pool: Pool,
        clock: IReactorTime,
        on_fatal: Callable[[], None],
        config: LiveConfig,
        read_config: Callable[[], Config] | None = None,
        embedded: EmbeddedPostgres | None = None,
        from_thread: IReactorFromThreads | None = None,
        on_database: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        super().__init__()
        #: Run once the schema is migrated, before any child starts (the
        #: start-up import of the configured base modules).
        self._on_database = on_database
        self._pool = pool
        self._clock = clock
        self._on_fatal = on_fatal
        self._config = config
        self._read_config = read_config
        self._embedded = embedded
        self._from_thread = from_thread
        self._previous_sighup: Any = None
        self._started: Deferred[None] | None = None
        self._waiting: Deferred[None] | None = None
        self._stopping = False
        self.database_ready = False

    def privilegedStartService(self) -> None:
        """Do not forward: the children start once the database is ready."""
        Service.privilegedStartService(self)

    def startService(self) -> None:
        """Install the SIGHUP handler; start the database, then the children,
        in the background."""
        Service.startService(self)
        self._install_sighup()
        self._stopping = False
        self._started = Deferred.fromCoroutine(self._start())

    async def _start(self) -> None:
        try:
            if self._embedded is not None:
                self._pool.dsn = await self._embedded.start()
            await self._open_database()
            if self._on_database is not None and not self._stopping:
                await self._on_database()
        except CancelledError:
            return
        except Exception:
            self.log.failure("ridad cannot start; stopping")
            self._on_fatal()
            return
        if self._stopping:
            return
        self.database_ready = True
        for child in self:
            child.startService()
        for child in self:
            listening = getattr(child, "listening", None)
            if listening is not None and await listening is None:
                return
        self.log.info("ridad {version} is ready", version=__version__)

    async def _open_database(self) -> None:
        attempt = 0
        while not self._stopping:
            try:
                await self._pool.start()
                version = await migrate(self._pool)
                self.log.info("Database schema at version {version}", version=version)
                return
            except DatabaseUnavailable as e:
                await self._pool.close()
                delay = start_backoff_seconds(attempt)
                self.log.warn(
                    "Database unreachable ({reason}); retrying in {delay_seconds:.1f} s",
                    reason=e.message,
                    delay_seconds=delay,
                    attempt=attempt,
                )
                attempt += 1
                self._waiting = deferLater(self._clock, delay, lambda: None)
                await self._waiting
        raise CancelledError()

    async def _stop(self) -> None:
        self._stopping = True
        if self._waiting is not None and not self._waiting.called:
            self._waiting.cancel()
        if self._started is not None:
            await self._started
        if self.database_ready:
            await MultiService.stopService(self)
        self.database_ready = False
        await self._pool.close()
        if self._embedded is not None:
            await self._embedded.stop()

    def stopService(self) -> Deferred[None]:
        """Restore the previous SIGHUP handler; stop the children, then close
        the pool and the embedded cluster."""
        Service.stopService(self)
        self._restore_sighup()
        return Deferred.fromCoroutine(self._stop())

    def _install_sighup(self) -> None:
        if self._read_config is None or self._from_thread is None:
            return
        from_thread = self._from_thread

        def on_sighup(signum: int, frame: FrameType | None) -> None:
            from_thread.callFromThread(self.reload)

        self._previous_sighup = signal.signal(signal.SIGHUP, on_sighup)

    def _restore_sighup(self) -> None:
        if self._previous_sighup is not None:
            signal.signal(signal.SIGHUP, self._previous_sighup)
            self._previous_sighup = None

    def reload(self) -> None:
        """Re-read the configuration file (SIGHUP) and adopt what may change."""
        if self._read_config is None:
            return
        try:
            new = self._read_config()
        except ConfigError as e:
            for message in e.messages:
                self.log.error("Configuration not reloaded: {reason}", reason=message)
            return
        except OSError as e:
            self.log.error("Configuration not reloaded: {reason}", reason=str(e))
            return
        for ignored in self._config.reload(new):
            self.log.warn(
                "Configuration reloaded; changes to {reason} need a restart",
                reason=ignored,
            )
        self.log.info("Configuration reloaded")


class ApiListener(Service):
    """Listens for the API on an endpoint; a port that cannot be had is
    fatal (logged, then the process stops) instead of a daemon without API.

    ``listening`` fires with the listening port, or None when it failed.
    """

    name = "http"
    log = Logger()

    def __init__(
        self,
        *,
        endpoint: IStreamServerEndpoint,
        factory: IProtocolFactory,
        on_fatal: Callable[[], None],
        description: str,
        name: str = "http",
    ) -> None:
        self.name = name
        self._endpoint = endpoint
        self._factory = factory
        self._on_fatal = on_fatal
        self._description = description
        self._port: IListeningPort | None = None
        self.listening: Deferred[IListeningPort | None] | None = None

    def startService(self) -> None:
        """Start listening (the parent starts this once the database is ready)."""
        Service.startService(self)
        self.listening = Deferred.fromCoroutine(self._listen())

    async def _listen(self) -> IListeningPort | None:
        try:
            self._port = await self._endpoint.listen(self._factory)
        except Exception:
            self.log.failure(
                "Cannot listen on {listen}; stopping", listen=self._description
            )
            self._on_fatal()
            return None
        what = "API" if self.name == "http" else self.name
        self.log.info(
            "{name} listening on {listen}", name=what, listen=self._description
        )
        return self._port

    def stopService(self) -> Deferred[None]:
        """Stop listening."""
        Service.stopService(self)
        return Deferred.fromCoroutine(self._stop())

    async def _stop(self) -> None:
        if self.listening is not None:
            await self.listening
        if self._port is not None:
            await self._port.stopListening()
            self._port = None
