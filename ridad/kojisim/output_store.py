"""The files tasks leave in their work directories.

On a real hub the builder uploads a task's logs (and packages) into
``<topdir>/work/tasks/<id % 10000>/<id>/``. Files live outside the database,
so they are not undone when the builder's transaction is: here they sit in a
L{TaskOutput} store next to the hub's state (``HubCore.task_output``), kept
in the order the builder wrote them, which is the order ``listTaskOutput``
names them (``api_task_output``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_VOLUME", "OutputFile", "TaskOutput"]

#: The only volume kojisim has.
DEFAULT_VOLUME = "DEFAULT"


@dataclass(frozen=True)
class OutputFile:
    """One file of a task's output, with the time it was written."""

    data: bytes
    mtime: float

    def stat(self) -> dict[str, Any]:
        """The members ``listTaskOutput(stat=True)`` gives a file (size as a string)."""
        return {
            "st_atime": self.mtime,
            "st_ctime": self.mtime,
            "st_mtime": self.mtime,
            "st_size": str(len(self.data)),
        }


class TaskOutput:
    """The output files of every task, by task id then file name."""

    def __init__(self) -> None:
        """Start with no files."""
        self._files: dict[int, dict[str, OutputFile]] = {}

    def write(self, task_id: int, name: str, data: bytes, mtime: float) -> None:
        """Store (or replace) one file of a task's output."""
        self._files.setdefault(task_id, {})[name] = OutputFile(data, mtime)

    def write_all(
        self, task_id: int, files: Iterable[tuple[str, bytes]], mtime: float
    ) -> None:
        """Store several files of a task's output, in order."""
        for name, data in files:
            self.write(task_id, name, data, mtime)

    def files(self, task_id: int) -> dict[str, OutputFile]:
        """A task's files by name, in the order written (empty if none)."""
        return dict(self._files.get(task_id, {}))
