"""One active scheduler per database: an advisory lock plus a fenced lease.

Any number of ridad processes may share a database; exactly one drives
builds. :class:`SchedulerLock` competes for the PostgreSQL advisory lock
:data:`~ridad.db.leases.SCHEDULER_LOCK_KEY` on a connection of its own (with
TCP keepalives). The winner takes a new lease epoch in a transaction on the
pool and becomes active; the others stand by and retry every
``retry_seconds``. When the lock connection dies, or a ``SELECT 1`` on it
fails, the server has released (or will release) the lock, so the process
steps down at once and starts competing again.

An advisory lock alone cannot stop a former leader that has not noticed yet
(its writes may still be in flight on pool connections). The lease epoch can:
every state-changing scheduler transaction calls
:func:`ridad.db.leases.check_lease` with the epoch it was given.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal

from twisted.application.service import Service
from twisted.internet.defer import Deferred, DeferredList, DeferredLock
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall, deferLater
from twisted.logger import Logger, LogLevel

from ridad.db.leases import (
    limit_idle_session,
    ping,
    release_scheduler_lock,
    take_lease,
    try_scheduler_lock,
)
from ridad.db.pool import Cursor, Pool, WatchedConnection
from ridad.errors import ConfigError, DatabaseUnavailable, RidadError

__all__ = ["Role", "SchedulerLock"]

Role = Literal["active", "standby", "stopped"]


class SchedulerLock(Service):
    """Hold the scheduler lock while running, or stand by to take it over.

    ``on_acquired(epoch)`` runs once this process becomes the active
    scheduler; ``on_lost()`` runs once it stops being active (the lock
    connection died or failed its check, ``on_acquired`` failed, or the
    service stops). Both may return an awaitable, which is awaited; they
    always alternate, starting with ``on_acquired``. ``on_acquired`` should
    return promptly: the lock connection is idle while it runs.

    The lock connection runs a query every ``retry_seconds``, each limited to
    ``query_timeout_seconds``. The server ends it after
    ``session_idle_timeout_seconds`` without one, so the lock of a process
    cut off from the database is released and a standby can take over.
    """

    log = Logger()

    def __init__(
        self,
        *,
        pool: Pool,
        clock: IReactorTime,
        holder: str,
        on_acquired: Callable[[int], Awaitable[None] | None],
        on_lost: Callable[[], Awaitable[None] | None],
        retry_seconds: float = 2.0,
        query_timeout_seconds: float = 5.0,
        session_idle_timeout_seconds: float = 15.0,
    ) -> None:
        if session_idle_timeout_seconds <= retry_seconds:
            raise ValueError("session_idle_timeout_seconds must exceed retry_seconds")
        self._pool = pool
        self._clock = clock
        self._holder = holder
        self._on_acquired = on_acquired
        self._on_lost = on_lost
        self._retry_seconds = retry_seconds
        self._query_timeout_seconds = query_timeout_seconds
        self._session_idle_timeout_seconds = session_idle_timeout_seconds
        self._conn: WatchedConnection | None = None
        self._epoch: int | None = None
        self._loop: LoopingCall | None = None
        self._loop_done: Deferred[Any] | None = None
        self._mutex = DeferredLock()
        self._pending: set[Deferred[None]] = set()

    @property
    def role(self) -> Role:
        """``active`` while holding the lock, ``standby`` while running without it."""
        if not self.running:
            return "stopped"
        return "standby" if self._epoch is None else "active"

    @property
    def epoch(self) -> int | None:
        """The lease epoch while active, else None."""
        return self._epoch

    def startService(self) -> None:
        """Start competing for the lock now, then every ``retry_seconds``."""
        super().startService()
        self.log.info("Scheduler lock started as {holder}", holder=self._holder)
        self._loop = LoopingCall(self._iteration)
        self._loop.clock = self._clock
        self._loop_done = self._loop.start(self._retry_seconds, now=True)
        self._loop_done.addErrback(
            lambda f: self.log.failure("The scheduler lock loop died", f)
        )

    def stopService(self) -> Deferred[None]:
        """Stop competing; if active, call ``on_lost`` and release the lock.

        The returned Deferred fires once the check in flight has finished,
        the lock connection is closed and no delayed call of ours is left.
        """
        super().stopService()
        return Deferred.fromCoroutine(self._stop())

    async def _stop(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self._loop_done is not None:
            await self._loop_done
        self._loop = self._loop_done = None
        if self._pending:
            await DeferredList(list(self._pending), consumeErrors=True)
        await self._mutex.acquire()
        try:
            conn = self._conn
            await self._step_down("the scheduler lock service stopped", release=True)
        finally:
            self._mutex.release()
        if conn is not None:
            # Let txpostgres' zero-delay callbacks of the closed connection run.
            await deferLater(conn.reactor, 0)
        self.log.info("Scheduler lock stopped")

    def _iteration(self) -> Deferred[None]:
        """One run of the loop; it never fails, so the LoopingCall keeps going."""
        return Deferred.fromCoroutine(self._guarded_iteration())

    async def _guarded_iteration(self) -> None:
        await self._mutex.acquire()
        try:
            with self.log.failuresHandled(
                "Scheduler lock check failed", level=LogLevel.error
            ):
                if not self.running:
                    return
                if self._epoch is None:
                    await self._try_to_lead()
                else:
                    await self._check_lock()
        finally:
            self._mutex.release()

    async def _try_to_lead(self) -> None:
        """Take the lock and a new lease if we can; otherwise stay on standby."""
        try:
            conn = await self._lock_connection()
            locked = await try_scheduler_lock(self._cursor(conn))
        except (DatabaseUnavailable, ConfigError) as e:
            self.log.warn(  # noqa: G010 (twisted.logger has no .warning)
                "Cannot compete for the scheduler lock: {error}", error=e.message
            )
            self._close_connection()
            return
        if not locked:
            self.log.debug("Another process is the active scheduler; standing by")
            return
        now = datetime.fromtimestamp(self._clock.seconds(), tz=UTC)
        try:
            epoch = await self._pool.run_interaction(take_lease, self._holder, now)
        except RidadError as e:
            self.log.warn(  # noqa: G010
                "Took the scheduler lock but not the lease: {error}", error=e.message
            )
            self._close_connection()
            return
        self._epoch = epoch
        self.log.info(
            "{holder} is the active scheduler, lease epoch {epoch}",
            holder=self._holder,
            epoch=epoch,
        )
        try:
            await _maybe_await(self._on_acquired(epoch))
        except Exception:
            self.log.failure("Starting the active scheduler failed; stepping down")
            await self._step_down("on_acquired failed", release=True)

    async def _check_lock(self) -> None:
        """Step down unless the lock connection still answers ``SELECT 1``."""
        conn = self._conn
        if conn is None or conn.dead:
            await self._step_down("the lock connection was lost")
            return
        try:
            await ping(self._cursor(conn))
        except DatabaseUnavailable as e:
            await self._step_down(f"the lock connection failed its check: {e.message}")

    async def _lock_connection(self) -> WatchedConnection:
        """The live lock connection, opened (and watched) if need be."""
        if self._conn is not None and not self._conn.dead:
            return self._conn
        self._close_connection()
        conn = await self._pool.dedicated_connection()
        self._conn = conn
        conn.when_lost().addCallback(lambda _: self._connection_lost(conn))
        await limit_idle_session(self._cursor(conn), self._session_idle_timeout_seconds)
        return conn

    def _connection_lost(self, conn: WatchedConnection) -> None:
        """React at once when the current lock connection dies."""
        if conn is not self._conn or not self.running:
            return  # closed on purpose, or replaced already
        d = Deferred.fromCoroutine(self._handle_loss(conn))
        self._pending.add(d)
        d.addBoth(self._loss_handled, d)

    def _loss_handled(self, result: object, d: Deferred[None]) -> None:
        self._pending.discard(d)

    async def _handle_loss(self, conn: WatchedConnection) -> None:
        await self._mutex.acquire()
        try:
            with self.log.failuresHandled("Handling the lost lock connection failed"):
                if conn is self._conn and self.running:
                    await self._step_down("the lock connection was lost")
        finally:
            self._mutex.release()

    async def _step_down(self, reason: str, *, release: bool = False) -> None:
        """Stop being active (calling ``on_lost``), then drop the lock connection.

        ``on_lost`` runs before the lock is released, so a successor never
        overlaps with our own scheduler work when we step down on purpose.
        """
        was_active, self._epoch = self._epoch is not None, None
        if was_active:
            level = LogLevel.info if release else LogLevel.warn
            self.log.emit(
                level,
                "{holder} is no longer the active scheduler: {reason}",
                holder=self._holder,
                reason=reason,
            )
            try:
                await _maybe_await(self._on_lost())
            except Exception:
                self.log.failure("on_lost failed")
        conn = self._conn
        if release and was_active and conn is not None and not conn.dead:
            try:
                await release_scheduler_lock(self._cursor(conn))
            except DatabaseUnavailable as e:
                self.log.warn(  # noqa: G010
                    "Releasing the scheduler lock failed: {error}", error=e.message
                )
        self._close_connection()

    def _close_connection(self) -> None:
        """Forget and close the lock connection; the server drops its lock."""
        conn, self._conn = self._conn, None
        if conn is not None and not conn.dead:
            conn.close()

    def _cursor(self, conn: WatchedConnection) -> Cursor:
        return Cursor(conn=conn, timeout_seconds=self._query_timeout_seconds)


async def _maybe_await(outcome: Awaitable[None] | None) -> None:
    """Await ``outcome`` when a callback returned an awaitable."""
    if inspect.isawaitable(outcome):
        await outcome
