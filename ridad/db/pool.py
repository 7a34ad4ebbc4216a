"""A small pool of txpostgres connections that replaces dead ones by itself.

txpostgres' own ``ConnectionPool`` never replaces a dead connection and has no
time limits (docs/pitfalls.md), so :class:`Pool` keeps ``size`` connections, hands
them out in FIFO order, turns lost connections into
:class:`~ridad.errors.DatabaseUnavailable` and reconnects in the background.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar

from twisted.internet import error as internet_error
from twisted.internet.defer import CancelledError, Deferred, DeferredList
from twisted.internet.defer import TimeoutError as DeferredTimeoutError
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure

from ridad.db.connection import (
    Cursor,
    Row,
    WatchedConnection,
    connect_error,
    connection_dsn,
    strip_dsn_password,
    time_limited,
)
from ridad.db.runs import NotKept, Prepared, operation, prepared, query, transaction
from ridad.errors import ConfigError, DatabaseUnavailable
from ridad.metrics.instruments import Metrics

__all__ = ["Cursor", "Pool", "Row", "WatchedConnection", "backoff_seconds"]

P = ParamSpec("P")
T = TypeVar("T")


def backoff_seconds(
    attempt: int,
    *,
    jitter: float,
    initial_seconds: float = 0.1,
    factor: float = 2.0,
    max_seconds: float = 10.0,
) -> float:
    """Return the wait before reconnection attempt ``attempt`` (0-based).

    Capped exponential backoff with "equal jitter": ``jitter`` in [0, 1)
    scales the capped delay into [delay/2, delay).
    """
    delay = min(max_seconds, initial_seconds * factor ** min(attempt, 64))
    return delay / 2 + delay / 2 * jitter


class Pool:
    """``size`` PostgreSQL connections, handed out first come, first served.

    ``reactor`` must provide IReactorTime and IReactorFDSet. A call fails with
    :class:`DatabaseUnavailable` when its connection dies, when the server is
    silent for ``statement_timeout_seconds + connect_timeout_seconds``, or when
    no connection comes back within ``connect_timeout_seconds`` while all are
    down. Dead connections are replaced in the background with capped
    exponential backoff, so a database that comes back is used again.
    """

    log = Logger()

    def __init__(
        self,
        *,
        dsn: str | None,
        reactor: Any,
        size: int = 4,
        connect_timeout_seconds: float = 5,
        statement_timeout_seconds: float = 30,
        metrics: Metrics | None = None,
    ) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self._connect_timeout_seconds = connect_timeout_seconds
        self._statement_timeout_seconds = statement_timeout_seconds
        self._running = False
        self._given_dsn: str | None = None
        self._dsn = ""
        self._safe_dsn = ""
        self.dsn = dsn
        self._reactor = reactor
        self._size = size
        self._call_timeout_seconds = statement_timeout_seconds + connect_timeout_seconds
        self._preparing = True
        self._idle: deque[WatchedConnection] = deque()
        self._busy: set[WatchedConnection] = set()
        self._waiters: deque[_Waiter] = deque()
        self._reconnects: set[Deferred[None]] = set()
        self._random = random.Random()
        self._metrics = metrics or Metrics()
        self._metrics.pool_waiting.set_function(lambda: len(self._waiters))

    @property
    def dsn(self) -> str | None:
        """The DSN as given (None until set, for the embedded database).

        It may be set only while the pool is not running. Setting it raises
        :class:`ConfigError` when it cannot be parsed.
        """
        return self._given_dsn

    @dsn.setter
    def dsn(self, dsn: str | None) -> None:
        if self._running:
            raise RuntimeError("Cannot change the DSN of a running pool")
        self._given_dsn = dsn
        if dsn is not None:
            self._dsn = connection_dsn(
                dsn,
                connect_timeout_seconds=self._connect_timeout_seconds,
                statement_timeout_seconds=self._statement_timeout_seconds,
            )
            self._safe_dsn = strip_dsn_password(dsn)

    @property
    def healthy(self) -> bool:
        """True while the pool runs and holds at least one live connection."""
        return self._running and bool(self._idle or self._busy)

    async def start(self) -> None:
        """Open all connections.

        :raises DatabaseUnavailable: the server cannot be reached, timed out,
            or is starting up or shutting down: retry later.
        :raises ConfigError: the server refused us (bad credentials, unknown
            role or database, unparseable DSN): retrying will not help.
        """
        if self._running:
            raise RuntimeError("Pool already started")
        if self._given_dsn is None:
            raise RuntimeError("Pool.dsn must be set before start()")
        attempts = [Deferred.fromCoroutine(self._connect()) for _ in range(self._size)]
        results = await DeferredList(attempts, consumeErrors=True)
        conns = [value for ok, value in results if ok]
        failures = [value for ok, value in results if not ok]
        if failures:
            for conn in conns:
                conn.abort(DatabaseUnavailable("start failed"))
            failures.sort(key=lambda f: f.check(DatabaseUnavailable) is not None)
            failures[0].raiseException()
        self._running = True
        for conn in conns:
            self._watch(conn)
            self._idle.append(conn)
        self.log.info("Connected to PostgreSQL {dsn}", dsn=self._safe_dsn)

    async def close(self) -> None:
        """Close every connection, stop reconnecting and fail waiting calls.

        Calls still running fail with :class:`DatabaseUnavailable`. The pool
        may be started again afterwards.
        """
        was_running, self._running = self._running, False
        while self._waiters:
            self._waiters.popleft().fail(DatabaseUnavailable("The pool was closed"))
        for d in list(self._reconnects):
            d.cancel()
        for conn in [*self._idle, *self._busy]:
            conn.abort(DatabaseUnavailable("The pool was closed"))
        self._idle.clear()
        self._busy.clear()
        # Let txpostgres' zero-delay callbacks run, so no delayed call is left.
        await deferLater(self._reactor, 0)
        if was_running:
            self.log.info("Closed the PostgreSQL pool {dsn}", dsn=self._safe_dsn)

    async def run_query(self, sql: str, params: Any = None) -> list[Row]:
        """Run one statement in its own transaction and return its rows.

        :raises DatabaseUnavailable: see the class docstring.
        """
        return await self._use(query, sql, params)

    async def run_operation(self, sql: str, params: Any = None) -> None:
        """Run one statement in its own transaction and discard any rows.

        :raises DatabaseUnavailable: see the class docstring.
        """
        await self._use(operation, sql, params)

    async def run_prepared(
        self, statement: Prepared, params: Sequence[Any]
    ) -> list[Row]:
        """Run one ``Prepared`` statement (``ridad.db.runs``) and return its
        rows; unprepared for good once the server forgot one."""
        if self._preparing:
            try:
                return await self._use(prepared, statement, params)
            except NotKept:
                self.log.warn("PostgreSQL forgets prepared statements: not preparing")
                self._preparing = False
        return await self._use(query, statement.sql, params)

    async def run_interaction(
        self,
        fn: Callable[Concatenate[Cursor, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``await fn(cursor, *args)`` inside BEGIN/COMMIT and return its result.

        Any exception rolls back and propagates. If the connection dies during
        COMMIT the outcome is unknown: the transaction may have committed.

        :raises DatabaseUnavailable: see the class docstring.
        """
        return await self._use(transaction, fn, *args, **kwargs)

    async def ping(self, timeout_seconds: float = 2) -> bool:
        """Return True when ``SELECT 1`` succeeds within ``timeout_seconds``."""
        d = Deferred.fromCoroutine(self.run_query("SELECT 1"))
        d.addTimeout(timeout_seconds, self._reactor)
        try:
            await d
        except (DatabaseUnavailable, internet_error.TimeoutError, DeferredTimeoutError):
            return False
        return True

    async def dedicated_connection(self) -> WatchedConnection:
        """Open one more connection, outside the pool, owned by the caller.

        Meant for advisory locks and LISTEN; ``when_lost()`` tells when it
        dies. The caller closes it with ``close()``. The pool's
        ``statement_timeout`` applies unless the caller changes it.

        :raises DatabaseUnavailable: as for :meth:`start`.
        :raises ConfigError: as for :meth:`start`.
        """
        return await self._connect()

    async def _connect(self) -> WatchedConnection:
        conn = WatchedConnection(reactor=self._reactor)
        try:
            await time_limited(
                conn, conn.connect(self._dsn), self._connect_timeout_seconds
            )
        except Exception as e:
            conn.abort(DatabaseUnavailable("connect failed"))
            error = connect_error(e, self._safe_dsn)
            if error is None or isinstance(e, CancelledError):
                raise
            raise error from e
        return conn

    def _watch(self, conn: WatchedConnection) -> None:
        conn.when_lost().addCallback(lambda _: self._lost_while_idle(conn))

    def _lost_while_idle(self, conn: WatchedConnection) -> None:
        if self._running and conn in self._idle:
            self._idle.remove(conn)
            self._replace()

    async def _use(
        self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any
    ) -> T:
        conn = await self._acquire()
        try:
            return await fn(
                Cursor(conn=conn, timeout_seconds=self._call_timeout_seconds),
                *args,
                **kwargs,
            )
        finally:
            self._release(conn)

    async def _acquire(self) -> WatchedConnection:
        if not self._running:
            raise DatabaseUnavailable("The database pool is not running")
        while self._idle:
            conn = self._idle.popleft()
            if conn.dead:
                self._replace()
                continue
            self._busy.add(conn)
            return conn
        waiter = _Waiter(self._waiters)
        self._waiters.append(waiter)
        if not self._busy:
            waiter.arm(self._reactor, self._connect_timeout_seconds)
        started = self._reactor.seconds()
        try:
            return await waiter.deferred
        finally:
            self._metrics.pool_wait_seconds.observe(self._reactor.seconds() - started)

    def _release(self, conn: WatchedConnection) -> None:
        if not self._running or conn not in self._busy:
            # Closed, maybe restarted since: the connection is no longer ours.
            conn.abort(DatabaseUnavailable("The pool was closed"))
            return
        self._busy.remove(conn)
        if conn.dead:
            conn.abort(DatabaseUnavailable("connection lost"))
            self._replace()
        else:
            self._hand_over(conn)

    def _hand_over(self, conn: WatchedConnection) -> None:
        if self._waiters:
            self._busy.add(conn)
            self._waiters.popleft().succeed(conn)
        else:
            self._idle.append(conn)

    def _replace(self) -> None:
        """Start reconnecting one slot; arm waiters' limits if all are down."""
        if not self._running:
            return
        if not (self._idle or self._busy):
            for waiter in self._waiters:
                waiter.arm(self._reactor, self._connect_timeout_seconds)
        d = Deferred.fromCoroutine(self._reconnect())
        self._reconnects.add(d)
        d.addBoth(self._reconnect_ended, d)

    def _reconnect_ended(self, result: object, d: Deferred[None]) -> None:
        self._reconnects.discard(d)
        if isinstance(result, Failure) and not result.check(CancelledError):
            self.log.failure("Reconnecting to PostgreSQL failed", result)

    async def _reconnect(self) -> None:
        attempt = 0
        while True:
            delay = backoff_seconds(attempt, jitter=self._random.random())
            await deferLater(self._reactor, delay)
            try:
                conn = await self._connect()
            except (DatabaseUnavailable, ConfigError) as e:
                attempt += 1
                self.log.warn(  # noqa: G010 (twisted.logger has no .warning)
                    "Reconnecting to PostgreSQL failed ({attempt}): {error}",
                    dsn=self._safe_dsn,
                    attempt=attempt,
                    error=e.message,
                )
                continue
            break
        self.log.info("Reconnected to PostgreSQL {dsn}", dsn=self._safe_dsn)
        if not self._running:
            conn.abort(DatabaseUnavailable("The pool was closed"))
            return
        self._watch(conn)
        self._hand_over(conn)


class _Waiter:
    """A call waiting for a free connection, with an optional time limit."""

    def __init__(self, queue: deque[_Waiter]) -> None:
        self._queue = queue
        self._timer: Any = None
        self.deferred: Deferred[WatchedConnection] = Deferred(self._cancelled)

    def arm(self, clock: Any, seconds: float) -> None:
        if self._timer is None:
            self._timer = clock.callLater(seconds, self._expired, seconds)

    def succeed(self, conn: WatchedConnection) -> None:
        self._disarm()
        self.deferred.callback(conn)

    def fail(self, error: Exception) -> None:
        self._disarm()
        self.deferred.errback(error)

    def _expired(self, seconds: float) -> None:
        self._timer = None
        self._queue.remove(self)
        self.deferred.errback(
            DatabaseUnavailable(f"No database connection within {seconds:g} s")
        )

    def _cancelled(self, _: Deferred[WatchedConnection]) -> None:
        self._disarm()
        if self in self._queue:
            self._queue.remove(self)

    def _disarm(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
