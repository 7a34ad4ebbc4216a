"""The intent of an import (``import-module``, and the base modules of
``koji.base_module_tags`` at start-up): a module build recorded ``ready``,
with its trace row and its ``module.state.change`` message, in one
transaction.

``ridad.transitions.Transitions`` mixes it in. Nothing else imports this
module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from ridad.db import imports as rows
from ridad.db.build_writes import trace_module
from ridad.db.pool import Pool
from ridad.domain.builds import BuildSnapshot
from ridad.domain.imported_modules import ImportedBuild, ImportOutcome
from ridad.domain.states import ModuleState
from ridad.errors import Conflict

#: The reason of the trace row of an imported build.
IMPORTED_REASON = "imported"


class ImportIntents:
    """Recording an imported module build."""

    # Provided by ``Transitions``.
    _pool: Pool
    _now: Callable[[], datetime]
    _announce: Callable[..., Awaitable[None]]
    _committed: Callable[[], None]
    _transaction: Callable[..., Awaitable[Any]]
    _moved: Callable[[int, ModuleState], None]

    async def import_module_build(self, imported: ImportedBuild) -> ImportOutcome:
        """Record an import as a ``ready`` build: a new row, or the row of
        that NSVC updated in place when it was imported before (a row that
        already holds exactly this import is left alone: no write, no
        message).

        :raises Conflict: ridad built a module of that NSVC (it is no
            import), or a concurrent request recorded it first.
        """
        outcome: ImportOutcome = await self._transaction(
            self._import, imported, self._now()
        )
        if outcome.changed:
            self._committed()
            self._moved(outcome.build.build.id, ModuleState.READY)
        return outcome

    async def _import(
        self, cursor: Any, imported: ImportedBuild, now: datetime
    ) -> ImportOutcome:
        module = imported.module
        key = (module.name, module.stream, module.version, module.context)
        existing = await rows.find_imported_nsvc(cursor, key)
        if existing is None:
            written = await rows.insert_imported(cursor, imported, now)
            await trace_module(cursor, written.id, None, "ready", IMPORTED_REASON, now)
            snapshot = BuildSnapshot(written, ())
            await self._announce(cursor, snapshot, now, None)
            return ImportOutcome(snapshot, created=True, changed=True)
        if not existing.imported:
            raise Conflict(
                f"Module build {existing.nsvc} exists (id {existing.id}, state"
                f" {existing.state.label}) and was built by ridad, not imported;"
                " an import cannot replace it: import another version or context",
                details={"id": existing.id, "state": existing.state.label},
            )
        if not imported.differs_from(existing):
            return ImportOutcome(BuildSnapshot(existing, ()), False, changed=False)
        written = await rows.update_imported(cursor, existing.id, imported, now)
        old = existing.state.label
        if existing.state is not ModuleState.READY:
            await trace_module(cursor, written.id, old, "ready", IMPORTED_REASON, now)
        snapshot = BuildSnapshot(written, ())
        await self._announce(cursor, snapshot, now, old)
        return ImportOutcome(snapshot, created=False, changed=True)
