"""Reading a task's output files: ``listTaskOutput`` and ``downloadTaskOutput``.

The hub walks the task's work directory for the first and reads a slice of
one file for the second; kojisim reads its L{TaskOutput} store.
"""

from __future__ import annotations

import errno
from typing import Any

import koji
from koji.util import base64encode

from ridad.kojisim.context import current
from ridad.kojisim.exports import Exports
from ridad.kojisim.lookup import int_param
from ridad.kojisim.output_store import DEFAULT_VOLUME

__all__ = ["exports"]

exports = Exports()


@exports.function("listTaskOutput", qualname="list_task_output")
def list_task_output(
    taskID: Any, stat: Any = False, all_volumes: Any = False, strict: Any = False
) -> Any:
    """The names of a task's output files; with ``stat`` a struct of their stats.

    With ``all_volumes`` each name maps to its volumes (``["DEFAULT"]``), or
    with ``stat`` as well to ``{"DEFAULT": stats}``. A task without output
    (or without a directory) answers an empty list or struct.

    :raises koji.GenericError: ``strict`` and no such task.
    """
    call = current()
    task_id = int_param(taskID)
    if strict and task_id not in call.state.tasks:
        raise koji.GenericError("Task doesn't exist")
    files = call.core.task_output.files(task_id)
    if not stat and not all_volumes:
        return list(files)
    result: dict[str, Any] = {}
    for name, found in files.items():
        if stat and all_volumes:
            result[name] = {DEFAULT_VOLUME: found.stat()}
        elif stat:
            result[name] = found.stat()
        else:
            result[name] = [DEFAULT_VOLUME]
    return result


@exports.method("downloadTaskOutput")
def download_task_output(
    self: Any,
    taskID: Any,
    fileName: Any,
    offset: Any = 0,
    size: Any = -1,
    volume: Any = None,
) -> str:
    """A slice of one output file, base64-encoded in a string.

    A positive ``offset`` reads from there, a negative one from that far
    before the end; ``size`` -1 (or any negative) reads to the end.

    :raises koji.GenericError: no such file, or a name with ``..``; an
        unknown ``volume``.
    :raises koji.ParameterError: ``size`` is not an integer.
    :raises OSError: a negative ``offset`` beyond the start (EINVAL, fault 1).
    """
    call = current()
    wanted = int_param(size)
    if volume and volume != DEFAULT_VOLUME:
        raise koji.GenericError(f"No such volume: {volume}")
    if ".." in fileName:
        raise koji.GenericError(f"Invalid file name: {fileName}")
    task_id = int_param(taskID)
    found = call.core.task_output.files(task_id).get(fileName)
    if found is None:
        raise koji.GenericError(f'no file "{fileName}" output by task {task_id}')
    start = int(offset) if isinstance(offset, str) else offset
    data = found.data
    if start is not None and start < 0:
        if -start > len(data):
            raise OSError(errno.EINVAL, "Invalid argument")
        start = len(data) + start
    position = start if start is not None and start > 0 else 0
    end = len(data) if wanted < 0 else position + wanted
    return base64encode(data[position:end])
