"""Bus events as hints: an event about a task, build, tag or repo that ridad
tracks makes the scheduler poll now, and a Greenwave decision update about a
done build makes it ask Greenwave again now. Koji and Greenwave stay the
truth, and the polling loop stays the safety net, so a lost or unknown event
costs nothing but time."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from twisted.logger import Logger

from ridad.bus.events import KojiEvent, parse_fedora_message, parse_koji_message
from ridad.bus.greenwave_events import DecisionUpdate, parse_greenwave_message
from ridad.bus.subscriptions import Subscription
from ridad.config.model import MessagingConfig
from ridad.scheduler.driver import BuildDriver
from ridad.scheduler.gating import GreenwaveGate


class KojiEventListener:
    """Turns bus messages of one subscription into polls; ``noted`` is told
    the task of each event about a tracked task (the driver's latency),
    ``hint`` each event that concerns us (the builds of the next light pass)."""

    log = Logger()

    def __init__(
        self,
        *,
        format: str,
        tracked_tasks: Callable[[], frozenset[int]],
        tracked_tags: Callable[[], frozenset[str]],
        poke: Callable[[], None],
        noted: Callable[[int], None] = lambda task_id: None,
        hint: Callable[[KojiEvent], None] = lambda event: None,
    ) -> None:
        self._format = format
        self._hint = hint
        self._noted = noted
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
            if event.task_id is not None and event.task_id in self._tracked_tasks():
                self._noted(event.task_id)
            self._hint(event)
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


class GreenwaveEventListener:
    """Turns Greenwave's decision updates about done builds into new asks."""

    log = Logger()

    def __init__(self, *, gate: GreenwaveGate, poke: Callable[[], None]) -> None:
        self._gate = gate
        self._poke = poke
        self.received = 0
        self.matched = 0
        self.dropped = 0

    def handle(self, destination: str, headers: Mapping[str, str], body: bytes) -> None:
        """Parse one message; ask Greenwave again now when it concerns a done
        build in ridad's decision context."""
        self.received += 1
        try:
            update = parse_greenwave_message(destination, headers, body)
        except ValueError as e:
            self.dropped += 1
            self.log.warn(
                "Dropped a malformed Greenwave message from {destination}: {reason}",
                destination=destination,
                reason=str(e),
            )
            return
        if self._ours(update) and self._gate.ask_again(update.subject_identifier):
            self.matched += 1
            self.log.debug(
                "Greenwave decision update for {nvr}: asking again now",
                nvr=update.subject_identifier,
            )
            self._poke()

    def _ours(self, update: DecisionUpdate) -> bool:
        """Whether ``update`` is in ridad's decision context and subject type."""
        if update.decision_context != self._gate.decision_context:
            return False
        return update.subject_type in (None, self._gate.subject_type)


def event_subscriptions(
    messaging: MessagingConfig | None,
    *,
    driver: BuildDriver,
    gate: GreenwaveGate | None,
    poke: Callable[[], None],
) -> list[Subscription]:
    """The bus subscriptions of ``messaging``, each with its listener:
    Koji's events poke the builds job when they concern a tracked task or
    tag, Greenwave's decision updates when they concern a done build (a
    ``greenwave`` subscription without a gate is left out)."""
    subscriptions = []
    for subscription in messaging.subscriptions if messaging else ():
        listener: KojiEventListener | GreenwaveEventListener
        if subscription.format == "greenwave":
            if gate is None:
                continue
            listener = GreenwaveEventListener(gate=gate, poke=poke)
        else:
            listener = KojiEventListener(
                format=subscription.format,
                tracked_tasks=lambda: driver.tracked_tasks,
                tracked_tags=lambda: driver.tracked_tags,
                poke=poke,
                noted=driver.note_event,
                hint=driver.hint,
            )
        subscriptions.append(Subscription(subscription.destination, listener))
    return subscriptions
