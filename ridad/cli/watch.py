"""``rida watch``: poll module builds until each is ready or failed.

On a terminal the progress of every build is redrawn in place (ANSI cursor
movement); piped, one line is printed per change; with ``--json``, the
build's JSON is printed (one line) whenever it changes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from twisted.internet.interfaces import IReactorTime
from twisted.internet.task import deferLater

from ridad.cli.client import MbsClient
from ridad.cli.exits import BUILD_FAILED, OK, ServerError
from ridad.cli.render import (
    COMPONENT_ENDS,
    MODULE_ENDS,
    ComponentRow,
    batch_in_progress,
    duration,
    module_state,
    parse_time,
    progress_line,
    rows_from_components,
    rows_from_tasks,
    title,
)
from ridad.cli.wakeups import EventWakeups

#: How long the server may stay unreachable (or answer 5xx) before giving up.
GIVE_UP_AFTER_SECONDS = 120.0


async def component_rows(
    client: MbsClient, build: dict[str, Any]
) -> list[ComponentRow]:
    """The components of ``build``: ``component-builds/`` (with batches) when
    the server has it, else the build's ``tasks``."""
    components = await client.components(build["id"])
    if components is None:
        return rows_from_tasks(build)
    return rows_from_components(components)


@dataclass
class WatchedBuild:
    """What is known of one watched build, and when its parts were first seen
    starting and ending (for the elapsed times the server does not give)."""

    id: int
    build: dict[str, Any] | None = None
    rows: list[ComponentRow] = field(default_factory=list)
    started: dict[str, float] = field(default_factory=dict)
    ended: dict[str, float] = field(default_factory=dict)
    first_seen: float | None = None

    @property
    def state(self) -> str | None:
        """The module build's state name, once known."""
        return module_state(self.build) if self.build else None

    @property
    def gating_reason(self) -> str | None:
        """Why a done build is not ready yet (Greenwave's reason), if given."""
        if self.state != "done" or self.build is None or self.scratch_done:
            return None
        return self.build.get("state_reason") or None

    @property
    def scratch_done(self) -> bool:
        """A scratch build that is done: it stays there (MBS never makes
        scratch builds ready), so it has ended well."""
        return (
            self.state == "done"
            and self.build is not None
            and self.build.get("scratch") is True
        )

    @property
    def succeeded(self) -> bool:
        """True when the build is ready, or a scratch build is done."""
        return self.state == "ready" or self.scratch_done

    @property
    def finished(self) -> bool:
        """True once the build is ready, failed or garbage (or a done
        scratch build)."""
        return self.state in MODULE_ENDS or self.scratch_done

    def update(
        self, build: dict[str, Any], rows: list[ComponentRow], now: float
    ) -> None:
        """Take a new answer about the build, seen at ``now``."""
        self.build, self.rows = build, rows
        if self.first_seen is None:
            self.first_seen = now
        for row in rows:
            if row.state != "waiting" and row.name not in self.started:
                if row.started is not None or row.state == "building":
                    self.started[row.name] = row.started or now
            if row.state in COMPONENT_ENDS and row.name not in self.ended:
                self.ended[row.name] = row.ended or now

    def elapsed(self, name: str, now: float) -> float | None:
        """Seconds component ``name`` has been (or was) building."""
        start = self.started.get(name)
        if start is None:
            return None
        return self.ended.get(name, now) - start

    def build_elapsed(self, now: float) -> float | None:
        """Seconds since the build was submitted (until it completed)."""
        assert self.build is not None
        start = parse_time(self.build.get("time_submitted")) or self.first_seen
        end = parse_time(self.build.get("time_completed")) if self.finished else None
        return None if start is None else (end or now) - start


class Reporter(Protocol):
    """Shows the watched builds after every poll."""

    def show(
        self, builds: Sequence[WatchedBuild], now: float, problem: str | None
    ) -> None:
        """Show the builds as they are now; ``problem`` says why this poll
        failed (it will be retried), None when it succeeded."""


class TerminalReporter:
    """Redraws every build's progress in place (stdout is a terminal)."""

    def __init__(self, out: IO[str], *, width: int) -> None:
        self._out = out
        self._width = max(width - 1, 20)
        self._lines_shown = 0

    def show(
        self, builds: Sequence[WatchedBuild], now: float, problem: str | None
    ) -> None:
        """Redraw all builds, and the problem of this poll under them."""
        lines: list[str] = []
        for watched in builds:
            lines.extend(_progress_lines(watched, now))
        if problem:
            lines.append(f"({problem}; retrying)")
        self._draw(lines)

    def _draw(self, lines: list[str]) -> None:
        if self._lines_shown:
            # to the start of the first line drawn last time, then clear below
            self._out.write(f"\r\x1b[{self._lines_shown}A\x1b[J")
        for line in lines:
            self._out.write(line[: self._width] + "\n")
        self._out.flush()
        self._lines_shown = len(lines)


def _progress_lines(watched: WatchedBuild, now: float) -> list[str]:
    build = watched.build
    if build is None:
        return [f"build {watched.id}: waiting for the server"]
    elapsed = watched.build_elapsed(now)
    head = f"{title(build)}  {watched.state}"
    if elapsed is not None:
        head += f"  {duration(elapsed)}"
    lines = [head]
    if build.get("state_reason") and watched.finished:
        lines.append(f"  {build['state_reason']}")
    elif watched.gating_reason:
        lines.append(f"  waiting for gating: {watched.gating_reason}")
    if watched.rows:
        lines.append(f"  {progress_line(watched.rows)}")
    width = max((len(r.name) for r in watched.rows), default=0)
    for row in watched.rows:
        line = f"    {row.name:<{width}}  {row.state:<9}"
        seconds = watched.elapsed(row.name, now)
        if seconds is not None:
            line += f"  {duration(seconds):>6}"
        if row.state in ("failed", "canceled") and row.reason:
            line += f"  {row.summary}"
        lines.append(line.rstrip())
    return lines


