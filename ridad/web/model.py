"""What a build's page shows, worked out from what the store read: its
batches on a time line, each component's times, task link and failure, the
module's state trace. Pure: time comes in as ``now``, nothing is read here."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ridad.db.status_page import BuildPageData
from ridad.domain.builds import ComponentBuild, ModuleBuild, TraceEntry
from ridad.domain.states import ComponentState, ModuleState

#: The width of a batch's bar's axis (the SVG's viewBox units).
AXIS = 1000
#: The narrowest bar drawn, so that a batch of instant work still shows.
MIN_BAR = 6
ENDED_COMPONENT = frozenset(
    {ComponentState.COMPLETE, ComponentState.FAILED, ComponentState.CANCELED}
)
ENDED_MODULE = frozenset(
    {ModuleState.DONE, ModuleState.READY, ModuleState.FAILED, ModuleState.GARBAGE}
)
_LOG_HEADER = re.compile(r"^--- (last \d+ lines of \S+ \(Koji task \d+\)) ---$")


@dataclass(frozen=True)
class KojiLinks:
    """Links into Koji's web UI (``koji.weburl``); without it, none."""

    weburl: str | None = None

    def task(self, task_id: int | None) -> str | None:
        """The page of Koji task ``task_id``."""
        if self.weburl is None or task_id is None:
            return None
        return f"{self.weburl.rstrip('/')}/taskinfo?taskID={task_id}"

    def build(self, build_id: int | None) -> str | None:
        """The page of Koji build ``build_id``."""
        if self.weburl is None or build_id is None:
            return None
        return f"{self.weburl.rstrip('/')}/buildinfo?buildID={build_id}"


@dataclass(frozen=True)
class Failure:
    """A component's reason, split: Koji's first line, and the tail of the
    log ridad read (``ridad.domain.task_logs.reason_with_log``)."""

    summary: str
    log_title: str | None
    log_lines: tuple[str, ...]


def span_seconds(started: datetime | None, ended: datetime | None) -> float | None:
    """Seconds from ``started`` to ``ended``; None unless both are known."""
    if started is None or ended is None:
        return None
    return max(0.0, (ended - started).total_seconds())


@dataclass(frozen=True)
class ComponentRow:
    """One component as its row shows it."""

    id: int
    name: str
    batch: int
    state: str
    nvr: str | None
    task_id: int | None
    task_url: str | None
    build_url: str | None
    started: datetime | None
    ended: datetime | None
    reused: bool
    failure: Failure | None

    @property
    def duration_seconds(self) -> float | None:
        """How long its build took (or is taking, ``ended`` being now)."""
        return span_seconds(self.started, self.ended)


@dataclass(frozen=True)
class Batch:
    """One batch: its components, when its first started and its last
    ended (None while one is unfinished), and its bar on the build's axis."""

    number: int
    components: tuple[ComponentRow, ...]
    started: datetime | None
    ended: datetime | None
    state: str
    bar: tuple[int, int] | None

    @property
    def duration_seconds(self) -> float | None:
        """From its first start to its last end."""
        return span_seconds(self.started, self.ended)


@dataclass(frozen=True)
class BuildPage:
    """A build's page."""

    build: ModuleBuild
    batches: tuple[Batch, ...]
    trace: tuple[TraceEntry, ...]
    final_modulemd: str | None
    koji_build_url: str | None
    counts: tuple[tuple[str, int], ...]
    now: datetime

    @property
    def ended(self) -> bool:
        """Whether the build has stopped moving (but for retirement)."""
        return self.build.state in ENDED_MODULE

    @property
    def duration_seconds(self) -> float:
        """From submission to completion (or to now)."""
        end = self.build.time_completed or self.now
        return max(0.0, (end - self.build.time_submitted).total_seconds())

    @property
    def summary(self) -> str:
        """One line for the live region: state and component counts."""
        total = sum(n for _, n in self.counts)
        parts = ", ".join(f"{n} {label}" for label, n in self.counts)
        return (
            f"Build {self.build.id}, state {self.build.state.label};"
            f" {total} components: {parts or 'none'}"
        )


