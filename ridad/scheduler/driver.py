"""One scheduling cycle: poll Koji, then move every active module build one
step further (environment, module-build-macros, batches, tagging, repos,
importing the module into Koji, cancelling)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from ridad.bus.events import KojiEvent
from ridad.config.model import KojiConfig
from ridad.db.builds import SchedulingStore
from ridad.domain.buildroot import arch_override
from ridad.domain.builds import ComponentBuild, ModuleBuild
from ridad.domain.scheduling import (
    MACROS_PACKAGE,
    metadata_only,
    outcome,
    submittable,
)
from ridad.domain.states import ComponentState, ModuleState
from ridad.errors import KojiError, KojiUnavailable, NotLeader, Unprocessable
from ridad.koji.hub import KojiHub
from ridad.metrics.instruments import Metrics
from ridad.scheduler.cgimport import ModuleImporter
from ridad.scheduler.environment import (
    BuildEnvironment,
    buildrequired_modulemds,
    dist_of,
    environment_of,
)
from ridad.scheduler.gating import GreenwaveGate
from ridad.scheduler.intents import recover_intents
from ridad.scheduler.macros import MacrosSrpm
from ridad.scheduler.passes import Active, LightPasses
from ridad.scheduler.repos import RepoRequests
from ridad.scheduler.reuse import ComponentReuse, macros_component
from ridad.scheduler.sweeps import BuildSweeps
from ridad.scheduler.tagging import tag_completed
from ridad.scheduler.tracking import TaskTracker
from ridad.transitions import Transitions

MAX_REPO_ATTEMPTS = 3
#: Builds module-build-macros for a build and its ``%dist``.
MacrosBuilder = Callable[[ModuleBuild, str], Awaitable[MacrosSrpm]]


class BuildDriver:
    """Drives every active module build through Koji, one cycle at a time
    (events about the tasks it submits count at once). A built module is
    imported into Koji by the ``importer`` before it is ``done``. With a
    ``gate`` a done build waits for Greenwave's decision; else ``ready``."""

    log = Logger()

    def __init__(
        self,
        *,
        store: SchedulingStore,
        koji: KojiHub,
        transitions: Transitions,
        config: KojiConfig,
        clock: IReactorTime,
        build_macros: MacrosBuilder,
        importer: ModuleImporter,
        gate: GreenwaveGate | None = None,
        sweeps: BuildSweeps | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics or Metrics()
        self._store = store
        self._importer = importer
        self._gate = gate
        self._sweeps = sweeps
        self._koji = koji
        self._transitions = transitions
        self._config = config
        self._clock = clock
        self._build_macros = build_macros
        self._environment = BuildEnvironment(koji=koji, config=config)
        self._tracker = TaskTracker(
            koji=koji, transitions=transitions, clock=clock, events=self._metrics.events
        )
        self._repos = RepoRequests(koji=koji, transitions=transitions, clock=clock)
        self._reuse = ComponentReuse(store=store, transitions=transitions)
        self.last_cycle_seconds: float | None = None
        self.last_polled_tasks = 0
        self.tracked_tasks: frozenset[int] = frozenset()
        self.tracked_tags: frozenset[str] = frozenset()
        self._passes = LightPasses()
        self._last_full: float | None = None

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.seconds(), tz=UTC)

    def note_event(self, task_id: int) -> None:
        """A bus event about tracked task ``task_id`` arrived now (for the
        latency to the change it causes)."""
        self._metrics.events.arrived(task_id, self._clock.seconds())

    async def close(self) -> None:
        """Log out of Koji, when the scheduler stops (the next cycle logs in
        again); a hub that does not answer is logged, not raised."""
        try:
            await self._koji.log_out()
        except KojiError as e:
            self.log.warn("Could not log out of Koji: {reason}", reason=e.message)

    def hint(self, event: KojiEvent) -> None:
        """A bus event about a tracked task or tag: its builds are visited
        by the next pass (poked by the listener)."""
        self._passes.hint(event)

    async def run(self, epoch: int) -> None:
        """The poller's pass: a full cycle when one poll interval has passed
        since the last (or none ran yet), else a light pass."""
        due = self._last_full is None or (
            self._clock.seconds() - self._last_full
            >= self._config.poll_interval_seconds
        )
        await self.cycle(epoch, light=not due)

    async def cycle(self, epoch: int, *, light: bool = False) -> None:
        """Poll Koji once, then advance every active build (and run the
        sweeps when they are due); ``light``: only the builds events were
        about or that changed since last seen (:mod:`passes`).

        :raises KojiUnavailable: Koji stayed unreachable (nothing fails).
        :raises NotLeader: another process took the scheduler lease.
        """
        hinted = self._passes.take_hints()
        try:
            await self._pass(epoch, hinted, light)
        except BaseException:
            self._passes.restore(hinted)
            raise

    async def _pass(self, epoch: int, hinted: frozenset[int], light: bool) -> None:
        started = self._clock.seconds()
        active = await self._store.active_builds()
        chosen = self._choose(active, hinted, light)
        self.last_polled_tasks = await self._tracker.poll(
            chosen,
            epoch=epoch,
            now=self._now(),
            task_timeout=timedelta(hours=self._config.task_timeout_hours),
            partial=light,
        )
        self._metrics.cycle_tasks.observe(self.last_polled_tasks)
        if self._tracker.last_changes or self._tracker.last_failed:
            # Read again only when the poll wrote (an API change pokes a cycle).
            active = await self._store.active_builds()
            chosen = self._choose(active, hinted, light)
        self.tracked_tasks, self.tracked_tags = self._passes.track(active)
        budget, fresh, done = self._budget(active), {}, []
        for build, components in chosen:
            build, components = fresh.get(build.id, (build, components))
            budget -= await self._advance_guarded(build, components, epoch, budget)
            done.append((build, components))
            fresh |= await self._poll_hinted(epoch)
        self._passes.visited(done, full=not light)
        if not light:
            self._last_full = started
            if self._sweeps is not None:
                await self._sweeps.run_when_due(epoch)
        self.last_cycle_seconds = self._clock.seconds() - started

    async def _poll_hinted(
        self, epoch: int
    ) -> dict[int, tuple[ModuleBuild, list[ComponentBuild]]]:
        """Poll now the builds events were about since the pass began (not
        waiting for its other builds), and return them as they are now: the
        pass advances those it has yet to come to from this read, the next
        pass (poked by what the poll recorded) the others."""
        hinted = self._passes.take_hints()
        if not hinted:
            return {}
        try:
            some = await self._store.builds_of(sorted(hinted))
            await self._tracker.poll(
                some,
                epoch=epoch,
                now=self._now(),
                task_timeout=timedelta(hours=self._config.task_timeout_hours),
                partial=True,
            )
            if self._tracker.last_changes or self._tracker.last_failed:
                some = await self._store.builds_of(sorted(hinted))
        except BaseException:
            self._passes.restore(hinted)
            raise
        return {b.id: (b, cs) for b, cs in some}

    def _choose(self, active: Active, hinted: frozenset[int], light: bool) -> Active:
        if not light:
            return active
        return self._passes.choose(active, hinted, budget=self._budget(active))

    def _budget(self, active: Active) -> int:
        building = sum(
            1 for _, cs in active for c in cs if c.state is ComponentState.BUILDING
        )
        return self._config.max_concurrent_builds - building

    async def _advance_guarded(
        self,
        build: ModuleBuild,
        components: list[ComponentBuild],
        epoch: int,
        budget: int,
    ) -> int:
        try:
            return await self._advance(build, components, epoch, budget)
        except (KojiUnavailable, NotLeader):
            raise
        except (KojiError, Unprocessable) as e:
            await self._fail(build, components, e.message, epoch)
        return 0

    async def _advance(
        self,
        build: ModuleBuild,
        components: list[ComponentBuild],
        epoch: int,
        budget: int,
    ) -> int:
        if build.state is ModuleState.FAILED:
            await self._cancel_open(build, components, epoch)
        elif build.state is ModuleState.INIT:
            await self._transitions.change_module_state(
                build.id, ModuleState.WAIT, None, epoch=epoch
            )
        elif build.state is ModuleState.WAIT:
            await self._prepare(build, components, epoch)
        elif build.state is ModuleState.BUILD:
            return await self._build_step(build, components, epoch, budget)
        elif build.state is ModuleState.DONE:
            await self._release(build, epoch)
        return 0

    async def _release(self, build: ModuleBuild, epoch: int) -> None:
        """Move a done build to ``ready``: at once, or when the gate allows.

        A scratch build stays ``done``: it is never gated nor released.
        """
        if build.scratch:
            return
        if self._gate is not None:
            await self._gate.release(build, epoch)
        else:
            await self._transitions.change_module_state(
                build.id, ModuleState.READY, None, epoch=epoch
            )

    async def _prepare(
        self, build: ModuleBuild, components: list[ComponentBuild], epoch: int
    ) -> None:
        dist = await dist_of(self._store, build)
        modulemds = await buildrequired_modulemds(self._store, build)
        plan = await self._environment.plan(build, list(modulemds.values()))
        env = await self._environment.prepare(build, components, dist, plan)
        buildrequires = await self._environment.filtered_rpms(build, modulemds)
        macros = None
        if metadata_only(components):
            self.log.info(
                "Module build {module_build_id} has no components: nothing to"
                " build, its modulemd goes straight to the import",
                module_build_id=build.id,
            )
        elif not any(c.name == MACROS_PACKAGE and c.source for c in components):
            # None yet, or reset by a resubmission: made (or reused) now.
            macros = await macros_component(
                koji=self._koji,
                build_macros=self._build_macros,
                build=replace(build, buildrequires=buildrequires),
                dist=dist,
                components=components,
                source=await self._reuse.choose(build, epoch),
            )
        await self._transitions.record_environment(
            build.id,
            koji_tag=env.koji_tag,
            macros=macros,
            buildrequires=buildrequires,
            epoch=epoch,
        )

    async def _build_step(
        self,
        build: ModuleBuild,
        components: list[ComponentBuild],
        epoch: int,
        budget: int,
    ) -> int:
        if await recover_intents(
            self._koji, self._transitions, build, components, epoch
        ):
            return 0
        result = outcome(components)
        if result.failed_reason:
            await self._fail(build, components, result.failed_reason, epoch)
            return 0
        if result.finished:
            done = await self._importer.produce(build, components, epoch)
            if done is not None:
                await self._release(done.build, epoch)
            return 0
        if await tag_completed(
            self._environment, self._koji, self._transitions, build, components, epoch
        ):
            return 0
        if build.repo_attempts >= MAX_REPO_ATTEMPTS:
            await self._fail(
                build,
                components,
                f"Regenerating the repo of {environment_of(build).build_tag} failed"
                f" {build.repo_attempts} times",
                epoch,
            )
            return 0
        await self._repos.request(build, components, epoch)
        return await self._submit(build, components, epoch, budget)

    async def _submit(
        self,
        build: ModuleBuild,
        components: list[ComponentBuild],
        epoch: int,
        budget: int,
    ) -> int:
        building = sum(1 for c in components if c.state is ComponentState.BUILDING)
        room = min(budget, self._config.max_concurrent_builds_per_module - building)
        waiting = submittable(build, components)
        chosen = (await self._reuse.apply(build, components, waiting, epoch))[
            : max(room, 0)
        ]
        if not chosen:
            return 0
        await self._transitions.record_submission_intent(
            build.id, [c.id for c in chosen], epoch=epoch
        )
        target = environment_of(build).target
        module_arches = build.arches or self._config.arches
        submissions = await self._koji.submit_builds(
            [(c.source or "", target) for c in chosen],
            [arch_override(c.arches, module_arches) for c in chosen],
        )
        if submissions is None:
            return len(chosen)  # may have happened: looked up next cycle
        outcomes: dict[int, int | str] = {}
        for c, submitted in zip(chosen, submissions, strict=True):
            if submitted.refusal is not None:
                outcomes[c.id] = f"Koji refused the build: {submitted.refusal.message}"
            elif submitted.task_id is not None:
                outcomes[c.id] = submitted.task_id
        await self._transitions.record_submissions(build.id, outcomes, epoch=epoch)
        submitted = [t for t in outcomes.values() if isinstance(t, int)]
        self.tracked_tasks |= set(submitted)
        self._passes.note_tasks(build.id, submitted)
        if build.repo_event is None and any(
            c.name == MACROS_PACKAGE and isinstance(outcomes.get(c.id), int)
            for c in chosen
        ):
            await self._repos.request(build, components, epoch, needed=0)
        return len(chosen)

    async def _fail(
        self,
        build: ModuleBuild,
        components: Sequence[ComponentBuild],
        reason: str,
        epoch: int,
    ) -> None:
        self.log.warn(
            "Module build {module_build_id} failed: {reason}",
            module_build_id=build.id,
            reason=reason,
        )
        await self._transitions.change_module_state(
            build.id, ModuleState.FAILED, reason, epoch=epoch
        )
        await self._cancel_open(build, components, epoch)

    async def _cancel_open(
        self, build: ModuleBuild, components: Sequence[ComponentBuild], epoch: int
    ) -> None:
        await recover_intents(self._koji, self._transitions, build, components, epoch)
        open_tasks = [
            c.task_id
            for c in components
            if c.state is ComponentState.BUILDING
            and c.task_id is not None
            and c.task_state not in ("canceled", "closed", "failed")
        ]
        if open_tasks:
            await self._koji.cancel_tasks(open_tasks)
