"""The outbox read as a change feed: what the event streams send.

Every state change writes its outbox rows in the transaction that makes it,
and migration 010 makes two promises about them: ids in commit order (a
reader that has seen id N has seen every committed row below N), and a
``NOTIFY ridad_outbox`` at each commit that wrote one. :class:`ChangeStore`
reads rows after an id; :class:`ChangeListener` holds the connection that
LISTENs and tells its owner when something may have changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from ridad.db.connection import Cursor, WatchedConnection
from ridad.db.leases import ping
from ridad.db.pool import Pool
from ridad.errors import ConfigError, DatabaseUnavailable

#: The channel migration 010's trigger notifies.
CHANNEL = "ridad_outbox"

_AFTER = (
    "SELECT o.id, o.topic, o.body, o.module_build_id, b.name"
    " FROM outbox o JOIN module_builds b ON b.id = o.module_build_id"
    " WHERE o.id > %s{where} ORDER BY o.id LIMIT %s"
)


@dataclass(frozen=True)
class Change:
    """One outbox row as a stream event: its id, the bus topic and body,
    and the module build it is about (id and name, for filters)."""

    id: int
    topic: str
    body: Mapping[str, Any]
    module_build_id: int
    name: str


class ChangeStore:
    """Reads of the outbox in id (= commit) order."""

    def __init__(self, *, pool: Pool) -> None:
        self._pool = pool

    async def last_id(self) -> int:
        """The id of the newest outbox row (0 when there is none)."""
        rows = await self._pool.run_query(
            "SELECT coalesce(max(id), 0) AS last FROM outbox"
        )
        return int(rows[0]["last"])

    async def oldest_id(self) -> int | None:
        """The id of the oldest outbox row still kept (None when empty)."""
        rows = await self._pool.run_query("SELECT min(id) AS oldest FROM outbox")
        oldest = rows[0]["oldest"]
        return None if oldest is None else int(oldest)

    async def after(
        self,
        last_id: int,
        *,
        limit: int,
        module_build_id: int | None = None,
        name: str | None = None,
    ) -> list[Change]:
        """Up to ``limit`` rows after ``last_id``, oldest first, of one
        build or of builds of one name when given."""
        where = ""
        params: list[Any] = [last_id]
        if module_build_id is not None:
            where += " AND o.module_build_id = %s"
            params.append(module_build_id)
        if name is not None:
            where += " AND b.name = %s"
            params.append(name)
        rows = await self._pool.run_query(_AFTER.format(where=where), (*params, limit))
        return [Change(**row) for row in rows]


class ChangeListener:
    """A connection of its own that LISTENs on :data:`CHANNEL`.

    ``on_change`` runs at each notification, and also after each
    (re)connection, since notifications sent while no connection listened
    are lost: the owner reads what it has not seen. Every
    ``check_seconds`` the connection is checked (``SELECT 1``) and reopened
    when it died, and ``on_change`` runs once more.
    """

    log = Logger()

    def __init__(
        self,
        *,
        pool: Pool,
        clock: IReactorTime,
        on_change: Callable[[], None],
        check_seconds: float = 5.0,
        query_timeout_seconds: float = 5.0,
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._on_change = on_change
        self._check_seconds = check_seconds
        self._query_timeout_seconds = query_timeout_seconds
        self._conn: WatchedConnection | None = None
        self._loop: LoopingCall | None = None
        self._done: Deferred[Any] | None = None

    @property
    def listening(self) -> bool:
        """Whether a live connection LISTENs now."""
        return self._conn is not None and not self._conn.dead

    def start(self) -> None:
        """Connect and LISTEN now, then check every ``check_seconds``."""
        self._loop = LoopingCall(lambda: Deferred.fromCoroutine(self._check()))
        self._loop.clock = self._clock
        self._done = self._loop.start(self._check_seconds, now=True)
        self._done.addErrback(
            lambda f: self.log.failure("The change listener's loop died", f)
        )

    async def stop(self) -> None:
        """Stop checking and close the connection."""
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self._done is not None:
            await self._done
        self._loop = self._done = None
        conn, self._conn = self._conn, None
        if conn is not None and not conn.dead:
            conn.close()

    async def _check(self) -> None:
        conn = self._conn
        try:
            if conn is not None and not conn.dead:
                await ping(self._cursor(conn))
                # A notification that libpq read along with an answer, but
                # psycopg2 had not parsed yet, leaves the socket quiet: no
                # read event reports it. Reading after each check bounds
                # such a delay to ``check_seconds``.
                self._on_change()
                return
            await self._listen()
        except (DatabaseUnavailable, ConfigError) as e:
            if self._conn is not None:
                self.log.warn(  # noqa: G010 (twisted.logger has no .warning)
                    "The change listener lost its connection: {error}",
                    error=e.message,
                )
            self._drop()

    async def _listen(self) -> None:
        self._drop()
        conn = await self._pool.dedicated_connection()
        self._conn = conn
        conn.addNotifyObserver(lambda notify: self._on_change())
        await self._cursor(conn).execute(f"LISTEN {CHANNEL}")
        self.log.debug("Listening for outbox changes")
        self._on_change()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.dead:
            conn.close()

    def _cursor(self, conn: WatchedConnection) -> Cursor:
        return Cursor(conn=conn, timeout_seconds=self._query_timeout_seconds)
