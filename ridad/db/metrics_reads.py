"""What ``GET /metrics`` reads from the database: module builds by state,
component builds in Koji now, and the outbox's depth and oldest unsent
message, in ONE statement of three aggregates (see
``tests/bench/metrics_scrape.py`` for its plans and time at 10,000 builds)."""

from __future__ import annotations

from datetime import datetime

from ridad.db.pool import Pool
from ridad.domain.states import ModuleState
from ridad.metrics.instruments import DatabaseReadings

__all__ = ["READINGS_SQL", "MetricsStore"]

READINGS_SQL = (
    "SELECT b.builds, c.in_koji, o.unsent, o.oldest_unsent FROM"
    " (SELECT coalesce(json_object_agg(state, n), '{}'::json) AS builds FROM"
    "   (SELECT state, count(*) AS n FROM module_builds GROUP BY state) AS s) AS b,"
    " (SELECT count(*) AS in_koji FROM component_builds"
    "   WHERE state = 'building' AND task_id IS NOT NULL) AS c,"
    " (SELECT count(*) AS unsent, min(created) AS oldest_unsent FROM outbox"
    "   WHERE sent IS NULL) AS o"
)


class MetricsStore:
    """The database values of a scrape, on the pool."""

    def __init__(self, *, pool: Pool) -> None:
        self._pool = pool

    async def readings(self, now: datetime) -> DatabaseReadings:
        """Read them; every module state is present (0 when no build has it).

        :raises DatabaseUnavailable: the database did not answer.
        """
        (row,) = await self._pool.run_query(READINGS_SQL)
        builds = {state.label: 0 for state in ModuleState}
        builds.update({state: int(n) for state, n in row["builds"].items()})
        oldest: datetime | None = row["oldest_unsent"]
        return DatabaseReadings(
            builds_by_state=builds,
            components_in_koji=int(row["in_koji"]),
            outbox_unsent=int(row["unsent"]),
            outbox_oldest_unsent_age_seconds=(
                max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
            ),
        )
