"""The poll plan: one multicall whose answers are read back in order."""

from __future__ import annotations

from dataclasses import replace

from ridad.domain.states import ComponentState, ModuleState
from ridad.koji.hub import poll_calls
from ridad.scheduler.tracking import plan_poll
from tests.unit.domain.test_scheduling import component, module


def test_repo_calls_come_after_every_task_call() -> None:
    """A build waiting for a repo before a build with open tasks does not
    shift the task answers (they are read first)."""
    waiting = replace(module(id=1), repo_task_id=50)
    busy = replace(module(id=2), state=ModuleState.BUILD)
    open_task = replace(
        component(7, "a", 2, module_build_id=2),
        state=ComponentState.BUILDING,
        task_id=70,
    )
    plan = plan_poll([(waiting, []), (busy, [open_task])])
    calls = poll_calls(plan.task_ids, plan.repo_checks)
    assert [c.method for c in calls] == [
        "getTaskInfo",
        "listBuilds",
        "getTaskInfo",
        "getRepo",
    ]
    assert calls[0].args == (70,)
    assert calls[2].args == (50,)
    assert plan.tasks == [(busy, open_task)]
    assert plan.repos == [waiting]
