"""The ``scheduler_leases`` table and the scheduler's advisory lock.

Exactly one ridad process per database drives builds. It is the one that
holds a session-level advisory lock (:data:`SCHEDULER_LOCK_KEY`) on a
dedicated connection; PostgreSQL releases the lock when that connection
dies. Each time a process takes the lock it also takes the lease: the
single row of ``scheduler_leases`` gets a new, higher ``epoch``.

The epoch fences a former leader out. Every state-changing scheduler
transaction calls :func:`check_lease` first, which reads the epoch
``FOR SHARE``: a process that lost its lock (a network partition, a killed
backend) but does not know it yet fails with :class:`NotLeader` once another
process has taken a newer epoch, and a :func:`take_lease` waits until the
transactions that already checked the old epoch have ended.
"""

from __future__ import annotations

from datetime import datetime

from ridad.db.pool import Cursor, Pool, Row
from ridad.errors import NotLeader, SchemaError

__all__ = [
    "SCHEDULER_LOCK_KEY",
    "check_lease",
    "current_lease",
    "limit_idle_session",
    "ping",
    "release_scheduler_lock",
    "take_lease",
    "try_scheduler_lock",
]

#: The advisory lock key of the active scheduler ("ridad" + 2; the
#: migrations use "ridad" + 1, see ``ridad.db.schema.MIGRATION_LOCK_KEY``).
SCHEDULER_LOCK_KEY = 0x7269646164_000002


async def take_lease(cursor: Cursor, holder: str, now: datetime) -> int:
    """Start a new lease epoch for ``holder`` and return that epoch.

    Run it inside a transaction, after taking the advisory lock. It waits for
    transactions that hold the row ``FOR SHARE`` (those of the former leader
    that already passed :func:`check_lease`).

    :raises SchemaError: the lease row is missing (migration 002 not applied).
    :raises DatabaseUnavailable: the database went away.
    """
    await cursor.execute(
        "UPDATE scheduler_leases SET epoch = epoch + 1, holder = %s, acquired = %s"
        " WHERE id = 1 RETURNING epoch",
        (holder, now),
    )
    row = cursor.fetchone()
    if row is None:
        raise SchemaError("The scheduler_leases table has no lease row")
    return int(row["epoch"])


async def check_lease(cursor: Cursor, epoch: int) -> None:
    """Check, inside the caller's transaction, that ``epoch`` is still current.

    The lease row stays share-locked until the transaction ends, so no other
    process can take a newer epoch before the caller's writes commit.

    :raises NotLeader: another process has taken the lease since ``epoch``.
    :raises DatabaseUnavailable: the database went away.
    """
    await cursor.execute(
        "SELECT epoch FROM scheduler_leases WHERE id = 1 FOR SHARE",
    )
    row = cursor.fetchone()
    current = None if row is None else int(row["epoch"])
    if current != epoch:
        raise NotLeader(
            f"The scheduler lease is at epoch {current}, not {epoch}: "
            "another process is the active scheduler",
            details={"epoch": epoch, "current_epoch": current},
        )


async def current_lease(pool: Pool) -> Row:
    """Return the lease row: ``epoch``, ``holder`` and ``acquired``.

    ``holder`` and ``acquired`` are None until a process first takes the
    lease; the holder stays recorded after it stops.

    :raises SchemaError: the lease row is missing (migration 002 not applied).
    :raises DatabaseUnavailable: the database cannot be reached.
    """
    rows = await pool.run_query(
        "SELECT epoch, holder, acquired FROM scheduler_leases WHERE id = 1"
    )
    if not rows:
        raise SchemaError("The scheduler_leases table has no lease row")
    return rows[0]


async def try_scheduler_lock(cursor: Cursor) -> bool:
    """Try to take the scheduler's advisory lock for this session, without waiting.

    Run it on a dedicated connection (not in a transaction): the lock lasts
    until :func:`release_scheduler_lock` or until the connection ends. The
    lock is re-entrant, so call it only while not holding it.

    :return: True when this session now holds the lock.
    :raises DatabaseUnavailable: the connection is lost or timed out.
    """
    await cursor.execute(
        "SELECT pg_try_advisory_lock(%s) AS locked", (SCHEDULER_LOCK_KEY,)
    )
    row = cursor.fetchone()
    return bool(row and row["locked"])


async def release_scheduler_lock(cursor: Cursor) -> bool:
    """Release the scheduler's advisory lock held by this session.

    :return: False when this session did not hold it.
    :raises DatabaseUnavailable: the connection is lost or timed out.
    """
    await cursor.execute(
        "SELECT pg_advisory_unlock(%s) AS released", (SCHEDULER_LOCK_KEY,)
    )
    row = cursor.fetchone()
    return bool(row and row["released"])


async def limit_idle_session(cursor: Cursor, seconds: float) -> None:
    """Have the server end this session once it is idle for ``seconds``.

    A process cut off from the server cannot close its lock connection, and
    the server notices a dead client only through its own TCP keepalives
    (hours, by default): until then the lock stays held and nobody takes
    over. With ``idle_session_timeout`` (PostgreSQL 14 and later; older
    servers skip it) the server ends a lock session that stopped sending its
    periodic queries, which releases the lock.

    :raises DatabaseUnavailable: the connection is lost or timed out.
    """
    await cursor.execute(
        "SELECT CASE WHEN current_setting('server_version_num')::integer >= 140000"
        " THEN set_config('idle_session_timeout', %s, false) END",
        (str(max(1, round(seconds * 1000))),),
    )


async def ping(cursor: Cursor) -> None:
    """Run ``SELECT 1`` to prove the connection (and so the lock) is alive.

    :raises DatabaseUnavailable: the connection is lost or timed out.
    """
    await cursor.execute("SELECT 1")