class LineReporter:
    """Prints one line per change (stdout is not a terminal)."""

    def __init__(self, out: IO[str], err: IO[str]) -> None:
        self._out = out
        self._err = err
        self._seen: dict[
            int, tuple[str | None, int | None, str | None, dict[str, str]]
        ] = {}
        self._problems = _ProblemLines(err)

    def show(
        self, builds: Sequence[WatchedBuild], now: float, problem: str | None
    ) -> None:
        """Print what changed since the last poll; a new problem on stderr."""
        self._problems.show(problem)
        for watched in builds:
            if watched.build is not None:
                self._changes(watched, now)
        self._out.flush()

    def _changes(self, watched: WatchedBuild, now: float) -> None:
        assert watched.build is not None
        name = title(watched.build)
        state, batch = watched.state, batch_in_progress(watched.rows)
        last_state, last_batch, last_reason, last_rows = self._seen.get(
            watched.id, (None, None, None, {})
        )
        rows = {}
        for row in watched.rows:
            rows[row.name] = row.state
            if last_rows.get(row.name, "waiting") != row.state:
                self._out.write(
                    f"{name}: {row.name} {_row_change(watched, row, now)}\n"
                )
        shown = (state, batch, watched.gating_reason)
        if shown != (last_state, last_batch, last_reason):
            line = f"{name}: {state}"
            if watched.rows:
                line += f", {progress_line(watched.rows)}"
            if watched.finished and watched.build.get("state_reason"):
                line += f": {watched.build['state_reason']}"
            elif watched.gating_reason:
                line += f", waiting for gating: {watched.gating_reason}"
            self._out.write(line + "\n")
        self._seen[watched.id] = (*shown, rows)


def _row_change(watched: WatchedBuild, row: ComponentRow, now: float) -> str:
    text = row.state
    if row.task_id:
        text += f" (task {row.task_id})"
    seconds = watched.elapsed(row.name, now)
    if row.state in COMPONENT_ENDS and seconds is not None:
        text += f" after {duration(seconds)}"
    if row.state == "complete" and row.nvr:
        text += f": {row.nvr}"
    elif row.state in COMPONENT_ENDS and row.reason:
        text += f": {row.summary}"
    return text


class _ProblemLines:
    """Prints a poll's problem on stderr, once until it changes or ends."""

    def __init__(self, err: IO[str]) -> None:
        self._err = err
        self._last: str | None = None

    def show(self, problem: str | None) -> None:
        if problem and problem != self._last:
            self._err.write(f"rida: {problem}; retrying\n")
            self._err.flush()
        self._last = problem


class JsonReporter:
    """Prints a build's JSON on one line whenever it changes."""

    def __init__(self, out: IO[str], err: IO[str]) -> None:
        self._out = out
        self._problems = _ProblemLines(err)
        self._last: dict[int, dict[str, Any]] = {}

    def show(
        self, builds: Sequence[WatchedBuild], now: float, problem: str | None
    ) -> None:
        """Print the builds that changed; a new problem on stderr."""
        self._problems.show(problem)
        for watched in builds:
            if watched.build is not None and watched.build != self._last.get(
                watched.id
            ):
                self._out.write(json.dumps(watched.build) + "\n")
                self._last[watched.id] = watched.build
        self._out.flush()


async def watch_builds(
    client: MbsClient,
    build_ids: Sequence[int],
    *,
    clock: IReactorTime,
    reporter: Reporter,
    interval_seconds: float,
    wakeups: EventWakeups | None = None,
) -> int:
    """Poll the builds every ``interval_seconds`` until each is ready or
    failed (a scratch build: done or failed).

    With ``wakeups`` (the server's event streams), a change wakes the loop
    at once and it polls at a long interval otherwise.

    Transient trouble (the server unreachable, or 5xx) after a first
    successful poll is reported and retried for up to ``GIVE_UP_AFTER_SECONDS``.

    :returns: ``OK`` when every build is ready (or, a scratch build, done),
        ``BUILD_FAILED`` otherwise.
    :raises ServerError: a 4xx answer, or trouble that lasted too long.
    """
    builds = [WatchedBuild(id=build_id) for build_id in dict.fromkeys(build_ids)]
    trouble_since: float | None = None
    while True:
        problem = None
        try:
            for watched in builds:
                if not watched.finished:
                    build = await client.build(watched.id)
                    rows = await component_rows(client, build)
                    watched.update(build, rows, clock.seconds())
            trouble_since = None
            if wakeups is not None and not wakeups.started:
                wakeups.start()  # once the server answered
        except ServerError as exc:
            now = clock.seconds()
            trouble_since = now if trouble_since is None else trouble_since
            seen_before = any(watched.build is not None for watched in builds)
            if not (exc.transient and seen_before):
                raise
            if now - trouble_since >= GIVE_UP_AFTER_SECONDS:
                raise
            problem = exc.message
        reporter.show(builds, clock.seconds(), problem)
        if all(watched.finished for watched in builds):
            break
        if wakeups is None:
            await deferLater(clock, interval_seconds, lambda: None)
        else:
            await wakeups.wait(wakeups.poll_seconds(interval_seconds))
    failed = any(not watched.succeeded for watched in builds)
    return BUILD_FAILED if failed else OK
