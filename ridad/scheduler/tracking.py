"""Tracking Koji tasks: ONE multicall per poll for every open task of every
build (batched by the client when large), turned into component changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from twisted.logger import Logger

from ridad.domain.builds import ComponentBuild, ModuleBuild
from ridad.domain.states import ComponentState, ModuleState
from ridad.errors import KojiError, KojiFault
from ridad.koji.client import KojiCall, KojiClient
from ridad.koji.values import task_from_info
from ridad.scheduler.environment import environment_of
from ridad.transitions import Transitions

FINISHED_TASK_STATES = {"closed": None, "failed": None, "canceled": None}


@dataclass
class PollPlan:
    """The calls of one poll and what each answer belongs to."""

    calls: list[KojiCall] = field(default_factory=list)
    tasks: list[tuple[ModuleBuild, ComponentBuild]] = field(default_factory=list)
    repos: list[ModuleBuild] = field(default_factory=list)


def plan_poll(
    active: Sequence[tuple[ModuleBuild, Sequence[ComponentBuild]]],
) -> PollPlan:
    """Two calls per open task (its info and its build), two per pending
    repo (the newRepo task and the tag's newest repo)."""
    plan = PollPlan()
    for build, components in active:
        for c in components:
            if c.state is ComponentState.BUILDING and c.task_id is not None:
                plan.tasks.append((build, c))
                plan.calls.append(KojiCall("getTaskInfo", (c.task_id,)))
                plan.calls.append(KojiCall("listBuilds", (), {"taskID": c.task_id}))
    # Repo calls come after every task call: poll() reads the answers in
    # that order.
    for build, _ in active:
        if build.repo_task_id is not None and build.state is ModuleState.BUILD:
            plan.repos.append(build)
            plan.calls.append(KojiCall("getTaskInfo", (build.repo_task_id,)))
            plan.calls.append(KojiCall("getRepo", (environment_of(build).build_tag,)))
    return plan


class TaskTracker:
    """Polls Koji about open tasks and records what changed."""

    log = Logger()

    def __init__(self, *, koji: KojiClient, transitions: Transitions) -> None:
        self._koji = koji
        self._transitions = transitions

    async def poll(
        self,
        active: Sequence[tuple[ModuleBuild, Sequence[ComponentBuild]]],
        *,
        epoch: int,
        now: datetime,
        task_timeout: timedelta,
    ) -> int:
        """Ask Koji about every open task in one multicall; return how many
        tasks were polled.

        :raises KojiUnavailable: Koji stayed unreachable.
        """
        plan = plan_poll(active)
        if not plan.calls:
            return 0
        answers = await self._koji.multicall(plan.calls)
        failed_results = []
        for index, (build, component) in enumerate(plan.tasks):
            info, builds = answers[2 * index], answers[2 * index + 1]
            outcome = await self._task_answer(
                build,
                component,
                info,
                builds,
                epoch=epoch,
                now=now,
                task_timeout=task_timeout,
            )
            if outcome == "failed":
                failed_results.append(component)
        offset = 2 * len(plan.tasks)
        for index, build in enumerate(plan.repos):
            await self._repo_answer(
                build,
                answers[offset + 2 * index],
                answers[offset + 2 * index + 1],
                epoch=epoch,
            )
        if failed_results:
            await self._record_failures(failed_results, epoch=epoch)
        return len(plan.tasks)

    async def _task_answer(
        self,
        build: ModuleBuild,
        component: ComponentBuild,
        info: Any,
        builds: Any,
        *,
        epoch: int,
        now: datetime,
        task_timeout: timedelta,
    ) -> str | None:
        if isinstance(info, KojiFault) or info is None:
            self.log.warn(
                "Koji task {koji_task_id} of {component} cannot be read: {reason}",
                koji_task_id=component.task_id,
                component=component.name,
                reason=getattr(info, "message", "no such task"),
            )
            return None
        task = task_from_info(info)
        if task.state == "closed":
            await self._closed(component, task.state, builds, epoch=epoch)
            return "closed"
        if task.state == "failed":
            return "failed"
        if task.state == "canceled":
            await self._transitions.change_component_state(
                component,
                ComponentState.CANCELED,
                "the Koji task was canceled",
                epoch=epoch,
                values={"task_state": task.state},
            )
            return "canceled"
        submitted = component.submitted_at or now
        if build.state is ModuleState.BUILD and now - submitted > task_timeout:
            hours = task_timeout.total_seconds() / 3600
            await self._transitions.change_component_state(
                component,
                ComponentState.FAILED,
                f"the Koji task stayed {task.state} for more than {hours:g} hours",
                epoch=epoch,
                values={"task_state": task.state},
            )
            return "timeout"
        if task.state != component.task_state:
            await self._transitions.update(
                component.module_build_id,
                epoch=epoch,
                components={component.id: {"task_state": task.state}},
            )
        return None

    async def _closed(
        self, component: ComponentBuild, task_state: str, builds: Any, *, epoch: int
    ) -> None:
        if isinstance(builds, KojiFault) or not builds:
            await self._transitions.change_component_state(
                component,
                ComponentState.FAILED,
                "the Koji task closed without a build",
                epoch=epoch,
                values={"task_state": task_state},
            )
            return
        koji_build = builds[0]
        await self._transitions.change_component_state(
            component,
            ComponentState.COMPLETE,
            None,
            epoch=epoch,
            values={
                "task_state": task_state,
                "nvr": koji_build["nvr"],
                "koji_build_id": koji_build["build_id"],
            },
        )

    async def _record_failures(
        self, components: Sequence[ComponentBuild], *, epoch: int
    ) -> None:
        results = await self._koji.multicall(
            [
                KojiCall("getTaskResult", (c.task_id,), {"raise_fault": False})
                for c in components
            ]
        )
        for component, result in zip(components, results, strict=True):
            reason = "the Koji task failed"
            if isinstance(result, dict) and result.get("faultString"):
                reason = str(result["faultString"]).strip().splitlines()[-1]
            elif isinstance(result, KojiFault):
                reason = result.message
            await self._transitions.change_component_state(
                component,
                ComponentState.FAILED,
                reason,
                epoch=epoch,
                values={"task_state": "failed"},
            )

    async def _repo_answer(
        self, build: ModuleBuild, info: Any, repo: Any, *, epoch: int
    ) -> None:
        values: dict[str, Any] = {}
        if isinstance(repo, dict) and repo.get("create_event") is not None:
            event = int(repo["create_event"])
            if build.repo_event is None or event > build.repo_event:
                values["repo_event"] = event
        if isinstance(info, dict):
            state = task_from_info(info).state
            if state == "closed":
                values["repo_task_id"] = None
            elif state in ("failed", "canceled"):
                values["repo_task_id"] = None
                values["repo_attempts"] = build.repo_attempts + 1
                self.log.warn(
                    "newRepo task {koji_task_id} of module build {module_build_id}"
                    " {state}",
                    koji_task_id=build.repo_task_id,
                    module_build_id=build.id,
                    state=state,
                )
        elif isinstance(info, KojiFault) or info is None:
            raise KojiError(f"newRepo task {build.repo_task_id} cannot be read")
        if values:
            await self._transitions.update(build.id, epoch=epoch, module=values)
