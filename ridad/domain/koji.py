"""Koji's objects as frozen values: tasks, builds and repos.

States are Koji's enum names in lower case (``koji.TASK_STATES`` and friends,
KOJI.md section 2), so they read the same as the hub's bus addresses
(``task.closed``, ``build.complete``). ``ridad/koji/values.py`` builds these
from the hub's dicts.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Task states after which a task never changes again.
FINISHED_TASK_STATES = frozenset({"closed", "canceled", "failed"})


@dataclass(frozen=True)
class KojiTask:
    """One Koji task, as ``getTaskInfo`` describes it.

    ``state`` is one of ``free``, ``open``, ``closed``, ``canceled``,
    ``assigned``, ``failed``. Times are epoch seconds (the hub's ``*_ts``
    fields); ``owner`` is the owner's user id.
    """

    id: int
    state: str
    method: str
    create_ts: float
    start_ts: float | None
    completion_ts: float | None
    parent: int | None
    owner: int

    @property
    def finished(self) -> bool:
        """Whether the task is closed, canceled or failed."""
        return self.state in FINISHED_TASK_STATES


@dataclass(frozen=True)
class KojiBuild:
    """One Koji build, as ``getBuild``, ``listBuilds`` or ``listTagged`` give it.

    ``state`` is one of ``building``, ``complete``, ``deleted``, ``failed``,
    ``canceled``; ``task_id`` is None for imported builds.
    """

    id: int
    nvr: str
    name: str
    version: str
    release: str
    state: str
    task_id: int | None


@dataclass(frozen=True)
class KojiRepo:
    """One Koji repo of a tag, as ``getRepo`` or ``repoInfo`` give it.

    ``state`` is one of ``init``, ``ready``, ``expired``, ``deleted``,
    ``problem``; ``create_event`` is the tag event the repo reflects.
    """

    id: int
    state: str
    create_event: int
    tag_name: str
