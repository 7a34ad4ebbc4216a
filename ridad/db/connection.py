"""txpostgres connections with loss reporting, time limits and dict rows.

The building blocks of :mod:`ridad.db.pool`: DSN handling, the
classification of psycopg2 errors into ridad errors, a ``Connection`` that
reports its own loss and can be aborted without the blocking ``PQcancel``,
and the :class:`Cursor` that interactions receive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg2
import psycopg2.extensions
from twisted.internet import error as internet_error
from twisted.internet.defer import CancelledError, Deferred, succeed
from twisted.internet.threads import deferToThreadPool
from twisted.logger import Logger
from twisted.python.failure import Failure
from txpostgres.txpostgres import Connection
from txpostgres.txpostgres import Cursor as TxCursor

from ridad.errors import ConfigError, DatabaseUnavailable, RidadError

Row = dict[str, Any]

#: Fragments of libpq connection errors that mean "down for now, retry".
_RETRYABLE_CONNECT_ERRORS = (
    "connection refused",
    "timeout expired",
    "starting up",
    "shutting down",
    "not yet accepting connections",
    "in recovery mode",
    "too many clients",
    "connection reset",
    "server closed the connection",
    "no route to host",
    "network is unreachable",
    "could not translate host name",
    "temporary failure in name resolution",
)

#: SQLSTATE classes after which a connection is unusable.
_FATAL_SQLSTATE_CLASSES = ("08", "57", "XX")

_LOST = (internet_error.ConnectionDone, internet_error.ConnectionLost)


def strip_dsn_password(dsn: str) -> str:
    """Return ``dsn`` without its password, fit for logs and error messages."""
    try:
        params = psycopg2.extensions.parse_dsn(dsn)
    except psycopg2.Error:
        return "<unparseable dsn>"
    params.pop("password", None)
    return str(psycopg2.extensions.make_dsn(**params))


def connection_dsn(
    dsn: str, *, connect_timeout_seconds: float, statement_timeout_seconds: float
) -> str:
    """Return ``dsn`` with our keepalives, connect and statement time limits.

    Settings already present in ``dsn`` win. Raises :class:`ConfigError` when
    ``dsn`` cannot be parsed.
    """
    try:
        params = psycopg2.extensions.parse_dsn(dsn)
    except psycopg2.Error as e:
        raise ConfigError([f"database.dsn: cannot parse: {e}"]) from e
    defaults = {
        "connect_timeout": str(max(2, round(connect_timeout_seconds))),
        "keepalives": "1",
        "keepalives_idle": "10",
        "keepalives_interval": "5",
        "keepalives_count": "3",
        "application_name": "ridad",
    }
    merged = {**defaults, **params}
    timeout_ms = round(statement_timeout_seconds * 1000)
    options = f"-c statement_timeout={timeout_ms} {params.get('options', '')}"
    merged["options"] = options.strip()
    return str(psycopg2.extensions.make_dsn(**merged))


def connect_error(error: BaseException, safe_dsn: str) -> RidadError | None:
    """Classify a failed connection attempt; None means "not ours, re-raise"."""
    if isinstance(error, RidadError):
        return error
    text = str(error).strip() or type(error).__name__
    if isinstance(error, _LOST) or any(
        fragment in text.lower() for fragment in _RETRYABLE_CONNECT_ERRORS
    ):
        return DatabaseUnavailable(f"Cannot reach PostgreSQL ({safe_dsn}): {text}")
    if isinstance(error, psycopg2.Error):
        return ConfigError([f"database.dsn: PostgreSQL ({safe_dsn}) said: {text}"])
    return None


def _kills_connection(error: BaseException) -> bool:
    """Tell whether ``error`` from a statement means the connection is unusable."""
    if isinstance(error, (psycopg2.InterfaceError, *_LOST)):
        return True
    if isinstance(error, psycopg2.OperationalError):
        code = error.pgcode
        return code is None or code[:2] in _FATAL_SQLSTATE_CLASSES
    return False


class WatchedConnection(Connection):  # type: ignore[misc]
    """A txpostgres ``Connection`` that reports its own loss.

    Unlike its base class it never raises out of ``doRead`` (which logs an
    unhandled error) when the server goes away while it is idle, and it can be
    aborted without the blocking ``PQcancel``.
    """

    def __init__(self, *, reactor: Any) -> None:
        super().__init__(reactor=reactor)
        self.abort_reason: BaseException | None = None
        #: Names of the statements prepared on this connection.
        self.prepared: set[str] = set()
        self._lost = False
        self._lost_waiters: list[Deferred[None]] = []

    @property
    def dead(self) -> bool:
        """True once the connection was lost, aborted or closed."""
        raw = self._connection
        return (
            self._lost
            or self.abort_reason is not None
            or raw is None
            or bool(raw.closed)
        )

    def when_lost(self) -> Deferred[None]:
        """Return a Deferred that fires (with None) once the connection is lost."""
        d: Deferred[None] = Deferred()
        if self._lost:
            d.callback(None)
        else:
            self._lost_waiters.append(d)
        return d

    def abort(self, reason: BaseException) -> None:
        """Close the connection at once; running statements fail with ``reason``."""
        if self.abort_reason is None:
            self.abort_reason = reason
        try:
            for cursor in list(self._cursors):
                self.reactor.removeReader(cursor)
                self.reactor.removeWriter(cursor)
            if self._connection is None:
                self._mark_lost()
            else:
                self.close()
        except KeyError:
            # The reactor no longer knows the socket by this descriptor
            # (libpq may replace its socket while connecting, or the number
            # was taken by another socket): close it ourselves. An abort
            # must never raise, it runs on failure paths.
            raw = self._connection
            if raw is not None and not raw.closed:
                raw.close()
            self._mark_lost()

    def doRead(self) -> Any:
        """Read from the socket; a failed poll disconnects instead of raising."""
        try:
            return super().doRead()
        except psycopg2.Error as e:
            return internet_error.ConnectionLost(str(e))

    def connectionLost(self, reason: Any) -> None:
        """Finish txpostgres' bookkeeping, close the socket and tell watchers."""
        super().connectionLost(reason)
        raw = self._connection
        if raw is not None and not raw.closed:
            self.reactor.removeReader(self)
            self.reactor.removeWriter(self)
            raw.close()
        self._mark_lost()

    def _mark_lost(self) -> None:
        if self._lost:
            return
        self._lost = True
        waiters, self._lost_waiters = self._lost_waiters, []
        for d in waiters:
            d.callback(None)


