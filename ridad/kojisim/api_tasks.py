"""Task calls: submit a build, read tasks and results, cancel."""

from __future__ import annotations

import datetime
from typing import Any

import koji
from koji.xmlrpcplus import Fault

from ridad.kojisim.context import current
from ridad.kojisim.exports import Exports
from ridad.kojisim.lookup import check_str, int_param, require_task
from ridad.kojisim.query import apply_query_opts
from ridad.kojisim.state import HubState, Task
from ridad.kojisim.tasks import FINISHED, cancel_task, make_task
from ridad.kojisim.views import decoded_request, decoded_result, task_view

__all__ = ["exports"]

exports = Exports()

_TIME_FILTERS = (
    ("createdBefore", "create_ts", -1),
    ("createdAfter", "create_ts", 1),
    ("startedBefore", "start_ts", -1),
    ("startedAfter", "start_ts", 1),
    ("completeBefore", "completion_ts", -1),
    ("completeAfter", "completion_ts", 1),
    ("completedBefore", "completion_ts", -1),
    ("completedAfter", "completion_ts", 1),
)


@exports.method("build", writes=True)
def build(
    self: Any,
    src: Any,
    target: Any,
    opts: Any = None,
    priority: Any = None,
    channel: Any = None,
) -> int:
    """Create a FREE ``build`` task; the builder checks the target and source later.

    :raises koji.ActionNotAllowed: anonymous, or a negative priority without admin.
    :raises koji.ParameterError: ``src`` is not a string.
    """
    call = current()
    call.assert_login()
    check_str(src)
    task_priority = koji.PRIO_DEFAULT
    if priority:
        if priority < 0 and not call.has_perm("admin"):
            raise koji.ActionNotAllowed("only admins may create high-priority tasks")
        task_priority += int_param(priority)
    return make_task(
        call,
        "build",
        [src, target, opts or {}],
        priority=task_priority,
        channel=channel or "default",
    )


@exports.method("getTaskInfo")
def get_task_info(
    self: Any, task_id: Any, request: bool = False, strict: bool = False
) -> Any:
    """A task's dict (or a list of them for a list of ids); None when missing.

    :raises koji.GenericError: strict and no such task.
    """
    state = current().state
    if isinstance(task_id, list | tuple):
        return [_task_info(state, one, request, strict) for one in task_id]
    return _task_info(state, task_id, request, strict)


def _task_info(state: HubState, task_id: Any, request: bool, strict: bool) -> Any:
    """One task's dict or None."""
    task = state.tasks.get(int_param(task_id))
    if task is None:
        if strict:
            raise koji.GenericError("query returned no rows")
        return None
    return task_view(task, request=bool(request))


@exports.method("getTaskResult")
def get_task_result(self: Any, taskId: Any, raise_fault: bool = True) -> Any:
    """A finished task's result; a FAILED task's fault is raised (or returned).

    :raises koji.GenericError: no such task, canceled, or not finished.
    :raises Fault: the task failed and ``raise_fault`` is true.
    """
    task = current().state.tasks.get(int_param(taskId))
    if task is None:
        raise koji.GenericError("No such task")
    if task.state == koji.TASK_STATES["CANCELED"]:
        raise koji.GenericError(f"Task {task.id} is canceled")
    if task.state not in FINISHED:
        raise koji.GenericError(f"Task {task.id} is not finished")
    try:
        return decoded_result(task)
    except Fault as fault:
        if raise_fault:
            raise
        return {"faultCode": fault.faultCode, "faultString": fault.faultString}


@exports.method("getTaskChildren")
def get_task_children(
    self: Any, task_id: Any, request: bool = False, strict: bool = False
) -> list[dict[str, Any]]:
    """The task's direct subtasks.

    :raises koji.GenericError: strict and no such task.
    """
    state = current().state
    parent_id = int_param(task_id)
    if strict:
        require_task(state, parent_id)
    return [task_view(t, request=bool(request)) for t in _children(state, parent_id)]


def _children(state: HubState, parent_id: int) -> list[Task]:
    """A task's subtasks by id."""
    return sorted(
        (t for t in state.tasks.values() if t.parent == parent_id), key=lambda t: t.id
    )


