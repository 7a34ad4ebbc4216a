"""Regenerating a module build's buildroot repo (``newRepo`` on its -build
tag): after module-build-macros is submitted (its build waits for a repo,
as every kojid build does) and whenever a tagging is missing from it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from ridad.domain.builds import ComponentBuild, ModuleBuild
from ridad.domain.scheduling import repo_needed_event
from ridad.koji.hub import KojiHub
from ridad.scheduler.environment import environment_of
from ridad.transitions import Transitions

#: How far before the recorded intent a lost newRepo task is looked for.
LOOKUP_SLACK_SECONDS = 300


class RepoRequests:
    """Starts (or adopts) the newRepo task of a build's -build tag."""

    log = Logger()

    def __init__(
        self, *, koji: KojiHub, transitions: Transitions, clock: IReactorTime
    ) -> None:
        self._koji = koji
        self._transitions = transitions
        self._clock = clock

    async def request(
        self,
        build: ModuleBuild,
        components: Sequence[ComponentBuild],
        epoch: int,
        needed: int | None = None,
    ) -> None:
        """Start (or, after a crash or a lost answer, adopt) the newRepo task
        of a buildroot that lacks a tagging (or, ``needed`` given, a repo at
        that event or later); the intent is written first."""
        if build.repo_task_id is not None:
            return
        if needed is None:
            needed = repo_needed_event(build, components)
        if needed is None:
            return
        tag = environment_of(build).build_tag
        slack = timedelta(seconds=LOOKUP_SLACK_SECONDS)
        task_id = None
        if build.repo_requested_at is not None:
            since = build.repo_requested_at - slack
            task_id = await self._koji.find_repo_task(
                tag, since=since, min_event=needed
            )
        if task_id is None:
            await self._transitions.record_repo_task(build.id, None, epoch=epoch)
            now = datetime.fromtimestamp(self._clock.seconds(), tz=UTC)
            task_id = await self._koji.new_repo(
                tag, since=now - slack, min_event=needed
            )
        self.log.info(
            "Regenerating the buildroot of module build {module_build_id}"
            " (task {koji_task_id})",
            module_build_id=build.id,
            koji_task_id=task_id,
        )
        await self._transitions.record_repo_task(build.id, task_id, epoch=epoch)