def time_limited(
    conn: WatchedConnection,
    d: Deferred[Any],
    seconds: float,
    *,
    on_cancel: Callable[[], None] | None = None,
) -> Deferred[Any]:
    """Wrap ``d`` so that silence past ``seconds`` aborts ``conn``; so does
    cancellation, unless ``on_cancel`` is given (it is called instead).

    The statement is never cancelled through txpostgres, whose canceller calls
    the blocking ``PQcancel`` on the reactor thread.
    """
    result: Deferred[Any] = Deferred(
        lambda _: on_cancel() if on_cancel else conn.abort(CancelledError())
    )
    timer = conn.reactor.callLater(
        seconds,
        conn.abort,
        DatabaseUnavailable(f"PostgreSQL did not answer within {seconds:g} s"),
    )

    def forward(outcome: Any) -> None:
        if timer.active():
            timer.cancel()
        if result.called:
            return
        if not isinstance(outcome, Failure):
            result.callback(outcome)
        elif conn.abort_reason is not None:
            result.errback(Failure(conn.abort_reason))
        else:
            result.errback(outcome)

    d.addBoth(forward)
    return result


class Cursor:
    """What an interaction receives: statements on one connection, rows as dicts."""

    log = Logger()

    def __init__(self, *, conn: WatchedConnection, timeout_seconds: float) -> None:
        self._conn = conn
        self._cursor: TxCursor | None = None
        self._timeout_seconds = timeout_seconds

    @property
    def prepared_names(self) -> set[str]:
        """The names of the statements prepared on this connection."""
        return self._conn.prepared

    async def execute(self, sql: str, params: Any = None) -> None:
        """Run one statement.

        :raises DatabaseUnavailable: the connection was lost, the server did not
            answer in time, the server cancelled the statement
            (``statement_timeout``), or another psycopg2 OperationalError.
        """
        if self._conn.dead:
            raise DatabaseUnavailable("The database connection was lost")
        if self._cursor is None:
            self._cursor = self._conn.cursor()
        d = self._cursor.execute(sql, params)
        # Fires with [the statement's outcome] (a Failure as a value).
        ended: Deferred[list[Any]] = Deferred()
        d.addBoth(_passing_to, ended)
        cancels: list[Deferred[None]] = []
        try:
            await time_limited(
                self._conn,
                d,
                self._timeout_seconds,
                on_cancel=lambda: cancels.append(self._cancel_statement()),
            )
        except CancelledError:
            if cancels:  # the caller gave up: end the statement, keep the connection
                await self._statement_cancelled(cancels[0], ended)
                raise
            if isinstance(self._conn.abort_reason, CancelledError):
                raise
            # txpostgres turns the server's QueryCanceledError into this.
            raise DatabaseUnavailable("PostgreSQL cancelled the statement") from None
        except (psycopg2.OperationalError, psycopg2.InterfaceError, *_LOST) as e:
            if _kills_connection(e):
                self._conn.abort(DatabaseUnavailable("The connection was lost"))
            raise DatabaseUnavailable(f"Database error: {str(e).strip()}") from e

    def _cancel_statement(self) -> Deferred[None]:
        """Ask the server to cancel the running statement: libpq's cancel,
        which blocks until the server took the request, on a thread."""
        raw = self._conn._connection
        reactor = self._conn.reactor
        if raw is None or not hasattr(reactor, "getThreadPool"):
            self._conn.abort(CancelledError())
            return succeed(None)
        return deferToThreadPool(reactor, reactor.getThreadPool(), raw.cancel)

    async def _statement_cancelled(
        self, cancel: Deferred[None], ended: Deferred[list[Any]]
    ) -> None:
        """Wait for the cancel request and the statement's end (in time),
        so the connection goes back to the pool idle; drop it otherwise."""
        waited = time_limited(self._conn, _both(cancel, ended), self._timeout_seconds)
        try:
            (outcome,) = await waited
        except Exception as e:
            if not self._conn.dead:
                self._conn.abort(DatabaseUnavailable("Cancelling a statement failed"))
            outcome = e
        self.log.debug(
            "Cancelled the statement of a cancelled call: {error}",
            error=_describe(outcome),
        )

    def fetchall(self) -> list[Row]:
        """Return the remaining rows of the last statement as dicts.

        A statement that returns no rows (INSERT without RETURNING) gives [].
        """
        cursor = self._executed()
        if cursor.description is None:
            return []
        names = self._names(cursor)
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def fetchone(self) -> Row | None:
        """Return the next row of the last statement as a dict, or None."""
        cursor = self._executed()
        if cursor.description is None:
            return None
        row = cursor.fetchone()
        return None if row is None else dict(zip(self._names(cursor), row, strict=True))

    @property
    def rowcount(self) -> int:
        """The number of rows the last statement returned or changed."""
        return int(self._executed().rowcount)

    async def _rollback(self) -> None:
        """Roll back; if that fails, close the connection so it is replaced."""
        if self._conn.dead:
            return
        try:
            await self.execute("ROLLBACK")
        except (DatabaseUnavailable, psycopg2.Error) as e:
            self.log.warn(  # noqa: G010 (twisted.logger has no .warning)
                "ROLLBACK failed, dropping the connection: {error}", error=e
            )
            self._conn.abort(DatabaseUnavailable("ROLLBACK failed"))

    def _executed(self) -> TxCursor:
        if self._cursor is None:
            raise RuntimeError("No statement has been executed on this cursor")
        return self._cursor

    @staticmethod
    def _names(cursor: TxCursor) -> list[str]:
        return [column.name for column in cursor.description or ()]


async def _both_coroutine(
    cancel: Deferred[None], ended: Deferred[list[Any]]
) -> list[Any]:
    await cancel
    return await ended


def _both(cancel: Deferred[None], ended: Deferred[list[Any]]) -> Deferred[list[Any]]:
    """The statement's outcome (a Failure as a value) once ``cancel`` is done."""
    return Deferred.fromCoroutine(_both_coroutine(cancel, ended))


def _describe(outcome: Any) -> str:
    if isinstance(outcome, Failure):
        outcome = outcome.value
    if isinstance(outcome, CancelledError):  # txpostgres' QueryCanceledError
        return "the server cancelled it"
    if isinstance(outcome, BaseException):
        return f"{type(outcome).__name__}: {str(outcome).strip()}"
    return "it had ended before"


def _passing_to(outcome: Any, ended: Deferred[list[Any]]) -> Any:
    """Fire ``ended`` with ``[outcome]`` and pass ``outcome`` on."""
    ended.callback([outcome])
    return outcome
