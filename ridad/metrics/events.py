"""The latency from a Koji bus event to the change it caused.

The listener notes when an event about a tracked task arrived
(:meth:`EventLatency.arrived`). The next poll of Koji asks about every open
task; a change it commits for that task is observed from the event's
arrival (:meth:`EventLatency.changed`), and once the poll is over every
event that arrived before it asked Koji is answered, changed or not
(:meth:`EventLatency.answered_before`): an event that caused no change is
never matched with a later one.
"""

from __future__ import annotations

from collections.abc import Collection

from prometheus_client import Histogram

__all__ = ["MAX_PENDING", "EventLatency"]

#: Unanswered events remembered at most (the oldest is forgotten first).
MAX_PENDING = 10_000


class EventLatency:
    """Arrival times of unanswered events, by Koji task id."""

    def __init__(self, histogram: Histogram) -> None:
        self._histogram = histogram
        self._arrived: dict[int, float] = {}

    @property
    def pending(self) -> int:
        """How many events wait for their poll."""
        return len(self._arrived)

    def arrived(self, task_id: int, now: float) -> None:
        """An event about task ``task_id`` arrived at ``now`` (an earlier
        unanswered one for the task keeps its time)."""
        if task_id in self._arrived:
            return
        if len(self._arrived) >= MAX_PENDING:
            del self._arrived[next(iter(self._arrived))]
        self._arrived[task_id] = now

    def changed(self, task_id: int | None, now: float) -> None:
        """A change caused by task ``task_id`` (None: no task) committed at
        ``now``."""
        arrived = self._arrived.pop(task_id, None) if task_id is not None else None
        if arrived is not None:
            self._histogram.observe(max(0.0, now - arrived))

    def answered_before(
        self, asked: float, task_ids: Collection[int] | None = None
    ) -> None:
        """A poll that asked Koji at ``asked`` is over: forget the events
        that arrived before then (only those about ``task_ids``, when the
        poll asked about these alone)."""
        for task_id, arrived in list(self._arrived.items()):
            if arrived <= asked and (task_ids is None or task_id in task_ids):
                del self._arrived[task_id]
