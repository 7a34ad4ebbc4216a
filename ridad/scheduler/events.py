"""Koji's bus events as hints: an event about a task, build, tag or repo that
ridad tracks makes the scheduler poll now. Koji stays the truth, and the
polling loop stays the safety net, so a lost or unknown event costs nothing
but time."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from twisted.logger import Logger

from ridad.bus.events import KojiEvent, parse_fedora_message, parse_koji_message


class KojiEventListener:
    """Turns bus messages of one subscription into polls."""

    log = Logger()

    def __init__(
        self,
        *,
        format: str,
        tracked_tasks: Callable[[], frozenset[int]],
        tracked_tags: Callable[[], frozenset[str]],
        poke: Callable[[], None],
    ) -> None:
        self._format = format
        self._tracked_tasks = tracked_tasks
        self._tracked_tags = tracked_tags
        self._poke = poke
        self.received = 0
        self.matched = 0
        self.dropped = 0

    def handle(self, destination: str, headers: Mapping[str, str], body: bytes) -> None:
        """Parse one message; poll now when it concerns a tracked object."""
        self.received += 1
        try:
            if self._format == "fedora":
                event = parse_fedora_message(destination, body)
            else:
                event = parse_koji_message(destination, headers, body)
        except ValueError as e:
            self.dropped += 1
            self.log.warn(
                "Dropped a malformed Koji event from {destination}: {reason}",
                destination=destination,
                reason=str(e),
            )
            return
        if event is None:
            return
        if self.concerns_us(event):
            self.matched += 1
            self.log.debug(
                "Koji {kind} event for task {koji_task_id}: polling now",
                kind=event.kind,
                koji_task_id=event.task_id,
            )
            self._poke()

    def concerns_us(self, event: KojiEvent) -> bool:
        """Whether ``event`` is about a task or tag of an active build."""
        tasks = self._tracked_tasks()
        if event.task_id is not None and event.task_id in tasks:
            return True
        if event.parent_task_id is not None and event.parent_task_id in tasks:
            return True
        return event.tag is not None and event.tag in self._tracked_tags()
