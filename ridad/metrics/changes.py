"""State changes counted once the transaction that wrote them has committed.

``ridad.transitions`` notes each change it announces against the cursor of
its transaction (:meth:`ChangeCounter.note`) and runs its transactions
through :meth:`ChangeCounter.run`, which counts what a transaction noted
when it commits and forgets it when it rolls back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from prometheus_client import Counter

__all__ = ["ChangeCounter", "Kind"]

Kind = Literal["module", "component"]
#: Runs ``fn(cursor, *args)`` in one transaction (``Pool.run_interaction``).
RunInteraction = Callable[..., Awaitable[Any]]


class ChangeCounter:
    """Counts committed module and component state changes by from/to."""

    def __init__(self, *, module: Counter, component: Counter) -> None:
        self._counters = {"module": module, "component": component}
        self._noted: dict[object, list[tuple[Kind, str, str]]] = {}

    def note(self, cursor: object, kind: Kind, old: str | None, new: str) -> None:
        """A change written with ``cursor``, counted if its transaction
        commits; ``old`` None is a creation (``from="none"``); a write that
        keeps the state is no change."""
        if old != new:
            self._noted.setdefault(cursor, []).append((kind, old or "none", new))

    async def run(self, run_interaction: RunInteraction, fn: Any, *args: Any) -> Any:
        """``run_interaction(fn, *args)``, counting what it noted once it
        committed."""
        cursors: list[object] = []

        async def interaction(cursor: object, *more: Any) -> Any:
            cursors.append(cursor)
            return await fn(cursor, *more)

        try:
            result = await run_interaction(interaction, *args)
        except BaseException:
            for cursor in cursors:
                self._noted.pop(cursor, None)
            raise
        for cursor in cursors:
            for kind, old, new in self._noted.pop(cursor, ()):
                self._counters[kind].labels(old, new).inc()
        return result