@exports.method("getTaskDescendents")
def get_task_descendents(
    self: Any, task_id: Any, request: bool = False
) -> dict[str, Any]:
    """Every descendant: ``{str(task id): [child dicts]}``, from the task down."""
    state = current().state
    result: dict[str, Any] = {}
    pending = [int_param(task_id)]
    while pending:
        parent = pending.pop(0)
        children = _children(state, parent)
        result[str(parent)] = [task_view(t, request=bool(request)) for t in children]
        pending.extend(t.id for t in children)
    return result


@exports.method("listTasks")
def list_tasks(self: Any, opts: Any = None, queryOpts: Any = None) -> Any:
    """Tasks matching ``opts``, with raw request/result XML (unless ``decode``)."""
    state = current().state
    opts = opts or {}
    tasks = [
        t for t in sorted(state.tasks.values(), key=lambda t: t.id) if _matches(t, opts)
    ]
    rows = [_task_row(state, task, bool(opts.get("decode"))) for task in tasks]
    return apply_query_opts(rows, queryOpts)


def _matches(task: Task, opts: dict[str, Any]) -> bool:
    """Whether a task passes the ``listTasks`` filters."""
    for name in ("arch", "state"):
        if name in opts and getattr(task, name) not in opts[name]:
            return False
        if f"not_{name}" in opts and getattr(task, name) in opts[f"not_{name}"]:
            return False
    for name in ("owner", "host_id", "channel_id", "parent"):
        value = getattr(task, name)
        if name in opts and not _int_filter(value, opts[name]):
            return False
        if f"not_{name}" in opts and _int_filter(value, opts[f"not_{name}"]):
            return False
    if "method" in opts and task.method != opts["method"]:
        return False
    return all(_time_filter(task, opts, *spec) for spec in _TIME_FILTERS)


def _int_filter(value: Any, wanted: Any) -> bool:
    """An id filter: None, a list of ids, or one id."""
    if wanted is None:
        return value is None
    if isinstance(wanted, list):
        return value in wanted
    return bool(value == int_param(wanted))


def _time_filter(
    task: Task, opts: dict[str, Any], key: str, field: str, sign: int
) -> bool:
    """A before/after filter on one of the task's times."""
    limit = opts.get(key)
    if limit is None:
        return True
    if isinstance(limit, str):
        when = datetime.datetime.fromisoformat(limit)
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.UTC)
        limit = when.timestamp()
    value = getattr(task, field)
    return value is not None and (value - float(limit)) * sign > 0


def _task_row(state: HubState, task: Task, decode: bool) -> dict[str, Any]:
    """A ``listTasks`` entry."""
    row = task_view(task)
    owner = state.users.get(task.owner)
    row["request"] = task.request
    row["result"] = task.result
    if decode:
        row["request"] = list(decoded_request(task))
        row["result"] = _decoded_result_list(task)
    row["owner_name"] = owner.name if owner else None
    row["owner_type"] = owner.usertype if owner else None
    return row


def _decoded_result_list(task: Task) -> Any:
    """A result decoded as ``listTasks(decode=True)`` does: a list, or the fault."""
    if task.result is None:
        return None
    try:
        return [decoded_result(task)]
    except Fault as fault:
        return {"faultCode": fault.faultCode, "faultString": fault.faultString}


@exports.method("cancelTask", writes=True)
def cancel_task_api(self: Any, task_id: Any, recurse: bool = True) -> None:
    """Cancel a task (owner or admin), its BUILDING builds and its children.

    :raises koji.GenericError: no such task.
    :raises koji.ActionNotAllowed: neither owner nor admin.
    """
    call = current()
    wanted = int_param(task_id)
    owner = False
    if call.user_id is not None:
        task = call.state.tasks.get(wanted)
        if task is None:
            raise koji.GenericError(f"No such task: {wanted}")
        owner = task.owner == call.user_id
    if not owner and not call.has_perm("admin"):
        raise koji.ActionNotAllowed("Cannot cancel task, not owner")
    cancel_task(call, call.state.tasks[wanted], recurse=bool(recurse))


@exports.method("taskFinished")
def task_finished(self: Any, taskId: Any) -> bool:
    """Whether the task is CLOSED, CANCELED or FAILED.

    :raises koji.GenericError: no such task.
    """
    return require_task(current().state, taskId).state in FINISHED