def build_page(data: BuildPageData, *, links: KojiLinks, now: datetime) -> BuildPage:
    """The page of the build ``data`` holds, as of ``now``."""
    by_component: dict[int, list[TraceEntry]] = {}
    module_trace = []
    for entry in data.trace:
        if entry.component_build_id is None:
            module_trace.append(entry)
        else:
            by_component.setdefault(entry.component_build_id, []).append(entry)
    rows = [
        component_row(c, by_component.get(c.id, ()), links=links, now=now)
        for c in data.components
    ]
    counts: dict[str, int] = {}
    for c in data.components:
        counts[c.state.label] = counts.get(c.state.label, 0) + 1
    order = [s.label for s in ComponentState]
    return BuildPage(
        build=data.build,
        batches=batches(rows, data.build, now=now),
        trace=tuple(module_trace),
        final_modulemd=data.final_modulemd,
        koji_build_url=links.build(data.build.koji_build_id),
        counts=tuple((s, counts[s]) for s in order if s in counts),
        now=now,
    )


def component_row(
    component: ComponentBuild,
    trace: Sequence[TraceEntry],
    *,
    links: KojiLinks,
    now: datetime,
) -> ComponentRow:
    """A component's row; its times come from its trace (the last start of
    a build, the end after it), else from its own columns."""
    started = component.submitted_at
    ended = None
    for entry in trace:
        if entry.new_state == ComponentState.BUILDING.label:
            started, ended = entry.time, None
        elif entry.new_state in {s.label for s in ENDED_COMPONENT}:
            ended = entry.time
        elif entry.new_state == ComponentState.WAITING.label:
            started, ended = None, None
    ended_now = component.state in ENDED_COMPONENT
    if ended_now and ended is None:
        ended = component.time_modified
    if started is not None and not ended_now:
        ended = now
    reused = component.reused_component_id is not None
    failed = component.state in (ComponentState.FAILED, ComponentState.CANCELED)
    return ComponentRow(
        id=component.id,
        name=component.name,
        batch=component.batch,
        state=component.state.label,
        nvr=component.nvr,
        task_id=component.task_id,
        task_url=links.task(component.task_id),
        build_url=links.build(component.koji_build_id),
        started=started,
        ended=ended,
        reused=reused,
        failure=split_reason(component.state_reason) if failed else None,
    )


def split_reason(reason: str | None) -> Failure | None:
    """Koji's reason and the log tail ridad put under it, apart."""
    if not reason:
        return None
    first, *rest = reason.split("\n")
    if rest and (header := _LOG_HEADER.match(rest[0])):
        return Failure(
            summary=first, log_title=header.group(1), log_lines=tuple(rest[1:])
        )
    return Failure(summary=first, log_title=None, log_lines=tuple(rest))


def batches(
    rows: Sequence[ComponentRow], build: ModuleBuild, *, now: datetime
) -> tuple[Batch, ...]:
    """The components by batch, each batch with its times and its bar on
    the axis from the build's submission to its completion (or now)."""
    grouped: dict[int, list[ComponentRow]] = {}
    for row in rows:
        grouped.setdefault(row.batch, []).append(row)
    start = build.time_submitted
    span = max(1.0, ((build.time_completed or now) - start).total_seconds())
    result = [
        _batch(number, grouped[number], start=start, span=span, now=now)
        for number in sorted(grouped)
    ]
    return tuple(result)


def _batch(
    number: int,
    members: Sequence[ComponentRow],
    *,
    start: datetime,
    span: float,
    now: datetime,
) -> Batch:
    starts = [r.started for r in members if r.started is not None]
    ends = [r.ended for r in members if r.ended is not None]
    done = all(r.state in {s.label for s in ENDED_COMPONENT} for r in members)
    first = min(starts, default=None)
    last = max(ends, default=None) if done else None
    bar = None
    if first is not None:
        left = round((first - start).total_seconds() / span * AXIS)
        right = round(((last or now) - start).total_seconds() / span * AXIS)
        left = min(max(0, left), AXIS - MIN_BAR)
        bar = (left, max(MIN_BAR, min(AXIS, right) - left))
    return Batch(
        number=number,
        components=tuple(members),
        started=first,
        ended=last,
        state=batch_state(members),
        bar=bar,
    )


def batch_state(rows: Sequence[ComponentRow]) -> str:
    """A batch's state word: the worst of its components' (failed, then
    building, waiting, canceled, complete)."""
    states = {r.state for r in rows}
    for state in ("failed", "building", "waiting", "canceled", "complete"):
        if state in states:
            return state
    return "waiting"
