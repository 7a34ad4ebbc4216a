"""A client that disconnects while its read runs: Klein cancels the route,
the pool cancels the statement on the server and keeps the connection
(real PostgreSQL, the API on loopback)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_twisted
from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol
from twisted.logger import formatEvent, globalLogPublisher

from ridad.db.connection import Cursor
from ridad.db.pool import Pool
from tests.db.documents_rig import Served, serve_apis
from tests.helpers import wait_for

WAITING = (
    "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    " AND datname = current_database() AND (query LIKE 'SELECT id, name, stream%%'"
    " OR query LIKE 'PREPARE ridad_%%' OR query LIKE 'EXECUTE ridad_%%')"
)


@pytest_twisted.async_yield_fixture
async def served(pool: Pool) -> AsyncIterator[Served]:
    """Both APIs over ``pool`` on loopback."""
    async for running in serve_apis(pool):
        yield running


async def _waiting(pool: Pool) -> int:
    return int((await pool.run_query(WAITING))[0]["n"])


@pytest_twisted.ensureDeferred
async def test_a_gone_client_cancels_its_query_and_the_connection_stays(
    served: Served,
) -> None:
    """With ``module_builds`` locked, ``GET /rida/module-builds/1`` waits in
    PostgreSQL; the client hangs up; the waiting statement disappears while
    the lock is still held (cancelled, not finished), and the pool keeps
    every connection it had, with nothing reconnected."""
    pool = served.pool
    connections = {*pool._idle, *pool._busy}
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    locker = await pool.dedicated_connection()
    lock = Cursor(conn=locker, timeout_seconds=30)
    try:
        await lock.execute("BEGIN")
        await lock.execute("LOCK TABLE module_builds IN ACCESS EXCLUSIVE MODE")
        port = int(served.seed_base.rsplit(":", 1)[1])
        client = await connectProtocol(
            TCP4ClientEndpoint(reactor, "127.0.0.1", port), Protocol()
        )
        assert client.transport is not None
        client.transport.write(b"GET /rida/module-builds/1 HTTP/1.1\r\nHost: x\r\n\r\n")
        await wait_for(lambda: _waiting(pool), 10, reactor)
        client.transport.abortConnection()
        await wait_for(lambda: _waiting_none(pool), 10, reactor)
        await lock.execute("ROLLBACK")
    finally:
        locker.close()
        globalLogPublisher.removeObserver(events.append)
    assert {*pool._idle, *pool._busy} == connections
    assert not any(c.dead for c in connections)
    texts = [formatEvent(e) for e in events]
    assert (
        "Cancelled the statement of a cancelled call: the server cancelled it" in texts
    )
    assert not [t for t in texts if "Reconnect" in t]


async def _waiting_none(pool: Pool) -> bool:
    return await _waiting(pool) == 0
