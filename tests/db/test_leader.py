"""Tests for the scheduler lock and lease (ridad.leader.lock, ridad.db.leases).

Every test runs against real PostgreSQL, with the real reactor as the clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import psycopg2.extensions
import pytest
import pytest_twisted
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater

from ridad.db.leases import (
    SCHEDULER_LOCK_KEY,
    check_lease,
    current_lease,
    take_lease,
)
from ridad.db.pool import Cursor, Pool
from ridad.db.schema import migrate
from ridad.errors import NotLeader
from ridad.leader.lock import SchedulerLock
from tests.helpers import PrivateCluster, wait_for
from tests.netproxy import FreezableProxy

RETRY_SECONDS = 0.1
NOW = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


class Recorder:
    """Records the callbacks of one SchedulerLock, in order."""

    def __init__(self, *, fail_first_acquisition: bool = False) -> None:
        self.events: list[tuple[str, int | None]] = []
        self._fail_next = fail_first_acquisition

    def on_acquired(self, epoch: int) -> None:
        """Record an acquisition; fail the first one if asked to."""
        self.events.append(("acquired", epoch))
        if self._fail_next:
            self._fail_next = False
            raise RuntimeError("the scheduler loops could not start")

    async def on_lost(self) -> None:
        """Record a loss (asynchronously, as a real scheduler would stop)."""
        self.events.append(("lost", None))

    @property
    def epochs(self) -> list[int]:
        """The epochs acquired so far."""
        return [epoch for kind, epoch in self.events if kind == "acquired" and epoch]


def _lock(
    pool: Pool,
    holder: str,
    recorder: Recorder,
    retry_seconds: float = RETRY_SECONDS,
    **options: float,
) -> SchedulerLock:
    """A SchedulerLock on the real reactor that reports to ``recorder``."""
    return SchedulerLock(
        pool=pool,
        clock=_reactor(),
        holder=holder,
        retry_seconds=retry_seconds,
        on_acquired=recorder.on_acquired,
        on_lost=recorder.on_lost,
        **options,
    )


async def _pause(seconds: float) -> None:
    """Let the reactor run for ``seconds``."""
    await deferLater(_reactor(), seconds)


async def _lock_holder_pid(pool: Pool) -> int | None:
    """The backend pid holding the scheduler's advisory lock, if any."""
    rows = await pool.run_query(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND classid = %s AND objid = %s AND objsubid = 1 AND database ="
        " (SELECT oid FROM pg_database WHERE datname = current_database())",
        (SCHEDULER_LOCK_KEY >> 32, SCHEDULER_LOCK_KEY & 0xFFFFFFFF),
    )
    return rows[0]["pid"] if rows else None


@pytest_twisted.async_yield_fixture
async def other_pool(database_dsn: str) -> AsyncIterator[Pool]:
    """A second pool on the same database, standing for another ridad process."""
    started = Pool(dsn=database_dsn, reactor=_reactor(), size=2)
    await started.start()
    yield started
    await started.close()


# The lease table


@pytest_twisted.ensureDeferred
async def test_fresh_database_has_lease_epoch_zero_and_no_holder(pool: Pool) -> None:
    """Migration 002 leaves one lease row at epoch 0 with no holder."""
    assert await current_lease(pool) == {"epoch": 0, "holder": None, "acquired": None}


@pytest_twisted.ensureDeferred
async def test_take_lease_increments_the_epoch_and_records_the_holder(
    pool: Pool,
) -> None:
    """Each take_lease returns the next epoch and records who took it, and when."""
    assert await pool.run_interaction(take_lease, "a:1", NOW) == 1
    assert await pool.run_interaction(take_lease, "b:2", NOW) == 2
    assert await current_lease(pool) == {"epoch": 2, "holder": "b:2", "acquired": NOW}


@pytest_twisted.ensureDeferred
async def test_stale_epoch_fails_check_lease_and_rolls_back_the_transaction(
    pool: Pool,
) -> None:
    """check_lease with a superseded epoch raises NotLeader and nothing commits."""
    old = await pool.run_interaction(take_lease, "a:1", NOW)
    new = await pool.run_interaction(take_lease, "b:2", NOW)
    await pool.run_operation("CREATE TABLE scheduler_writes (epoch BIGINT)")

    async def write(cursor: Cursor, epoch: int) -> None:
        await check_lease(cursor, epoch)
        await cursor.execute("INSERT INTO scheduler_writes VALUES (%s)", (epoch,))

    with pytest.raises(NotLeader):
        await pool.run_interaction(write, old)
    await pool.run_interaction(write, new)
    rows = await pool.run_query("SELECT epoch FROM scheduler_writes")
    assert rows == [{"epoch": new}]


