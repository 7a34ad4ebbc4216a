"""Prepared statements (ridad/db/runs.py): planned once per connection,
and run unprepared for good once the server forgets them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_twisted
from twisted.internet import reactor

from ridad.db.pool import Pool
from ridad.db.runs import Prepared
from tests.db.statements import StatementLog

STATEMENT = Prepared("SELECT %s::int + %s::int AS sum, 'x' AS text", ("int", "int"))


@pytest_twisted.async_yield_fixture
async def one(database_dsn: str) -> AsyncIterator[Pool]:
    """A pool of one connection, so every use meets the same one."""
    started = Pool(dsn=database_dsn, reactor=reactor, size=1)
    await started.start()
    yield started
    await started.close()


def test_names_and_texts() -> None:
    assert STATEMENT.name.startswith("ridad_") and len(STATEMENT.name) == 22
    assert STATEMENT.prepare_sql() == (
        f"PREPARE {STATEMENT.name} (int, int) AS SELECT $1::int + $2::int AS sum,"
        " 'x' AS text"
    )
    assert STATEMENT.execute_sql() == f"EXECUTE {STATEMENT.name} (%s, %s)"
    assert Prepared("SELECT 2", ()).name != Prepared("SELECT 1", ()).name


@pytest_twisted.ensureDeferred
async def test_prepared_once_per_connection(one: Pool) -> None:
    log = StatementLog(raw=True).install(one)
    assert await one.run_prepared(STATEMENT, (1, 2)) == [{"sum": 3, "text": "x"}]
    assert await one.run_prepared(STATEMENT, (3, 4)) == [{"sum": 7, "text": "x"}]
    first, second = log.uses
    assert [s.split()[0] for s in first] == ["PREPARE", "EXECUTE"]
    assert [s.split()[0] for s in second] == ["EXECUTE"]


@pytest_twisted.ensureDeferred
async def test_a_forgotten_statement_runs_unprepared_from_then_on(one: Pool) -> None:
    await one.run_prepared(STATEMENT, (1, 2))
    await one.run_operation("DEALLOCATE ALL")
    log = StatementLog(raw=True).install(one)
    assert await one.run_prepared(STATEMENT, (5, 6)) == [{"sum": 11, "text": "x"}]
    assert await one.run_prepared(STATEMENT, (1, 1)) == [{"sum": 2, "text": "x"}]
    assert [s.split()[0] for use in log.uses for s in use] == [
        "EXECUTE",
        "SELECT",
        "SELECT",
    ]


@pytest_twisted.ensureDeferred
async def test_prepared_by_another_process_of_the_same_text(one: Pool) -> None:
    """A statement of the same name already there (a pooler's backend) is
    the same text: it is used."""
    await one.run_operation(STATEMENT.prepare_sql())
    assert await one.run_prepared(STATEMENT, (2, 2)) == [{"sum": 4, "text": "x"}]
