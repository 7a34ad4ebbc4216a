"""Light passes between full cycles (issue 14 §3): a bus event about a
tracked task or tag, or a build whose state changed since the driver last
acted on it, is worth a pass over just those builds at once, rather than a
full cycle (every open task polled, every build advanced) one cycle later.

A light pass runs through the same poller as the full cycle, so two passes
never overlap and never act on the same build at once. The full cycle runs
whenever one poll interval has passed since the last, as the safety net for
whatever no event told of (a lost event, a timeout, the sweeps)."""

from __future__ import annotations

from collections.abc import Sequence

from ridad.bus.events import KojiEvent
from ridad.domain.builds import ComponentBuild, ModuleBuild
from ridad.domain.scheduling import outcome, submittable
from ridad.domain.states import ModuleState
from ridad.scheduler.environment import environment_of

Active = Sequence[tuple[ModuleBuild, list[ComponentBuild]]]


class LightPasses:
    """Which builds a light pass visits: those an event was about, those
    that changed since they were last seen, the done ones (a Greenwave
    update may release them) and those the importer has, and, while the budget of concurrent builds
    has room, those with components to submit."""

    def __init__(self) -> None:
        self._seen: dict[int, tuple[ModuleBuild, list[ComponentBuild]]] = {}
        self._hinted: set[int] = set()
        self._by_task: dict[int, int] = {}
        self._by_tag: dict[str, set[int]] = {}

    def take_hints(self) -> frozenset[int]:
        """The builds events were about since the last time (forgotten now:
        an event arriving during the pass is for the next one)."""
        hinted, self._hinted = frozenset(self._hinted), set()
        return hinted

    def hint(self, event: KojiEvent) -> None:
        """Note the builds ``event`` is about (its task, parent or tag)."""
        for task_id in (event.task_id, event.parent_task_id):
            if task_id is not None and task_id in self._by_task:
                self._hinted.add(self._by_task[task_id])
        if event.tag is not None:
            self._hinted.update(self._by_tag.get(event.tag, ()))

    def track(self, active: Active) -> tuple[frozenset[int], frozenset[str]]:
        """The tasks and tags of ``active`` bus events may be about (for the
        listener), remembered with their builds."""
        self._by_task, self._by_tag = {}, {}
        for build, components in active:
            tasks = [c.task_id for c in components if c.task_id is not None]
            if build.repo_task_id is not None:
                tasks.append(build.repo_task_id)
            for task_id in tasks:
                self._by_task[task_id] = build.id
            env = environment_of(build)
            for tag in (env.koji_tag, env.build_tag):
                self._by_tag.setdefault(tag, set()).add(build.id)
        return frozenset(self._by_task), frozenset(self._by_tag)

    def restore(self, hinted: frozenset[int]) -> None:
        """Hints a pass took and could not act upon (it failed)."""
        self._hinted |= hinted

    def note_tasks(self, build_id: int, task_ids: Sequence[int]) -> None:
        """Tasks just submitted for ``build_id``."""
        for task_id in task_ids:
            self._by_task[task_id] = build_id

    def choose(self, active: Active, hinted: frozenset[int], *, budget: int) -> Active:
        """The builds of ``active`` a light pass visits."""
        chosen = []
        for build, components in active:
            if (
                build.id in hinted
                or build.state is ModuleState.DONE
                or _importing(build, components)
                or self._seen.get(build.id) != (build, components)
                or (budget > 0 and _submittable(build, components))
            ):
                chosen.append((build, components))
        return chosen

    def visited(self, active: Active, *, full: bool) -> None:
        """The builds of ``active`` were acted upon as read (after a full
        cycle, every active build: the others are no longer active)."""
        if full:
            self._seen.clear()
        for build, components in active:
            self._seen[build.id] = (build, components)


def _importing(build: ModuleBuild, components: Sequence[ComponentBuild]) -> bool:
    """Whether the importer has the build (its steps write what the build's
    read does not show)."""
    return build.state is ModuleState.BUILD and outcome(components).finished


def _submittable(build: ModuleBuild, components: Sequence[ComponentBuild]) -> bool:
    """Whether the build has components it could submit now."""
    return build.state is ModuleState.BUILD and bool(submittable(build, components))