@pytest_twisted.ensureDeferred
async def test_take_lease_waits_for_transactions_that_checked_the_old_epoch(
    pool: Pool,
) -> None:
    """A new epoch is issued only after the old leader's checked transaction ends."""
    epoch = await pool.run_interaction(take_lease, "a:1", NOW)
    checked: Deferred[None] = Deferred()
    finish: Deferred[None] = Deferred()

    async def old_leader_write(cursor: Cursor) -> None:
        await check_lease(cursor, epoch)
        checked.callback(None)
        await finish

    writing = Deferred.fromCoroutine(pool.run_interaction(old_leader_write))
    await checked
    taking = Deferred.fromCoroutine(pool.run_interaction(take_lease, "b:2", NOW))
    await _pause(0.3)
    assert not taking.called
    finish.callback(None)
    await writing
    assert await taking == epoch + 1


# One active scheduler


@pytest_twisted.ensureDeferred
async def test_one_of_two_locks_is_active_and_the_other_stands_by(
    pool: Pool, other_pool: Pool
) -> None:
    """Of two SchedulerLocks on one database, one is active and one stands by."""
    first, second = Recorder(), Recorder()
    a = _lock(pool, "host-a:1", first)
    a.startService()
    await wait_for(lambda: a.role == "active", 5, _reactor())
    b = _lock(other_pool, "host-b:2", second)
    b.startService()
    try:
        await _pause(5 * RETRY_SECONDS)
        assert (a.role, b.role) == ("active", "standby")
        assert a.epoch == 1 and b.epoch is None
        assert first.events == [("acquired", 1)] and second.events == []
        lease = await current_lease(pool)
        assert (lease["epoch"], lease["holder"]) == (1, "host-a:1")
    finally:
        await b.stopService()
        await a.stopService()


@pytest_twisted.ensureDeferred
async def test_standby_takes_over_with_a_higher_epoch_when_the_active_stops(
    pool: Pool, other_pool: Pool
) -> None:
    """Stopping the active lock calls on_lost and the standby takes over soon."""
    first, second = Recorder(), Recorder()
    a = _lock(pool, "host-a:1", first)
    a.startService()
    await wait_for(lambda: a.role == "active", 5, _reactor())
    b = _lock(other_pool, "host-b:2", second)
    b.startService()
    try:
        await a.stopService()
        assert a.role == "stopped" and a.epoch is None
        assert first.events == [("acquired", 1), ("lost", None)]
        await wait_for(lambda: b.role == "active", 10 * RETRY_SECONDS, _reactor())
        assert b.epoch == 2
        assert (await current_lease(pool))["holder"] == "host-b:2"
    finally:
        await b.stopService()
    assert second.events == [("acquired", 2), ("lost", None)]


@pytest_twisted.ensureDeferred
async def test_killed_lock_connection_turns_active_to_standby_and_other_takes_over(
    pool: Pool, other_pool: Pool
) -> None:
    """Terminating the active lock's backend calls on_lost; the standby takes over."""
    first, second = Recorder(), Recorder()
    # A long retry interval: the loss must be noticed from the connection
    # itself, and the other lock gets to take over first.
    a = _lock(pool, "host-a:1", first, 60, session_idle_timeout_seconds=120)
    a.startService()
    await wait_for(lambda: a.role == "active", 5, _reactor())
    b = _lock(other_pool, "host-b:2", second)
    b.startService()
    try:
        await _pause(3 * RETRY_SECONDS)
        assert b.role == "standby"
        pid = await _lock_holder_pid(pool)
        assert pid is not None
        await pool.run_query("SELECT pg_terminate_backend(%s)", (pid,))
        await wait_for(lambda: a.role == "standby", 5, _reactor())
        assert first.events == [("acquired", 1), ("lost", None)]
        assert a.epoch is None
        await wait_for(lambda: b.role == "active", 5, _reactor())
        assert b.epoch == 2
        assert await _lock_holder_pid(pool) not in (None, pid)
    finally:
        await b.stopService()
        await a.stopService()
    assert first.events == [("acquired", 1), ("lost", None)]


@pytest_twisted.ensureDeferred
async def test_failing_on_acquired_steps_down_and_tries_again(pool: Pool) -> None:
    """When on_acquired raises, the lock calls on_lost, lets go and retries."""
    recorder = Recorder(fail_first_acquisition=True)
    lock = _lock(pool, "host-a:1", recorder)
    lock.startService()
    try:
        await wait_for(lambda: len(recorder.epochs) == 2, 5, _reactor())
        assert lock.role == "active" and lock.epoch == 2
        assert recorder.events == [("acquired", 1), ("lost", None), ("acquired", 2)]
    finally:
        await lock.stopService()


