"""Why a Koji build failed: which of its task's logs to read, and its tail.

When a build task fails, its fault says what failed; the log that says why
is in the task's output (or in that of the ``buildArch`` subtask that
failed, with kojid). kojid's fault names it (``...; see build.log for more
information`` for a failed rpmbuild, ``see root.log`` when the buildroot
could not be installed). These rules choose the log, cut its last lines out
of the bytes read from Koji, clean them for storage and JSON, and put them
under the component's reason.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

__all__ = [
    "LOG_LINES",
    "MAX_LOG_BYTES",
    "TaskLogTail",
    "choose_log",
    "first_line",
    "reason_with_log",
    "tail_lines",
]

#: How many lines of the log a component's reason carries.
LOG_LINES = 40
#: How many bytes of the log are read from its end, and the most the tail keeps.
MAX_LOG_BYTES = 8192
#: The logs to read when the fault names none, in order of preference.
DEFAULT_LOGS = ("build.log", "root.log")

_NAMED_LOG = re.compile(r"\bsee (\S+\.log) for more information")
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class TaskLogTail:
    """The last lines of one log of a failed task."""

    task_id: int
    log: str
    lines: tuple[str, ...]


def choose_log(names: Collection[str], fault: str | None) -> str | None:
    """The log that says why the task failed: the one its fault names, else
    ``build.log``, else ``root.log``; None if the task has none of them."""
    named = _NAMED_LOG.search(fault or "")
    if named is not None and named.group(1) in names:
        return named.group(1)
    return next((name for name in DEFAULT_LOGS if name in names), None)


def tail_lines(
    data: bytes,
    *,
    partial: bool,
    count: int = LOG_LINES,
    max_bytes: int = MAX_LOG_BYTES,
) -> tuple[str, ...]:
    """The last ``count`` lines of a log's end, at most ``max_bytes`` of UTF-8.

    ``partial`` says ``data`` starts inside the file, so its first line is
    cut and dropped (unless it is the only one). Bytes that are not UTF-8
    become U+FFFD; terminal escapes and control characters other than tabs
    are removed (a NUL cannot be stored, and they mean nothing in JSON).
    A line longer than ``max_bytes`` keeps its end.
    """
    if len(data) > max_bytes:
        data, partial = data[-max_bytes:], True
    text = data.decode("utf-8", "replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROLS.sub("", _ESCAPES.sub("", text))
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if partial and len(lines) > 1:
        lines.pop(0)
    kept: list[str] = []
    size = 0
    for line in reversed(lines[-count:] if count > 0 else []):
        encoded = len(line.encode()) + 1
        if size + encoded > max_bytes:
            if not kept:
                kept.append(_end_of(line, max_bytes - 1))
            break
        kept.append(line)
        size += encoded
    return tuple(reversed(kept))


def _end_of(line: str, max_bytes: int) -> str:
    """The end of ``line`` that fits in ``max_bytes`` of UTF-8."""
    end = line.encode()[-max_bytes:] if max_bytes > 0 else b""
    return end.decode("utf-8", "ignore")


def reason_with_log(reason: str, tail: TaskLogTail | None) -> str:
    """A failed component's reason: Koji's, then its log's tail under a
    header line naming the log and the task it came from."""
    if tail is None or not tail.lines:
        return reason
    header = (
        f"--- last {len(tail.lines)} lines of {tail.log} (Koji task {tail.task_id}) ---"
    )
    return "\n".join((reason, header, *tail.lines))


def first_line(reason: str) -> str:
    """The first line of a reason (a component's, without its log)."""
    return reason.split("\n", 1)[0]
