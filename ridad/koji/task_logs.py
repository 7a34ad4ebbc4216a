"""Reading the end of a failed task's log: ``getTaskChildren``,
``listTaskOutput`` and ``downloadTaskOutput``, batched over every failed task.

With kojid a ``build`` task fails because a subtask failed (a ``buildArch``,
or the SRPM build), and the logs are in that subtask's output; kojisim and
the recorded build host build in the task itself (recording 129). So the
log is looked for in the failed subtask (a ``buildArch`` first) if there is
one, else in the task. Its size comes from ``listTaskOutput(stat=True)``
(``st_size`` is a string), because a negative offset beyond the start of a
file is a fault (recording 135), and only its last ``MAX_LOG_BYTES`` are
downloaded: base64 text in a string (132-134).

At most three requests for any number of tasks (the subtasks and the
parents' listings; the subtasks' listings; the downloads), each one attempt
(``once``): this runs while a component is being failed, which must not
wait for it. A problem with one task (a missing log, a refused call, a bad
answer) leaves that task out; trouble with the hub itself is raised.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ridad.domain.task_logs import MAX_LOG_BYTES, TaskLogTail, choose_log, tail_lines
from ridad.errors import KojiFault
from ridad.koji.client import KojiClient
from ridad.koji.wire import KojiCall

__all__ = ["failure_logs"]

#: Koji's FAILED task state.
FAILED = 5
#: The subtask methods whose output holds a build's logs, by preference.
LOG_TASK_METHODS = ("buildArch", "buildSRPMFromSCM", "rebuildSRPM")


@dataclass(frozen=True)
class _Found:
    """Where one failed task's log is: the task that wrote it, its name and size."""

    task_id: int
    log: str
    size: int


async def failure_logs(
    client: KojiClient, faults: Mapping[int, str]
) -> dict[int, TaskLogTail]:
    """The tail of the log that says why each failed task failed.

    :param faults: each failed task's id with its fault (or reason) text,
        which may name the log to read.
    :return: by task id, for the tasks whose log was found and read.
    :raises KojiUnavailable: the hub did not answer a request.
    :raises KojiFault: when Koji refused a whole request.
    :raises KojiError: for a malformed answer.
    """
    task_ids = list(faults)
    if not task_ids:
        return {}
    calls = []
    for task_id in task_ids:
        calls.append(KojiCall("getTaskChildren", (task_id,)))
        calls.append(KojiCall("listTaskOutput", (task_id,), {"stat": True}))
    answers = await client.multicall(calls, once=True)
    children = {t: _failed_child(answers[2 * i]) for i, t in enumerate(task_ids)}
    listings = {t: answers[2 * i + 1] for i, t in enumerate(task_ids)}
    subtasks = sorted({c for c in children.values() if c is not None})
    if subtasks:
        answers = await client.multicall(
            [KojiCall("listTaskOutput", (c,), {"stat": True}) for c in subtasks],
            once=True,
        )
        child_listings = dict(zip(subtasks, answers, strict=True))
        for task_id, child in children.items():
            if child is not None:
                listings[task_id] = child_listings[child]
    found = {}
    for task_id in task_ids:
        owner = children[task_id] or task_id
        where = _log_in(owner, listings[task_id], faults[task_id])
        if where is not None:
            found[task_id] = where
    return await _download(client, found)


def _failed_child(children: Any) -> int | None:
    """The failed subtask that holds the logs (a ``buildArch`` first); None
    if none failed, or the answer is not a list of tasks."""
    if not isinstance(children, list):
        return None
    failed = [
        c
        for c in children
        if isinstance(c, dict) and c.get("state") == FAILED and type(c.get("id")) is int
    ]

    def preference(child: dict[str, Any]) -> tuple[int, int]:
        method = child.get("method")
        rank = LOG_TASK_METHODS.index(method) if method in LOG_TASK_METHODS else 99
        return rank, child["id"]

    return min(failed, key=preference)["id"] if failed else None


def _log_in(task_id: int, listing: Any, fault: str) -> _Found | None:
    """The log to read in one task's ``listTaskOutput(stat=True)`` answer."""
    if not isinstance(listing, dict):
        return None
    sizes = {}
    for name, stat in listing.items():
        try:
            sizes[name] = int(stat["st_size"])
        except (TypeError, KeyError, ValueError):
            continue
    log = choose_log(sizes, fault)
    if log is None or sizes[log] <= 0:
        return None
    return _Found(task_id, log, sizes[log])


async def _download(
    client: KojiClient, found: Mapping[int, _Found]
) -> dict[int, TaskLogTail]:
    """Download the end of each found log (one multicall) and cut its tail."""
    if not found:
        return {}
    order = list(found)
    calls = []
    for task_id in order:
        where = found[task_id]
        offset = max(where.size - MAX_LOG_BYTES, 0)
        kwargs = {"offset": offset, "size": MAX_LOG_BYTES}
        calls.append(KojiCall("downloadTaskOutput", (where.task_id, where.log), kwargs))
    answers = await client.multicall(calls, once=True)
    tails = {}
    for task_id, answer in zip(order, answers, strict=True):
        where = found[task_id]
        data = _decoded(answer)
        if data is None:
            continue
        partial = where.size > MAX_LOG_BYTES
        tails[task_id] = TaskLogTail(
            task_id=where.task_id,
            log=where.log,
            lines=tail_lines(data, partial=partial),
        )
    return tails


def _decoded(answer: Any) -> bytes | None:
    """The bytes of a ``downloadTaskOutput`` answer: base64 text in a string
    (bytes if a hub sent ``<base64>``); None for a fault or bad base64."""
    if isinstance(answer, KojiFault):
        return None
    if isinstance(answer, bytes):
        return answer
    if not isinstance(answer, str):
        return None
    try:
        return base64.b64decode(answer, validate=True)
    except (binascii.Error, ValueError):
        return None
