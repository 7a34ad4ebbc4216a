"""Koji's objects as frozen values: tasks, builds, repos, tags, events, and
what became of each call of a multicall.

States are Koji's enum names in lower case (``koji.TASK_STATES`` and friends,
docs/koji.md), so they read the same as the hub's bus addresses
(``task.closed``, ``build.complete``). ``ridad/koji/values.py`` builds these
from the hub's dicts, and ``ridad/koji/hub.py`` (``KojiHub``) answers them.
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


@dataclass(frozen=True)
class KojiTag:
    """One Koji tag: its id and name."""

    id: int
    name: str


@dataclass(frozen=True)
class KojiTarget:
    """One Koji build target: where builds take their buildroot and go."""

    name: str
    build_tag: str
    dest_tag: str


@dataclass(frozen=True)
class KojiEvent:
    """One Koji event: its id and epoch seconds."""

    id: int
    ts: float


@dataclass(frozen=True)
class InheritanceLink:
    """One parent of a tag: the parent's id and the link's priority."""

    parent_id: int
    priority: int


@dataclass(frozen=True)
class KojiRefusal:
    """Koji refused one call of a multicall (the others went on)."""

    message: str
    fault_code: int
    fault_name: str


@dataclass(frozen=True)
class TaskReport:
    """What one poll learnt about a build task.

    ``task`` is None when Koji could not say (``problem`` says why);
    ``build`` is the task's build, if it made one.
    """

    task_id: int
    task: KojiTask | None
    build: KojiBuild | None
    problem: str | None = None


@dataclass(frozen=True)
class RepoReport:
    """What one poll learnt about a newRepo task and its tag's newest repo.

    ``task`` is None when the task cannot be read; ``repo`` when the tag has
    no repo (or it cannot be read).
    """

    task_id: int
    task: KojiTask | None
    repo: KojiRepo | None


@dataclass(frozen=True)
class PollReport:
    """The answers of one poll, by task id."""

    tasks: dict[int, TaskReport]
    repos: dict[int, RepoReport]


@dataclass(frozen=True)
class BuildSubmission:
    """What became of one ``build`` call: its task, or Koji's refusal."""

    source: str
    task_id: int | None
    refusal: KojiRefusal | None = None
