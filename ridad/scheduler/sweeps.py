"""The leader's sweeps over builds that are no longer being built: a build
stuck without progress fails, an ended build's Koji target is deleted, an
old failed build is collected as garbage (its components untagged).

The build driver's cycle calls ``run_when_due(epoch)``, which runs them
every ``SWEEP_INTERVAL_SECONDS``: so they run only on the active scheduler,
in the ``builds`` job, on its Koji session, and every change goes through
``Transitions`` under the lease epoch; a state change is announced on the
bus (the outbox) like any other. Each sweep reads what is due, asks Koji,
then records; running it again after a crash or a lost answer does nothing
twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from ridad.config.model import Config, KojiConfig
from ridad.db.pool import Pool
from ridad.db.sweeps import SweepStore
from ridad.domain.builds import ComponentBuild, ModuleBuild
from ridad.domain.lifecycle import garbage_reason, stuck_reason
from ridad.domain.states import ComponentState
from ridad.errors import InvalidRequest, KojiError, KojiUnavailable
from ridad.koji.hub import KojiHub
from ridad.scheduler.environment import environment_of
from ridad.transitions import Transitions

__all__ = ["SWEEP_INTERVAL_SECONDS", "BuildSweeps", "make_sweeps"]

#: How often the sweeps run on the leader.
SWEEP_INTERVAL_SECONDS = 300.0


def make_sweeps(
    config: Config,
    pool: Pool,
    transitions: Transitions,
    *,
    koji: KojiHub,
    clock: IReactorTime,
) -> BuildSweeps:
    """The sweeps of a configuration with a ``koji`` section."""
    assert config.koji is not None
    return BuildSweeps(
        store=SweepStore(pool=pool),
        koji=koji,
        transitions=transitions,
        config=config.koji,
        stuck_build_days=config.stuck_build_days,
        clock=clock,
    )


class BuildSweeps:
    """Fails stuck builds, deletes ended builds' targets, collects garbage."""

    log = Logger()

    def __init__(
        self,
        *,
        store: SweepStore,
        koji: KojiHub,
        transitions: Transitions,
        config: KojiConfig,
        stuck_build_days: float,
        clock: IReactorTime,
    ) -> None:
        self._store = store
        self._koji = koji
        self._transitions = transitions
        self._config = config
        self._stuck_build_days = stuck_build_days
        self._clock = clock
        #: When the sweeps last started (clock seconds); None: never.
        self.last_run_seconds: float | None = None

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.seconds(), tz=UTC)

    async def run_when_due(self, epoch: int) -> None:
        """Run the sweeps if ``SWEEP_INTERVAL_SECONDS`` have passed since
        they last started (at once the first time).

        :raises KojiUnavailable: Koji stayed unreachable.
        :raises NotLeader: another process took the scheduler lease.
        """
        last = self.last_run_seconds
        if last is not None and self._clock.seconds() < last + SWEEP_INTERVAL_SECONDS:
            return
        await self.run(epoch)

    async def run(self, epoch: int) -> None:
        """Run the three sweeps once. Koji refusing one sweep's call is
        logged and that sweep tried again next time.

        :raises KojiUnavailable: Koji stayed unreachable.
        :raises NotLeader: another process took the scheduler lease.
        """
        self.last_run_seconds = self._clock.seconds()
        now = self._now()
        for name, sweep in (
            ("stuck builds", self.fail_stuck),
            ("build targets", self.delete_targets),
            ("garbage", self.collect_garbage),
        ):
            try:
                await sweep(epoch, now)
            except KojiUnavailable:
                raise
            except KojiError as e:
                self.log.warn(
                    "The sweep of {name} stopped: {reason}", name=name, reason=e.message
                )

    async def fail_stuck(self, epoch: int, now: datetime) -> list[int]:
        """Fail every build whose last progress is ``stuck_build_days`` old;
        answer their ids."""
        days = self._stuck_build_days
        since = now - timedelta(days=days)
        failed = []
        for build, components in await self._store.stuck_builds(since=since):
            reason = stuck_reason(build, components, days)
            try:
                await self._transitions.fail_stuck(
                    build.id, reason, since=since, epoch=epoch
                )
            except InvalidRequest as e:
                self.log.info(
                    "Module build {module_build_id} is not stuck: {reason}",
                    module_build_id=build.id,
                    reason=e.message,
                )
                continue
            self.log.warn(
                "Module build {module_build_id} failed: {reason}",
                module_build_id=build.id,
                reason=reason,
            )
            failed.append(build.id)
        return failed

    async def delete_targets(self, epoch: int, now: datetime) -> list[int]:
        """Delete the target of every build that ended ``target_delete_hours``
        ago (not a target of that name leading elsewhere); answer the ids of
        the builds whose target is now recorded as gone."""
        ended_before = now - timedelta(hours=self._config.target_delete_hours)
        due = await self._store.targets_due(ended_before=ended_before)
        if not due:
            return []
        envs = {b.id: environment_of(b) for b in due}
        found = await self._koji.build_targets(
            sorted({env.target for env in envs.values()})
        )
        doomed = []
        for build in due:
            env = envs[build.id]
            target = found[env.target]
            if target is not None and target.dest_tag != env.koji_tag:
                self.log.warn(
                    "Build target {koji_target} builds into {koji_tag}, not into"
                    " the tag of module build {module_build_id}; it stays",
                    koji_target=env.target,
                    koji_tag=target.dest_tag,
                    module_build_id=build.id,
                )
            elif target is not None:
                doomed.append(env.target)
        await self._koji.delete_targets(doomed)
        for build in due:
            await self._transitions.record_target_deleted(build.id, epoch=epoch)
            if envs[build.id].target in doomed:
                self.log.info(
                    "Deleted build target {koji_target} of module build"
                    " {module_build_id}",
                    koji_target=envs[build.id].target,
                    module_build_id=build.id,
                )
        return [b.id for b in due]

    async def collect_garbage(self, epoch: int, now: datetime) -> list[int]:
        """Untag the component builds of every build failed ``garbage_days``
        ago from the module's tags and move it to garbage; answer their ids."""
        days = self._config.garbage_days
        due = await self._store.garbage_due(failed_before=now - timedelta(days=days))
        collected = []
        for build, components in due:
            if await self._collect(build, components, garbage_reason(days), epoch):
                collected.append(build.id)
        return collected

    async def _collect(
        self,
        build: ModuleBuild,
        components: Sequence[ComponentBuild],
        reason: str,
        epoch: int,
    ) -> bool:
        """Untag one build's components, then record it garbage; False when
        it was submitted again meanwhile (its components are then noted
        untagged, so that the scheduler tags them again)."""
        env = environment_of(build)
        built = [c for c in components if c.state is ComponentState.COMPLETE and c.nvr]
        if built:
            tags = [env.build_tag, env.koji_tag]
            present = await self._koji.tagged_nvrs(tags)
            await self._koji.untag_builds(
                [(tag, c.nvr) for c in built for tag in tags if c.nvr in present[tag]]
            )
        untagged = [c.id for c in built]
        try:
            await self._transitions.collect_garbage(
                build.id, untagged, reason, epoch=epoch
            )
        except InvalidRequest as e:
            self.log.info(
                "Module build {module_build_id} is not garbage: {reason}",
                module_build_id=build.id,
                reason=e.message,
            )
            if untagged:
                await self._transitions.record_untagged(build.id, untagged, epoch=epoch)
            return False
        self.log.info(
            "Module build {module_build_id} is garbage: {reason}",
            module_build_id=build.id,
            reason=reason,
        )
        return True
