"""Pool reads of the leader's sweeps: builds stuck without progress, builds
whose Koji target is due for deletion, failed builds due for garbage
collection. The writes are in ``ridad.db.life_writes``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ridad.db.build_rows import (
    COMPONENT_COLUMNS,
    MODULE_COLUMNS,
    component_build_from_row,
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
            _builds_with_components,
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
            _builds_with_components,
            f"SELECT {MODULE_COLUMNS} FROM module_builds m"
            " WHERE m.state = 'failed' AND m.time_modified < %s"
            f" AND NOT EXISTS ({_OPEN_COMPONENT}) ORDER BY m.id LIMIT %s",
            (failed_before, SWEEP_LIMIT),
        )


async def _builds_with_components(
    cursor: Any, query: str, params: Sequence[Any]
) -> Built:
    """The builds ``query`` selects, each with its components (by batch, name)."""
    await cursor.execute(query, params)
    builds = [module_build_from_row(r) for r in cursor.fetchall()]
    if not builds:
        return []
    await cursor.execute(
        f"SELECT {COMPONENT_COLUMNS} FROM component_builds"
        " WHERE module_build_id = ANY(%s) ORDER BY module_build_id, batch, name",
        ([b.id for b in builds],),
    )
    by_build: dict[int, list[ComponentBuild]] = {b.id: [] for b in builds}
    for row in cursor.fetchall():
        component = component_build_from_row(row)
        by_build[component.module_build_id].append(component)
    return [(b, by_build[b.id]) for b in builds]