@pytest_twisted.ensureDeferred
async def test_stop_releases_the_lock_and_leaves_no_delayed_calls(pool: Pool) -> None:
    """After stopService the lock is free and no delayed call of ours is left."""
    before = list(_reactor().getDelayedCalls())
    lock = _lock(pool, "host-a:1", Recorder())
    lock.startService()
    await wait_for(lambda: lock.role == "active", 5, _reactor())
    await _pause(3 * RETRY_SECONDS)
    await lock.stopService()
    assert lock.role == "stopped"
    assert await _lock_holder_pid(pool) is None
    assert [c for c in _reactor().getDelayedCalls() if c not in before] == []


@pytest_twisted.ensureDeferred
async def test_standby_lock_stops_cleanly_without_calling_on_lost(
    pool: Pool, other_pool: Pool
) -> None:
    """Stopping a lock that never became active calls neither callback."""
    before = list(_reactor().getDelayedCalls())
    first, second = Recorder(), Recorder()
    a = _lock(pool, "host-a:1", first)
    a.startService()
    await wait_for(lambda: a.role == "active", 5, _reactor())
    b = _lock(other_pool, "host-b:2", second)
    b.startService()
    await _pause(3 * RETRY_SECONDS)
    await b.stopService()
    await a.stopService()
    assert second.events == []
    assert [c for c in _reactor().getDelayedCalls() if c not in before] == []


@pytest_twisted.ensureDeferred
async def test_lock_survives_a_database_restart_with_a_new_epoch(
    killable_postgres: PrivateCluster,
) -> None:
    """A crashed server makes the lock stand by; once back, it leads again."""
    db_pool = Pool(
        dsn=killable_postgres.dsn,
        reactor=_reactor(),
        size=2,
        connect_timeout_seconds=1,
    )
    await db_pool.start()
    recorder = Recorder()
    lock = _lock(db_pool, "host-a:1", recorder)
    try:
        await migrate(db_pool)
        lock.startService()
        await wait_for(lambda: lock.role == "active", 5, _reactor())
        killable_postgres.stop("immediate")
        await wait_for(lambda: lock.role == "standby", 5, _reactor())
        await _pause(5 * RETRY_SECONDS)
        assert lock.role == "standby"
        killable_postgres.start()
        await wait_for(lambda: lock.role == "active", 20, _reactor())
        assert recorder.events == [("acquired", 1), ("lost", None), ("acquired", 2)]
    finally:
        await lock.stopService()
        await db_pool.close()


@pytest_twisted.ensureDeferred
async def test_partitioned_leader_steps_down_and_the_server_frees_its_lock(
    database_dsn: str, other_pool: Pool
) -> None:
    """A leader cut off from the server stands by, and a standby takes over."""
    params = psycopg2.extensions.parse_dsn(database_dsn)
    proxy = FreezableProxy(params.get("host", "127.0.0.1"), int(params["port"]))
    listening = _reactor().listenTCP(0, proxy, interface="127.0.0.1")
    cut_off_pool = Pool(
        dsn=psycopg2.extensions.make_dsn(
            database_dsn, host="127.0.0.1", port=listening.getHost().port
        ),
        reactor=_reactor(),
        size=1,
        connect_timeout_seconds=0.5,
    )
    await cut_off_pool.start()
    first, second = Recorder(), Recorder()
    options = {"query_timeout_seconds": 0.5, "session_idle_timeout_seconds": 1.0}
    a = _lock(cut_off_pool, "host-a:1", first, retry_seconds=0.2, **options)
    b = _lock(other_pool, "host-b:2", second, retry_seconds=0.2, **options)
    try:
        a.startService()
        await wait_for(lambda: a.role == "active", 5, _reactor())
        b.startService()
        await _pause(0.5)
        assert b.role == "standby"
        await listening.stopListening()
        proxy.freeze()
        await wait_for(lambda: a.role == "standby", 5, _reactor())
        assert first.events == [("acquired", 1), ("lost", None)]
        # The server still sees the frozen session until it has been idle
        # for session_idle_timeout_seconds; then it ends it and frees the lock.
        await wait_for(lambda: b.role == "active", 10, _reactor())
        assert b.epoch == 2
        with pytest.raises(NotLeader):
            await other_pool.run_interaction(check_lease, 1)
    finally:
        await b.stopService()
        await a.stopService()
        await cut_off_pool.close()
        proxy.cut()
