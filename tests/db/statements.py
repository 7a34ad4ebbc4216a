"""Recording what a ridad ``Pool`` runs: the statements of each use (one
transaction, or one single-statement query), for tests that count reads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ridad.db.pool import Pool
from ridad.db.runs import KNOWN


@dataclass
class StatementLog:
    """The SQL of each pool use since ``install``, in order."""

    uses: list[list[str]] = field(default_factory=list)
    #: Record ``PREPARE`` and ``EXECUTE`` as sent, not as the SQL they run.
    raw: bool = False

    def install(self, pool: Pool) -> StatementLog:
        """Record every statement ``pool`` runs from now on (its one entry
        point, ``_use``, hands each interaction a recording cursor)."""
        use = pool._use
        log = self

        async def recorded_use(
            fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
        ) -> Any:
            statements: list[str] = []
            log.uses.append(statements)

            async def with_recording_cursor(
                cursor: Any, *rest: Any, **named: Any
            ) -> Any:
                return await fn(
                    _RecordingCursor(cursor, statements, raw=log.raw), *rest, **named
                )

            return await use(with_recording_cursor, *args, **kwargs)

        pool._use = recorded_use  # type: ignore[method-assign]
        return self

    def clear(self) -> None:
        """Forget what was recorded so far."""
        self.uses.clear()

    def statements(self) -> list[str]:
        """Every statement, without BEGIN and COMMIT."""
        return [
            s
            for use in self.uses
            for s in use
            if s.split()[0] not in ("BEGIN", "COMMIT")
        ]

    def reads_of(self, table: str) -> list[str]:
        """The SELECTs that read ``table``."""
        return [
            s
            for s in self.statements()
            if s.startswith("SELECT") and f"FROM {table}" in s
        ]


class _RecordingCursor:
    """A ridad ``Cursor`` that records what it executes; unless ``raw``, a
    prepared statement (ridad/db/runs.py) as its SQL text, once per run
    (its ``PREPARE``, once per connection, is left out)."""

    def __init__(
        self, cursor: Any, statements: list[str], *, raw: bool = False
    ) -> None:
        self._cursor = cursor
        self._statements = statements
        self._raw = raw
        self._texts: dict[str, str] = {}

    async def execute(self, sql: str, params: Any = None) -> None:
        """Record ``sql``, then run it."""
        words = sql.split()
        if self._raw or words[0] not in ("PREPARE", "EXECUTE"):
            self._statements.append(" ".join(words))
        elif words[0] == "EXECUTE":
            known = KNOWN.get(words[1])
            self._statements.append(" ".join((known.sql if known else sql).split()))
        await self._cursor.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)
