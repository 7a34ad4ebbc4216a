"""Tracking Koji tasks: ONE poll of the hub for every open task of every
build (batched by the client when large), turned into component changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from ridad.domain.builds import ComponentBuild, ModuleBuild
from ridad.domain.koji import RepoReport, TaskReport
from ridad.domain.states import ComponentState, ModuleState
from ridad.domain.task_end import TaskEnd
from ridad.domain.task_logs import TaskLogTail, reason_with_log
from ridad.errors import KojiError
from ridad.koji.hub import KojiHub
from ridad.metrics.events import EventLatency
from ridad.scheduler.environment import environment_of
from ridad.transitions import Transitions


@dataclass
class PollPlan:
    """What one poll asks about: open build tasks and pending newRepo tasks."""

    tasks: list[tuple[ModuleBuild, ComponentBuild]] = field(default_factory=list)
    repos: list[ModuleBuild] = field(default_factory=list)

    @property
    def task_ids(self) -> list[int]:
        """The ids of the open build tasks, in plan order."""
        return [c.task_id for _, c in self.tasks if c.task_id is not None]

    @property
    def repo_checks(self) -> list[tuple[int, str]]:
        """Each pending newRepo task with the tag it regenerates."""
        return [
            (b.repo_task_id, environment_of(b).build_tag)
            for b in self.repos
            if b.repo_task_id is not None
        ]


def plan_poll(
    active: Sequence[tuple[ModuleBuild, Sequence[ComponentBuild]]],
) -> PollPlan:
    """The open tasks of building components, and the newRepo tasks of
    builds in ``build``."""
    plan = PollPlan()
    for build, components in active:
        for c in components:
            if c.state is ComponentState.BUILDING and c.task_id is not None:
                plan.tasks.append((build, c))
    for build, _ in active:
        if build.repo_task_id is not None and build.state is ModuleState.BUILD:
            plan.repos.append(build)
    return plan


class TaskTracker:
    """Polls Koji about open tasks and records what changed."""

    log = Logger()

    def __init__(
        self,
        *,
        koji: KojiHub,
        transitions: Transitions,
        clock: IReactorTime,
        events: EventLatency,
    ) -> None:
        self._koji = koji
        self._transitions = transitions
        self._clock = clock
        self._events = events
        #: Changes the last poll committed, and its failed tasks.
        self.last_changes = 0
        self.last_failed = 0

    async def poll(
        self,
        active: Sequence[tuple[ModuleBuild, Sequence[ComponentBuild]]],
        *,
        epoch: int,
        now: datetime,
        task_timeout: timedelta,
        partial: bool = False,
    ) -> int:
        """Ask Koji about every open task of ``active`` at once; return how
        many tasks were polled (``partial``: ``active`` is not every active
        build, so only the events about the polled tasks are answered).

        :raises KojiUnavailable: Koji stayed unreachable.
        :raises NotLeader: another process took the scheduler lease.
        """
        plan = plan_poll(active)
        self.last_changes = self.last_failed = 0
        if not plan.tasks and not plan.repos:
            return 0
        asked = self._clock.seconds()
        report = await self._koji.poll(plan.task_ids, plan.repo_checks)
        failed = []
        ends: dict[int, list[TaskEnd]] = {}
        for build, component in plan.tasks:
            assert component.task_id is not None
            answer = report.tasks[component.task_id]
            if await self._task_answer(
                build,
                component,
                answer,
                ends,
                epoch=epoch,
                now=now,
                timeout=task_timeout,
            ):
                failed.append(component)
        await self._record_ends(ends, epoch)
        for build in plan.repos:
            assert build.repo_task_id is not None
            await self._repo_answer(build, report.repos[build.repo_task_id], epoch)
        self.last_failed = len(failed)
        if failed:
            await self._record_failures(failed, epoch=epoch)
        polled = set(plan.task_ids) | {t for t, _ in plan.repo_checks}
        self._events.answered_before(asked, polled if partial else None)
        return len(plan.tasks)

    async def _task_answer(
        self,
        build: ModuleBuild,
        component: ComponentBuild,
        answer: TaskReport,
        ends: dict[int, list[TaskEnd]],
        *,
        epoch: int,
        now: datetime,
        timeout: timedelta,
    ) -> bool:
        """Record what the task's state means (an end is added to ``ends``,
        by build); True when the task failed (its reason is asked for
        afterwards, for every failed task at once)."""
        task = answer.task
        if task is None:
            self.log.warn(
                "Koji task {koji_task_id} of {component} cannot be read: {reason}",
                koji_task_id=component.task_id,
                component=component.name,
                reason=answer.problem,
            )
            return False
        if task.state == "failed":
            return True
        ending = _ending(build, component, answer, now=now, timeout=timeout)
        if ending is not None:
            state, reason = ending
            made = answer.build if state is ComponentState.COMPLETE else None
            end = TaskEnd(component, state, reason, task.state, made)
            ends.setdefault(build.id, []).append(end)
        elif task.state != component.task_state:
            await self._transitions.record_task_state(
                component, task.state, epoch=epoch
            )
            self._changed(component)
        return False

    async def _record_ends(self, ends: dict[int, list[TaskEnd]], epoch: int) -> None:
        """The ends of one poll: one transaction per build."""
        for build_id, found in ends.items():
            await self._transitions.record_task_ends(build_id, found, epoch=epoch)
            for end in found:
                self._changed(end.component)

    def _changed(self, component: ComponentBuild) -> None:
        """A change of ``component`` committed: the latency from the bus
        event about its task (if one came; newRepo tasks likewise)."""
        self.last_changes += 1
        self._events.changed(component.task_id, self._clock.seconds())

    async def _record_failures(
        self, components: Sequence[ComponentBuild], *, epoch: int
    ) -> None:
        """Fail each component with Koji's reason and the tail of its log."""
        reasons = await self._koji.failure_reasons(
            [c.task_id for c in components if c.task_id is not None]
        )
        logs = await self._failure_logs(reasons)
        ends: dict[int, list[TaskEnd]] = {}
        for component in components:
            assert component.task_id is not None
            tail = logs.get(component.task_id)
            reason = reason_with_log(reasons[component.task_id], tail)
            end = TaskEnd(component, ComponentState.FAILED, reason, "failed")
            ends.setdefault(component.module_build_id, []).append(end)
        await self._record_ends(ends, epoch)

    async def _failure_logs(self, reasons: dict[int, str]) -> dict[int, TaskLogTail]:
        """The tails of the failed tasks' logs; none when Koji fails to give
        them (the components fail with Koji's reason alone)."""
        try:
            return await self._koji.failure_logs(reasons)
        except KojiError as e:
            self.log.warn(
                "Could not read the logs of {count} failed Koji tasks;"
                " their components fail without them: {reason}",
                count=len(reasons),
                reason=e.message,
            )
            return {}

    async def _repo_answer(
        self, build: ModuleBuild, answer: RepoReport, epoch: int
    ) -> None:
        repo_event = None
        if answer.repo is not None and (
            build.repo_event is None or answer.repo.create_event > build.repo_event
        ):
            repo_event = answer.repo.create_event
        if answer.task is None:
            raise KojiError(f"newRepo task {build.repo_task_id} cannot be read")
        state = answer.task.state
        failed = state in ("failed", "canceled")
        if failed:
            self.log.warn(
                "newRepo task {koji_task_id} of module build {module_build_id} {state}",
                koji_task_id=build.repo_task_id,
                module_build_id=build.id,
                state=state,
            )
        if repo_event is not None or state == "closed" or failed:
            await self._transitions.record_repo_progress(
                build.id,
                repo_event=repo_event,
                task_finished=state == "closed",
                task_failed=failed,
                epoch=epoch,
            )
            self.last_changes += 1
            self._events.changed(build.repo_task_id, self._clock.seconds())


def _ending(
    build: ModuleBuild,
    component: ComponentBuild,
    answer: TaskReport,
    *,
    now: datetime,
    timeout: timedelta,
) -> tuple[ComponentState, str | None] | None:
    """Where a closed, canceled or overdue task leaves its component (None:
    still running)."""
    assert answer.task is not None
    state = answer.task.state
    if state == "closed" and answer.build is None:
        return ComponentState.FAILED, "the Koji task closed without a build"
    if state == "closed":
        return ComponentState.COMPLETE, None
    if state == "canceled":
        return ComponentState.CANCELED, "the Koji task was canceled"
    submitted = component.submitted_at or now
    if build.state is ModuleState.BUILD and now - submitted > timeout:
        hours = timeout.total_seconds() / 3600
        return (
            ComponentState.FAILED,
            f"the Koji task stayed {state} for more than {hours:g} hours",
        )
    return None
