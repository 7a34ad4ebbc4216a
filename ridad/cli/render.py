"""Text forms of what the MBS API v2 answers: builds, components, lists."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ridad.domain.gating import module_nvr
from ridad.domain.states import ComponentState, ModuleState
from ridad.domain.task_logs import first_line

#: Koji build states by number (2, DELETED, is not a component state).
_KOJI_BUILD_STATES = {s.koji_number: s.label for s in ComponentState} | {2: "deleted"}
#: Component states after which nothing changes any more.
COMPONENT_ENDS = frozenset({"complete", "failed", "canceled", "deleted"})
#: Module build states after which nothing changes any more.
MODULE_ENDS = frozenset(
    {ModuleState.READY.label, ModuleState.FAILED.label, ModuleState.GARBAGE.label}
)


@dataclass(frozen=True)
class ComponentRow:
    """One component build as ``rida`` shows it."""

    name: str
    state: str
    task_id: int | None = None
    nvr: str | None = None
    batch: int | None = None
    reason: str | None = None
    #: When the server says it started building / ended (epoch seconds).
    started: float | None = None
    ended: float | None = None
    #: The component build this one reused (its NVR), when reused.
    reused_from: int | None = None

    @property
    def summary(self) -> str | None:
        """The reason's first line (a failed build's log tail follows it)."""
        return first_line(self.reason) if self.reason else self.reason

    @property
    def log_lines(self) -> list[str]:
        """The lines under the reason's first one: the log tail, if any."""
        return self.reason.split("\n")[1:] if self.reason else []


def module_state(build: dict[str, Any]) -> str:
    """The state name of a module build: ``state_name``, else from ``state``."""
    name = build.get("state_name")
    if isinstance(name, str) and name:
        return name.lower()
    for state in ModuleState:
        if build.get("state") in (state.number, state.label):
            return state.label
    return str(build.get("state"))


def nsvc(build: dict[str, Any]) -> str:
    """``name:stream:version:context`` (the parts the server gave)."""
    parts = [build.get(key) for key in ("name", "stream", "version", "context")]
    return ":".join(str(part) for part in parts if part not in (None, ""))


def title(build: dict[str, Any]) -> str:
    """``build 42 name:stream:version:context``."""
    return f"build {build['id']} {nsvc(build)}".rstrip()


def component_state(number: Any, name: Any = None) -> str:
    """A component's state from Koji's build state number (null: waiting)."""
    if isinstance(name, str) and name:
        return name.lower()
    if number is None:
        return ComponentState.WAITING.label
    return _KOJI_BUILD_STATES.get(number, str(number))


def rows_from_tasks(build: dict[str, Any]) -> list[ComponentRow]:
    """Component rows from a build's ``tasks`` (no batches there)."""
    tasks = build.get("tasks") or {}
    rpms = tasks.get("rpms") if isinstance(tasks, dict) else None
    if not isinstance(rpms, dict):
        return []
    rows = []
    for name, task in sorted(rpms.items()):
        task = task if isinstance(task, dict) else {}
        rows.append(
            ComponentRow(
                name=name,
                state=component_state(task.get("state")),
                task_id=task.get("task_id"),
                nvr=task.get("nvr"),
                reason=task.get("state_reason"),
            )
        )
    return rows


def rows_from_components(components: Iterable[dict[str, Any]]) -> list[ComponentRow]:
    """Component rows from ``component-builds/`` items, by batch then name."""
    rows = []
    for item in components:
        trace = item.get("state_trace")
        rows.append(
            ComponentRow(
                name=str(item.get("package")),
                state=component_state(item.get("state"), item.get("state_name")),
                task_id=item.get("task_id"),
                nvr=item.get("nvr"),
                batch=item.get("batch") if isinstance(item.get("batch"), int) else None,
                reason=item.get("state_reason"),
                started=_trace_time(trace, lambda s: s == 0, min),
                ended=_trace_time(trace, lambda s: s in (1, 2, 3, 4), max),
                reused_from=_whole(item.get("reused_component_id")),
            )
        )
    return sorted(rows, key=lambda r: (r.batch or 0, r.name))


def with_reuse(
    rows: Sequence[ComponentRow], seed: dict[str, Any]
) -> list[ComponentRow]:
    """``rows`` with the component each reused, from ridad's own view of
    the build (``components[].reused_component_id``) where the MBS answer
    did not say."""
    reused = {}
    for component in seed.get("components") or ():
        if isinstance(component, dict):
            number = _whole(component.get("reused_component_id"))
            if number is not None:
                reused[component.get("name")] = number
    return [
        row
        if row.reused_from is not None or row.name not in reused
        else replace(row, reused_from=reused[row.name])
        for row in rows
    ]


def build_field(build: dict[str, Any], seed: dict[str, Any], key: str) -> Any:
    """A field of the build as MBS answered it, else as ridad's view has it."""
    value = build.get(key)
    return seed.get(key) if value is None else value


def reuse_lines(build: dict[str, Any], seed: dict[str, Any]) -> list[str]:
    """Scratch or not, the rebuild strategy, and the build reused from."""
    lines = []
    if build_field(build, seed, "scratch") is True:
        lines.append("  scratch:    yes (it ends at done, never ready)")
    strategy = build_field(build, seed, "rebuild_strategy")
    if isinstance(strategy, str) and strategy:
        lines.append(f"  rebuild:    {strategy}")
    source = _whole(build_field(build, seed, "reused_module_id"))
    if source is not None:
        lines.append(f"  reuses:     components of build {source}")
    return lines


