"""Task and build state changes shared by the API and the simulated builder."""

from __future__ import annotations

from typing import Any

import koji

from ridad.kojisim.context import Call
from ridad.kojisim.state import CHANNELS, Build, Task
from ridad.kojisim.wire import dump_fault, dump_request, dump_result, fault_for

__all__ = [
    "FINISHED",
    "cancel_build",
    "cancel_task",
    "close_task",
    "fail_task",
    "make_task",
]

TASK = koji.TASK_STATES
BUILD = koji.BUILD_STATES

#: Task states in which a task is finished.
FINISHED = frozenset({TASK["CLOSED"], TASK["CANCELED"], TASK["FAILED"]})


def make_task(
    call: Call,
    method: str,
    args: tuple[Any, ...] | list[Any],
    *,
    priority: int = koji.PRIO_DEFAULT,
    channel: str = "default",
) -> int:
    """Create a FREE top-level task owned by the caller; answer its id.

    :raises koji.GenericError: anonymous caller, or no such channel.
    """
    if call.user_id is None:
        raise koji.GenericError("task must have an owner")
    if channel not in CHANNELS:
        raise koji.GenericError(f"No such channel: {channel}")
    task = Task(
        id=call.state.next_id("task"),
        method=method,
        request=dump_request(method, tuple(args)),
        state=TASK["FREE"],
        owner=call.user_id,
        priority=priority,
        channel_id=CHANNELS[channel],
        arch="noarch",
        create_ts=call.now(),
    )
    call.state.tasks[task.id] = task
    call.changed()
    return task.id


def close_task(call: Call, task: Task, result: Any) -> None:
    """Mark an open task CLOSED with its result."""
    _finish(call, task, TASK["CLOSED"], dump_result(result))


def fail_task(call: Call, task: Task, error: BaseException) -> None:
    """Mark an open task FAILED with the fault ``error`` becomes."""
    code, message = fault_for(error)
    _finish(call, task, TASK["FAILED"], dump_fault(code, message))


def _finish(call: Call, task: Task, state: int, result: str) -> None:
    """Record a task's end."""
    task.state = state
    task.result = result
    task.completion_ts = call.now()
    call.changed()


def cancel_task(call: Call, task: Task, *, recurse: bool = True) -> None:
    """Cancel a task that has not finished, its BUILDING builds and children."""
    if task.state in FINISHED:
        return
    task.state = TASK["CANCELED"]
    task.completion_ts = call.now()
    call.changed()
    for build in list(call.state.builds.values()):
        if build.task_id == task.id and build.state == BUILD["BUILDING"]:
            cancel_build(call, build)
    if recurse:
        for child in list(call.state.tasks.values()):
            if child.parent == task.id:
                cancel_task(call, child, recurse=True)


def cancel_build(call: Call, build: Build) -> None:
    """Mark a build CANCELED."""
    build.state = BUILD["CANCELED"]
    build.completion_ts = call.now()
    call.changed()
