"""What one use of a pooled connection runs: a statement, a prepared
statement, or a transaction around an interaction (``Pool``'s bodies).

A ``Prepared`` statement is planned once per connection (``PREPARE`` the
first time a connection runs it, ``EXECUTE`` after), which saves
PostgreSQL its planning on the hottest reads: for a single build's view
that was about half of the server's time. Its name carries a hash of its
text, so processes of different versions never mistake each other's. If
the server does not keep it (a pooler that hands each statement to another
backend), the statement runs unprepared from then on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from psycopg2 import errors as pg_errors

from ridad.db.connection import Cursor, Row
from ridad.errors import DatabaseUnavailable

__all__ = [
    "KNOWN",
    "NotKept",
    "Prepared",
    "operation",
    "prepared",
    "query",
    "transaction",
]

T = TypeVar("T")


#: Every ``Prepared`` made, by name (what an ``EXECUTE`` in a log runs).
KNOWN: dict[str, Prepared] = {}


class NotKept(Exception):
    """The server did not keep a statement this connection prepared."""


@dataclass(frozen=True)
class Prepared:
    """A statement with ``%s`` placeholders that pools prepare per connection.

    ``types`` are the PostgreSQL types of its parameters, in order.
    """

    sql: str
    types: tuple[str, ...]
    name: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha1(self.sql.encode(), usedforsecurity=False)
        object.__setattr__(self, "name", f"ridad_{digest.hexdigest()[:16]}")
        KNOWN[self.name] = self

    def prepare_sql(self) -> str:
        """``PREPARE`` of the statement, ``$n`` in place of its ``%s``."""
        text = self.sql
        for index in range(1, len(self.types) + 1):
            text = text.replace("%s", f"${index}", 1)
        return f"PREPARE {self.name} ({', '.join(self.types)}) AS {text}"

    def execute_sql(self) -> str:
        """``EXECUTE`` of the statement, with ``%s`` for its parameters."""
        marks = ", ".join("%s" for _ in self.types)
        return f"EXECUTE {self.name} ({marks})" if marks else f"EXECUTE {self.name}"


async def query(cursor: Cursor, sql: str, params: Any) -> list[Row]:
    await cursor.execute(sql, params)
    return cursor.fetchall()


async def operation(cursor: Cursor, sql: str, params: Any) -> None:
    await cursor.execute(sql, params)


async def prepared(
    cursor: Cursor, statement: Prepared, params: Sequence[Any]
) -> list[Row]:
    """Run ``statement``, preparing it first on this connection.

    :raises NotKept: the server forgot it (it ran unprepared then).
    """
    done = cursor.prepared_names
    if statement.name not in done:
        try:
            await cursor.execute(statement.prepare_sql())
        except pg_errors.DuplicatePreparedStatement:
            pass
        done.add(statement.name)
    try:
        return await query(cursor, statement.execute_sql(), params)
    except (pg_errors.InvalidSqlStatementName, DatabaseUnavailable) as e:
        cause = e if isinstance(e, pg_errors.Error) else e.__cause__
        if not isinstance(cause, pg_errors.InvalidSqlStatementName):
            raise
        done.clear()
        raise NotKept(statement.name) from None


async def transaction(
    cursor: Cursor, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any
) -> T:
    await cursor.execute("BEGIN")
    try:
        result = await fn(cursor, *args, **kwargs)
    except BaseException:
        await cursor._rollback()
        raise
    await cursor.execute("COMMIT")
    return result