def batch_in_progress(rows: Sequence[ComponentRow]) -> int | None:
    """The highest batch with a component that has left ``waiting``."""
    started = [r.batch for r in rows if r.batch is not None and r.state != "waiting"]
    return max(started) if started else None


def progress_line(rows: Sequence[ComponentRow]) -> str:
    """``2/4 components done, batch 3`` (what is known of it)."""
    done = sum(1 for r in rows if r.state == "complete")
    line = f"{done}/{len(rows)} components done"
    batch = batch_in_progress(rows)
    if batch is not None:
        line += f", batch {batch}"
    return line


def parse_time(value: Any) -> float | None:
    """Epoch seconds of an ISO 8601 time; None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def show_text(
    build: dict[str, Any],
    rows: Sequence[ComponentRow],
    seed: dict[str, Any] | None = None,
) -> list[str]:
    """The lines of ``rida show``; ``seed`` is ridad's own view of the build
    (None from MBS), which has the artifacts and the module's Koji build."""
    lines = [title(build)]
    reason = build.get("state_reason")
    state = module_state(build)
    lines.append(f"  state:      {state}" + (f" ({reason})" if reason else ""))
    for label, key in (
        ("owner", "owner"),
        ("scmurl", "scmurl"),
        ("koji tag", "koji_tag"),
        ("submitted", "time_submitted"),
        ("modified", "time_modified"),
        ("completed", "time_completed"),
    ):
        if build.get(key) is not None:
            lines.append(f"  {label + ':':<11} {build[key]}")
    seed = seed or {}
    lines.extend(reuse_lines(build, seed))
    lines.extend(outcome_lines(build, seed))
    rows = with_reuse(rows, seed)
    if rows:
        reused = sum(1 for row in rows if row.reused_from is not None)
        progress = progress_line(rows) + (f", {reused} reused" if reused else "")
        lines.append(f"  components: {progress}")
        source = _whole(build_field(build, seed, "reused_module_id"))
        lines.extend(_table(_component_cells(rows, source), indent="    "))
    for row in rows:
        if row.state in ("failed", "canceled") and row.log_lines:
            lines.append(f"  {row.name}: {row.summary}")
            lines.extend(f"    {line}".rstrip() for line in row.log_lines)
    return lines


def outcome_lines(build: dict[str, Any], seed: dict[str, Any]) -> list[str]:
    """What the build produced: the RPMs of its final modulemd, and the
    module in Koji (its build id and NVR) once imported."""
    count = seed.get("artifact_count")
    if not isinstance(count, int):
        return []
    lines = [f"  artifacts:  {count} RPM{'' if count == 1 else 's'}"]
    koji_build_id = seed.get("koji_build_id")
    if isinstance(koji_build_id, int):
        lines.append(f"  koji build: {koji_build_id} {module_build_nvr(build)}")
    else:
        lines.append("  koji build: not imported yet")
    return lines


def module_build_nvr(build: dict[str, Any]) -> str:
    """The module's NVR in Koji: name-stream_with_underscores-version.context."""
    return module_nvr(
        str(build.get("name")),
        str(build.get("stream")),
        int(build.get("version") or 0),
        str(build.get("context")),
    )


def _component_cells(
    rows: Sequence[ComponentRow], source: int | None
) -> list[list[str]]:
    with_batch = any(r.batch is not None for r in rows)
    cells = [["BATCH"] * with_batch + ["NAME", "STATE", "TASK", "NVR"]]
    for row in rows:
        nvr = row.nvr or ""
        if row.reason and row.state in ("failed", "canceled"):
            nvr = row.summary or ""
        if row.reused_from is not None:
            mark = f"reused from component {row.reused_from}"
            if source is not None:
                mark += f" of build {source}"
            nvr = f"{nvr} ({mark})" if nvr else f"({mark})"
        cells.append(
            [str(row.batch or "")] * with_batch
            + [row.name, row.state, str(row.task_id or ""), nvr]
        )
    return cells


def list_text(builds: Sequence[dict[str, Any]]) -> list[str]:
    """The lines of ``rida list``."""
    if not builds:
        return ["No module builds."]
    cells = [["ID", "STATE", "NSVC", "OWNER", "SUBMITTED"]]
    for build in builds:
        cells.append(
            [
                str(build["id"]),
                module_state(build),
                nsvc(build),
                str(build.get("owner") or ""),
                str(build.get("time_submitted") or ""),
            ]
        )
    return _table(cells)


def mapping_text(values: dict[str, Any]) -> list[str]:
    """``key: value`` lines, as ``rida about`` shows the server's answer."""
    width = max((len(k) for k in values), default=0) + 1
    return [f"{key + ':':<{width}} {value}" for key, value in values.items()]


def _table(cells: Sequence[Sequence[str]], indent: str = "") -> list[str]:
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return [
        (
            indent + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
        ).rstrip()
        for row in cells
    ]


def _whole(value: Any) -> int | None:
    """An int that is not a bool; None otherwise."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _trace_time(
    trace: Any,
    wanted: Callable[[Any], bool],
    pick: Callable[[list[float]], float],
) -> float | None:
    """The ``pick`` (min, max) of the times of ``trace`` entries whose state is ``wanted``."""
    if not isinstance(trace, list):
        return None
    times = [
        parse_time(entry.get("time"))
        for entry in trace
        if isinstance(entry, dict) and wanted(entry.get("state"))
    ]
    found = [t for t in times if t is not None]
    return pick(found) if found else None
