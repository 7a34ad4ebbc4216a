"""Every metric ridad exports, in one registry that belongs to one
:class:`Metrics` object (never prometheus_client's global default registry:
a test may build many daemons in one process).

Names start with ``ridad_`` and carry their unit (``_seconds``, ``_total``).
Label values come from small fixed sets: states, Koji method names and
fault codes, leader job names, git subcommands, route templates and HTTP
statuses; never an id, a path or a user name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from ridad import __version__
from ridad.metrics.changes import ChangeCounter
from ridad.metrics.events import EventLatency

__all__ = ["CONTENT_TYPE", "DatabaseReadings", "Metrics"]

#: The Content-Type of ``GET /metrics``.
CONTENT_TYPE = CONTENT_TYPE_LATEST

KOJI_SECONDS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
CYCLE_SECONDS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
CYCLE_TASKS = (0, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
EVENT_SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
GIT_SECONDS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
API_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
POOL_WAIT_SECONDS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30)


@dataclass(frozen=True)
class DatabaseReadings:
    """What ``GET /metrics`` reads from the database just before answering."""

    builds_by_state: Mapping[str, int] = field(default_factory=dict)
    components_in_koji: int = 0
    outbox_unsent: int = 0
    #: Seconds since the oldest unsent outbox message was written (0: none).
    outbox_oldest_unsent_age_seconds: float = 0.0


class _DatabaseCollector:
    """The gauges of one scrape's database reading; only ``ridad_database_up
    0`` without one (a failed read leaves them out rather than repeat stale
    values)."""

    def __init__(self, readings: DatabaseReadings | None) -> None:
        self.readings = readings

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "ridad_database_up",
            "1 when this scrape read the database values, 0 when that failed",
            value=0 if self.readings is None else 1,
        )
        yield up
        r = self.readings
        if r is None:
            return
        builds = GaugeMetricFamily(
            "ridad_module_builds", "Module builds by state", labels=["state"]
        )
        for state, count in sorted(r.builds_by_state.items()):
            builds.add_metric([state], count)
        yield builds
        yield GaugeMetricFamily(
            "ridad_component_builds_in_koji",
            "Component builds in state building with a Koji task",
            value=r.components_in_koji,
        )
        yield GaugeMetricFamily(
            "ridad_outbox_unsent_messages",
            "Bus messages written to the outbox and not yet sent",
            value=r.outbox_unsent,
        )
        yield GaugeMetricFamily(
            "ridad_outbox_oldest_unsent_age_seconds",
            "Age of the oldest unsent outbox message (0 when none)",
            value=r.outbox_oldest_unsent_age_seconds,
        )


class Metrics:
    """ridad's instruments and the registry that holds them.

    Each attribute is a prometheus_client metric (or a helper around one);
    the code that does the work observes it where the work happens.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        r = self.registry
        Gauge("ridad_info", "ridad's version", ["version"], registry=r).labels(
            __version__
        ).set(1)
        self.module_state_changes = Counter(
            "ridad_module_state_changes_total",
            "Module build state changes this process committed (from none: created)",
            ["from", "to"],
            registry=r,
        )
        self.component_state_changes = Counter(
            "ridad_component_state_changes_total",
            "Component build state changes this process committed",
            ["from", "to"],
            registry=r,
        )
        self.changes = ChangeCounter(
            module=self.module_state_changes, component=self.component_state_changes
        )
        self.koji_request_seconds = Histogram(
            "ridad_koji_request_seconds",
            "Koji hub HTTP round trips by XML-RPC method (multiCall: a whole"
            " multicall), failed ones included",
            ["method"],
            buckets=KOJI_SECONDS,
            registry=r,
        )
        self.koji_faults = Counter(
            "ridad_koji_faults_total",
            "Koji faults by method and faultCode (inside multicalls too)",
            ["method", "fault_code", "fault_name"],
            registry=r,
        )
        self.koji_transport_errors = Counter(
            "ridad_koji_transport_errors_total",
            "Koji round trips that failed without a fault (connection trouble,"
            " timeout, an HTTP error status, ServerOffline)",
            ["method"],
            registry=r,
        )
        self.koji_multicall_calls = Counter(
            "ridad_koji_multicall_calls_total",
            "Calls sent inside multiCall requests, by method",
            ["method"],
            registry=r,
        )
        self._leader_instruments(r)
        self._other_instruments(r)

    def _leader_instruments(self, r: CollectorRegistry) -> None:
        self.cycle_seconds = Histogram(
            "ridad_leader_cycle_seconds",
            "Duration of the leader's poll cycles, by job (builds, outbox)",
            ["job"],
            buckets=CYCLE_SECONDS,
            registry=r,
        )
        self.cycle_failures = Counter(
            "ridad_leader_cycle_failures_total",
            "Leader poll cycles that failed, by job",
            ["job"],
            registry=r,
        )
        self.cycle_tasks = Histogram(
            "ridad_builds_cycle_tasks",
            "Koji tasks one builds cycle asked Koji about",
            buckets=CYCLE_TASKS,
            registry=r,
        )
        self.leader = Gauge(
            "ridad_leader", "1 while this process is the active scheduler", registry=r
        )
        self.lease_epoch = Gauge(
            "ridad_lease_epoch",
            "The lease epoch this process holds as the active scheduler (0: none)",
            registry=r,
        )
        self.event_to_change_seconds = Histogram(
            "ridad_koji_event_to_change_seconds",
            "From a Koji bus event about a tracked task to the committed change"
            " it caused",
            buckets=EVENT_SECONDS,
            registry=r,
        )
        self.events = EventLatency(self.event_to_change_seconds)

    def _other_instruments(self, r: CollectorRegistry) -> None:
        self.git_seconds = Histogram(
            "ridad_git_command_seconds",
            "git commands by subcommand and outcome (ok, failed, timeout, or"
            " why ridad stopped it)",
            ["command", "outcome"],
            buckets=GIT_SECONDS,
            registry=r,
        )
        self.api_seconds = Histogram(
            "ridad_api_request_seconds",
            "API requests by method, route template and status",
            ["method", "route", "status"],
            buckets=API_SECONDS,
            registry=r,
        )
        self.pool_wait_seconds = Histogram(
            "ridad_db_pool_wait_seconds",
            "Waits for a free database connection (calls that found none idle)",
            buckets=POOL_WAIT_SECONDS,
            registry=r,
        )
        self.pool_waiting = Gauge(
            "ridad_db_pool_waiting",
            "Calls waiting for a free database connection now",
            registry=r,
        )

    def set_leader(self, epoch: int | None) -> None:
        """This process became the active scheduler under ``epoch``, or
        stopped being it (None)."""
        self.leader.set(0 if epoch is None else 1)
        self.lease_epoch.set(epoch or 0)

    def exposition(self, readings: DatabaseReadings | None) -> bytes:
        """The text of ``GET /metrics``, with this scrape's database
        ``readings`` (None: the read failed). Safe in any thread."""
        database = CollectorRegistry(auto_describe=False)
        database.register(_DatabaseCollector(readings))
        return generate_latest(database) + generate_latest(self.registry)
