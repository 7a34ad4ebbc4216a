"""Builds as the status page's store reads them, made up in memory: the
unit tests' pages and the render benchmark's (``tests/bench/status_page.py``),
and a store answering them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ridad.db.builds import BuildFilter
from ridad.db.status_page import BuildPageData
from ridad.domain.builds import ComponentBuild, ModuleBuild, TraceEntry
from ridad.domain.states import ComponentState, ModuleState
from ridad.domain.task_logs import TaskLogTail, reason_with_log
from ridad.errors import NotFound

T0 = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)


def module_build(**changes: Any) -> ModuleBuild:
    """A module build in ``build``, submitted at ``T0``."""
    base = ModuleBuild(
        id=7,
        name="demo",
        stream="main",
        version=4020261127100000,
        context="c0ffee00",
        state=ModuleState.BUILD,
        state_reason=None,
        owner="alice",
        scmurl="git://git.example.org/modules/demo.git?#main",
        scm_commit="0" * 40,
        branch="main",
        modulemd="",
        build_context="b",
        runtime_context="r",
        buildrequires={},
        requires={},
        koji_tag="module-demo-main-4020261127100000-c0ffee00",
        scratch=False,
        time_submitted=T0,
        time_modified=T0,
        time_completed=None,
    )
    return replace(base, **changes)


def component(cid: int, name: str, batch: int, **changes: Any) -> ComponentBuild:
    """A waiting component of build 7."""
    base = ComponentBuild(
        id=cid,
        module_build_id=7,
        name=name,
        type="rpms",
        package=name,
        repository=f"git://git.example.org/rpms/{name}",
        ref="main",
        scm_commit="1" * 40,
        batch=batch,
        buildorder=batch,
        buildafter=(),
        buildonly=False,
        state=ComponentState.WAITING,
        state_reason=None,
        task_id=None,
        task_state=None,
        nvr=None,
        time_modified=T0,
    )
    return replace(base, **changes)


@dataclass
class Tracer:
    """Trace rows in order, each a few seconds after the last."""

    rows: list[TraceEntry] = field(default_factory=list)

    def add(
        self,
        component: int | None,
        old: str | None,
        new: str,
        at: datetime,
        reason: str | None = None,
    ) -> None:
        """One row."""
        self.rows.append(
            TraceEntry(
                id=len(self.rows) + 1,
                module_build_id=7,
                component_build_id=component,
                time=at,
                old_state=old,
                new_state=new,
                reason=reason,
            )
        )


FAILURE = reason_with_log(
    "BuildError: error building package (arch noarch), mock exited with status 1;"
    " see build.log for more information",
    TaskLogTail(
        task_id=1203,
        log="build.log",
        lines=(
            "+ make -j2",
            "gcc -O2 -c beta.c -o beta.o",
            "beta.c:12:5: error: 'frob' undeclared (first use in this function)",
            "make: *** [Makefile:4: beta.o] Error 1",
            "error: Bad exit status from /var/tmp/rpm-tmp.4Ut1 (%build)",
        ),
    ),
)


def three_batches(*, with_failure: bool = True) -> BuildPageData:
    """Build 7 in ``build``: the macros (batch 1) and alpha (batch 2) built,
    beta (batch 3) failed or built, gamma (batch 4) building."""
    trace = Tracer()
    at = T0
    trace.add(None, None, "init", at, "submitted")
    trace.add(None, "init", "wait", at + timedelta(seconds=2))
    trace.add(None, "wait", "build", at + timedelta(seconds=4))
    names = ["module-build-macros", "alpha", "beta", "gamma"]
    components = []
    for i, name in enumerate(names):
        cid, batch = 100 + i, i + 1
        start = at + timedelta(seconds=5 + 40 * i)
        trace.add(cid, "waiting", "building", start)
        task = 1200 + i
        nvr = f"{name}-1.0-1.module+f40+7+c0ffee00"
        if name == "gamma":
            components.append(
                component(
                    cid,
                    name,
                    batch,
                    state=ComponentState.BUILDING,
                    task_id=task,
                    task_state="OPEN",
                    submitted_at=start,
                    time_modified=start,
                )
            )
            continue
        end = start + timedelta(seconds=33)
        failed = with_failure and name == "beta"
        state = ComponentState.FAILED if failed else ComponentState.COMPLETE
        trace.add(cid, "building", state.label, end, FAILURE if failed else None)
        components.append(
            component(
                cid, name, batch, state=state, task_id=task,
                task_state="FAILED" if failed else "CLOSED", submitted_at=start,
                time_modified=end, nvr=None if failed else nvr,
                koji_build_id=None if failed else 500 + i,
                state_reason=FAILURE if failed else None,
            )
        )  # fmt: skip
    return BuildPageData(
        build=module_build(),
        components=tuple(components),
        trace=tuple(trace.rows),
        final_modulemd=None,
    )


def many_components(count: int) -> BuildPageData:
    """A ready build of ``count`` components over 10 batches, every one
    built, with its final modulemd (one line per component, as artifacts)."""
    trace = Tracer()
    trace.add(None, None, "init", T0, "submitted")
    trace.add(None, "init", "wait", T0 + timedelta(seconds=1))
    trace.add(None, "wait", "build", T0 + timedelta(seconds=2))
    components = []
    for i in range(count):
        cid, batch = 1000 + i, 2 + i % 10
        start = T0 + timedelta(seconds=10 + 30 * (batch - 2))
        end = start + timedelta(seconds=20 + i % 7)
        trace.add(cid, "waiting", "building", start)
        trace.add(cid, "building", "complete", end)
        name = f"package-{i:03d}"
        components.append(
            component(
                cid, name, batch, state=ComponentState.COMPLETE, task_id=5000 + i,
                task_state="CLOSED", submitted_at=start, time_modified=end,
                nvr=f"{name}-1.0-1.module+f40+7+c0ffee00", koji_build_id=9000 + i,
            )
        )  # fmt: skip
    done = T0 + timedelta(seconds=400)
    trace.add(None, "build", "done", done)
    trace.add(None, "done", "ready", done + timedelta(seconds=1))
    lines = [f"      - {c.nvr}.noarch" for c in components]
    document = "---\ndocument: modulemd\nversion: 2\ndata:\n  artifacts:\n    rpms:\n"
    return BuildPageData(
        build=module_build(state=ModuleState.READY, time_completed=done),
        components=tuple(components),
        trace=tuple(trace.rows),
        final_modulemd=document + "\n".join(lines) + "\n",
    )


@dataclass
class FakePages:
    """The two stores the status page reads, answering from memory."""

    pages: dict[int, BuildPageData] = field(default_factory=dict)
    asked: list[tuple[BuildFilter, int, int]] = field(default_factory=list)

    async def build_page(self, module_build_id: int) -> BuildPageData:
        """The page data of a build, or NotFound."""
        if module_build_id not in self.pages:
            raise NotFound(f"Module build {module_build_id} does not exist")
        return self.pages[module_build_id]

    async def newest_build(self, name: str, stream: str) -> ModuleBuild | None:
        """The highest-numbered build of the stream that is not scratch."""
        found = [
            p.build
            for p in self.pages.values()
            if (p.build.name, p.build.stream) == (name, stream) and not p.build.scratch
        ]
        return max(found, key=lambda b: b.id, default=None)

    async def list_page(
        self, build_filter: BuildFilter, *, page: int, per_page: int
    ) -> tuple[list[ModuleBuild], int]:
        """The builds matching the filter, newest first, one page of them."""
        self.asked.append((build_filter, page, per_page))
        builds = sorted((p.build for p in self.pages.values()), key=lambda b: -b.id)
        if build_filter.states:
            builds = [b for b in builds if b.state in build_filter.states]
        for key in ("name", "stream", "owner"):
            wanted = getattr(build_filter, key)
            if wanted is not None:
                builds = [b for b in builds if getattr(b, key) == wanted]
        start = (page - 1) * per_page
        return builds[start : start + per_page], len(builds)
