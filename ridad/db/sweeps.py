"""Pool reads of the leader's sweeps: builds stuck without progress, builds
whose Koji target is due for deletion, failed builds due for garbage
collection. The writes are in ``ridad.db.life_writes``."""

from __future__ import annotations

from datetime import datetime

from ridad.db.build_rows import (
    MODULE_COLUMNS,
    builds_with_components,
    module_build_from_row,
)
from ridad.db.pool import Pool
from ridad.domain.builds import ComponentBuild, ModuleBuild

__all__ = ["SweepStore"]

#: How many builds one sweep takes on at most (the rest wait for the next).
SWEEP_LIMIT = 100

#: A component Koji may still be working on: building, or submitted with
#: the answer not yet recorded.
_OPEN_COMPONENT = (
    "SELECT 1 FROM component_builds c WHERE c.module_build_id = m.id"
    " AND (c.state = 'building' OR (c.state = 'waiting'"
    " AND c.submitted_at IS NOT NULL))"
)
#: When the build left ``build``: its newest move to done or failed.
_ENDED_AT = (
    "COALESCE((SELECT max(t.time) FROM state_trace t"
    " WHERE t.module_build_id = m.id AND t.component_build_id IS NULL"
    " AND t.new_state IN ('done', 'failed')), m.time_modified)"
)

Built = list[tuple[ModuleBuild, list[ComponentBuild]]]


class SweepStore:
    """The reads of the sweeps, on the pool."""

    def __init__(self, *, pool: Pool) -> None:
        self._pool = pool

    async def stuck_builds(self, *, since: datetime) -> Built:
        """Builds in init, wait or build that, like each of their components,
        have not changed state since ``since``; with their components."""
        return await self._pool.run_interaction(
            builds_with_components,
            f"SELECT {MODULE_COLUMNS} FROM module_builds m"
            " WHERE m.state IN ('init', 'wait', 'build') AND m.time_modified < %s"
            " AND NOT EXISTS (SELECT 1 FROM component_builds c"
            " WHERE c.module_build_id = m.id AND c.time_modified >= %s)"
            " ORDER BY m.id LIMIT %s",
            (since, since, SWEEP_LIMIT),
        )

    async def targets_due(self, *, ended_before: datetime) -> list[ModuleBuild]:
        """Ended builds (done, ready, failed, garbage) that left ``build``
        before ``ended_before``, whose target is not known to be deleted, and
        that Koji has no open task of."""
        rows = await self._pool.run_query(
            f"SELECT {MODULE_COLUMNS} FROM module_builds m"
            " WHERE m.target_deleted_at IS NULL"
            " AND m.state IN ('done', 'ready', 'failed', 'garbage')"
            f" AND {_ENDED_AT} < %s AND NOT EXISTS ({_OPEN_COMPONENT})"
            " ORDER BY m.id LIMIT %s",
            (ended_before, SWEEP_LIMIT),
        )
        return [module_build_from_row(r) for r in rows]

    async def garbage_due(self, *, failed_before: datetime) -> Built:
        """Failed builds last changed before ``failed_before`` that Koji has
        no open task of; with their components."""
        return await self._pool.run_interaction(
            builds_with_components,
            f"SELECT {MODULE_COLUMNS} FROM module_builds m"
            " WHERE m.state = 'failed' AND m.time_modified < %s"
            f" AND NOT EXISTS ({_OPEN_COMPONENT}) ORDER BY m.id LIMIT %s",
            (failed_before, SWEEP_LIMIT),
        )
