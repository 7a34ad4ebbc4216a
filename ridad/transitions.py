"""The only writer of state (``transitions_life``, ``transitions_cg``,
``transitions_import``, ``transitions_submit`` and ``transitions_reuse``
mixed in): each named intent is ONE transaction that checks the lease epoch (when
given), locks the build's row, writes state, trace rows and outbox messages,
and answers what it wrote."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from ridad.db import build_writes as writes
from ridad.db.build_rows import load_build, load_module_trace
from ridad.db.fenced import load_fenced_build
from ridad.db.pool import Pool
from ridad.domain.builds import (
    BuildSnapshot,
    ComponentBuild,
    ModuleBuild,
    NewComponent,
    TraceEntry,
    check_component_move,
    check_module_move,
)
from ridad.domain.koji import KojiBuild
from ridad.domain.states import ComponentState, ModuleState
from ridad.domain.task_end import TaskEnd
from ridad.metrics.instruments import Metrics
from ridad.outbox.announce import announce_component, announce_module
from ridad.transitions_cg import CgIntents
from ridad.transitions_import import ImportIntents
from ridad.transitions_life import LifeIntents
from ridad.transitions_reuse import ReuseIntents
from ridad.transitions_submit import SubmitIntents

Step = Callable[[Any, BuildSnapshot, datetime], Awaitable[BuildSnapshot]]
Move = tuple[int, ComponentState, str | None, dict[str, Any]]
Write = Callable[..., Awaitable[ModuleBuild | list[ComponentBuild]]]


class Transitions(SubmitIntents, LifeIntents, CgIntents, ImportIntents, ReuseIntents):
    """Applies state changes to module and component builds.

    Every intent given the scheduler's lease ``epoch`` raises NotLeader, and
    writes nothing, when another process has taken the lease since.
    """

    log = Logger()

    def __init__(
        self,
        *,
        pool: Pool,
        clock: IReactorTime,
        new_msg_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        metrics: Metrics | None = None,
    ) -> None:
        self._changes = (metrics or Metrics()).changes
        self._pool = pool
        self._clock = clock
        self._new_msg_id = new_msg_id
        self._listeners: list[Callable[[], None]] = []

    def add_commit_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each committed state change (to poll now)."""
        self._listeners.append(listener)

    async def _transaction(self, fn: Any, *args: Any) -> Any:
        """``fn(cursor, *args)`` in one transaction (changes counted at commit)."""
        return await self._changes.run(self._pool.run_interaction, fn, *args)

    def _committed(self) -> None:
        for listener in self._listeners:
            listener()

    def _moved(self, module_build_id: int, state: ModuleState) -> None:
        message = "Module build {module_build_id} moved to {state}"
        self.log.info(message, module_build_id=module_build_id, state=state.label)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.seconds(), tz=UTC)

    async def _apply(
        self, module_build_id: int, epoch: int | None, step: Step, *, changes: bool
    ) -> BuildSnapshot:
        """Run ``step`` on the locked build in one fenced transaction (and
        the commit listeners after, when it ``changes`` a state)."""

        async def interaction(cursor: Any) -> BuildSnapshot:
            loaded = await load_fenced_build(cursor, module_build_id, epoch)
            return await step(cursor, loaded, now)

        now = self._now()
        written: BuildSnapshot = await self._transaction(interaction)
        if changes:
            self._committed()
        return written

    async def change_module_state(
        self,
        module_build_id: int,
        state: ModuleState,
        reason: str | None,
        *,
        epoch: int | None = None,
        allowed_from: tuple[ModuleState, ...] | None = None,
    ) -> BuildSnapshot:
        """Move a module build to ``state``; answer it as written.

        With ``epoch`` (the scheduler's lease) the change is fenced.

        :raises InvalidRequest: when the move is not allowed from its state
            (or its state is not in ``allowed_from``).
        :raises NotFound: when there is no such build.
        """
        return await self._move_module(
            module_build_id, epoch, state, reason, allowed_from=allowed_from
        )

    async def cancel(
        self,
        module_build_id: int,
        reason: str,
        *,
        allowed_from: tuple[ModuleState, ...],
    ) -> tuple[BuildSnapshot, list[TraceEntry]]:
        """Fail a build on request; answer it as written, with its module trace.

        :raises InvalidRequest: when its state is not in ``allowed_from``.
        :raises NotFound: when there is no such build.
        """
        trace: list[TraceEntry] = []
        written = await self._move_module(
            module_build_id,
            None,
            ModuleState.FAILED,
            reason,
            allowed_from=allowed_from,
            trace=trace,
        )
        return written, trace

    async def record_environment(
        self,
        module_build_id: int,
        *,
        koji_tag: str,
        macros: NewComponent | None,
        epoch: int,
        buildrequires: Mapping[str, Any] = writes.KEEP,
    ) -> BuildSnapshot:
        """Note the build's Koji tag, its module-build-macros component (if
        new) and its buildrequires with their ``filtered_rpms``, and move the
        build to ``build``.

        :raises InvalidRequest: when the build is no longer waiting.
        """
        return await self._move_module(
            module_build_id,
            epoch,
            ModuleState.BUILD,
            None,
            koji_tag=koji_tag,
            added=[macros] if macros is not None else [],
            buildrequires=buildrequires,
        )

    async def _move_module(
        self,
        module_build_id: int,
        epoch: int | None,
        state: ModuleState,
        reason: str | None,
        *,
        allowed_from: tuple[ModuleState, ...] | None = None,
        koji_tag: str = writes.KEEP,
        added: Sequence[NewComponent] = (),
        trace: list[TraceEntry] | None = None,
        buildrequires: Mapping[str, Any] = writes.KEEP,
    ) -> BuildSnapshot:
        """Move the build (after adding components), reading its trace after."""

        async def step(cursor: Any, old: BuildSnapshot, now: datetime) -> Any:
            if added:
                old = await _add_components(cursor, old, added, now)
            check_module_move(old.build, state, allowed_from)
            completed = state in (ModuleState.FAILED, ModuleState.READY) or (
                state is ModuleState.DONE and old.build.scratch
            )
            changed = await writes.set_module_state(
                cursor, old.build, state, reason, now, completed, koji_tag,
                buildrequires=buildrequires,
            )  # fmt: skip
            written = BuildSnapshot(changed, old.components)
            await self._announce(cursor, written, now, old.build.state.label)
            if trace is not None:
                trace.extend(await load_module_trace(cursor, old.build.id))
            return written

        written = await self._apply(module_build_id, epoch, step, changes=True)
        self._moved(module_build_id, state)
        return written

    async def record_gating_decision(
        self, module_build_id: int, *, satisfied: bool, reason: str, epoch: int
    ) -> BuildSnapshot:
        """Move a done build to ``ready`` (Greenwave's policies ``satisfied``),
        or keep it done with ``reason``, traced and announced as a change;
        a reason it already has, or a build no longer done, writes nothing."""
        state = ModuleState.READY if satisfied else ModuleState.DONE

        async def step(cursor: Any, old: BuildSnapshot, now: datetime) -> Any:
            build = old.build
            same = build.state_reason == reason and not satisfied
            if build.state is not ModuleState.DONE or same:
                return old
            changed = await writes.set_module_state(
                cursor, build, state, reason, now, satisfied
            )
            written = BuildSnapshot(changed, old.components)
            await self._announce(cursor, written, now, build.state.label)
            return written

        return await self._apply(module_build_id, epoch, step, changes=True)

    async def _note(
        self, module_build_id: int, epoch: int, write: Write, *args: Any
    ) -> BuildSnapshot:
        """Write bookkeeping (no state change, no message) in one fenced
        transaction: ``write(cursor, *args)`` answers what it wrote."""

        async def step(cursor: Any, old: BuildSnapshot, now: datetime) -> Any:
            written = await write(cursor, *args)
            if isinstance(written, ModuleBuild):
                return BuildSnapshot(written, old.components)
            return old.with_components(written)

        return await self._apply(module_build_id, epoch, step, changes=False)

    async def record_submission_intent(
        self, module_build_id: int, component_ids: Sequence[int], *, epoch: int
    ) -> BuildSnapshot:
        """Note, before calling Koji, that these components are being submitted."""
        write, now = writes.set_submission_intent, self._now()
        return await self._note(module_build_id, epoch, write, component_ids, now)

    async def forget_submission_intent(
        self, component: ComponentBuild, *, epoch: int
    ) -> BuildSnapshot:
        """Forget a submission Koji never received (it is made again)."""
        write = writes.clear_submission_intent
        return await self._note(component.module_build_id, epoch, write, component.id)

    async def record_submissions(
        self, module_build_id: int, outcomes: Mapping[int, int | str], *, epoch: int
    ) -> BuildSnapshot:
        """Move each component to ``building`` (its Koji task id given) or to
        ``failed`` (Koji's refusal given), in one transaction.

        :raises InvalidRequest: when a component cannot move so.
        """
        moves: list[Move] = []
        for component_id, outcome in sorted(outcomes.items()):
            if isinstance(outcome, str):
                moves.append((component_id, ComponentState.FAILED, outcome, {}))
            else:
                found = {"task_id": outcome, "task_state": "free"}
                moves.append((component_id, ComponentState.BUILDING, None, found))
        return await self._move(module_build_id, epoch, moves)

    async def record_task_end(
        self,
        component: ComponentBuild,
        state: ComponentState,
        reason: str | None,
        *,
        task_state: str,
        koji_build: KojiBuild | None = None,
        epoch: int,
    ) -> BuildSnapshot:
        """``record_task_ends`` of one component."""
        end = TaskEnd(component, state, reason, task_state, koji_build)
        return await self.record_task_ends(
            component.module_build_id, [end], epoch=epoch
        )

    async def record_task_ends(
        self, module_build_id: int, ends: Sequence[TaskEnd], *, epoch: int
    ) -> BuildSnapshot:
        """Move components of one build where their tasks' ends leave them
        (one poll's findings), in one transaction, noting each task's state
        and build (their messages carry them); InvalidRequest: a bad move."""
        moves: list[Move] = []
        for end in ends:
            found: dict[str, Any] = {"task_state": end.task_state}
            if end.koji_build is not None:
                found.update(nvr=end.koji_build.nvr, koji_build_id=end.koji_build.id)
            moves.append((end.component.id, end.state, end.reason, found))
        return await self._move(module_build_id, epoch, moves)

    async def _move(
        self, module_build_id: int, epoch: int, moves: Sequence[Move]
    ) -> BuildSnapshot:
        """Move components (id, state, reason, Koji's findings) in one transaction."""

        async def step(cursor: Any, old: BuildSnapshot, now: datetime) -> Any:
            changed = []
            for component_id, state, reason, found in moves:
                before = old.component(component_id)
                check_component_move(before, state)
                after = await writes.set_component_state(
                    cursor, before, state, reason, now, **found
                )
                await self._announce_component(cursor, before, after, now)
                changed.append(after)
            return old.with_components(changed)

        written = await self._apply(module_build_id, epoch, step, changes=True)
        for component_id, state, _, _ in moves:
            self.log.info(
                "Component {component} of module build {module_build_id} moved to"
                " {state}",
                component=written.component(component_id).name,
                module_build_id=module_build_id,
                state=state.label,
            )
        return written

    async def record_task_state(
        self, component: ComponentBuild, task_state: str, *, epoch: int
    ) -> BuildSnapshot:
        """Note the Koji state of a component's task (it stays building)."""
        write, build_id = writes.set_task_state, component.module_build_id
        return await self._note(build_id, epoch, write, component.id, task_state)

    async def record_tagged(
        self, module_build_id: int, ids: Sequence[int], tag_event: int, *, epoch: int
    ) -> BuildSnapshot:
        """Note that these components' builds are tagged, as of ``tag_event``."""
        write = writes.set_tagged
        return await self._note(module_build_id, epoch, write, ids, tag_event)

    async def record_repo_task(
        self, module_build_id: int, repo_task_id: int | None, *, epoch: int
    ) -> BuildSnapshot:
        """Note the newRepo task of the buildroot (None: before starting one)."""
        args = (writes.set_repo_task, module_build_id, repo_task_id, self._now())
        return await self._note(module_build_id, epoch, *args)

    async def record_repo_progress(
        self,
        module_build_id: int,
        *,
        repo_event: int | None,
        task_finished: bool,
        task_failed: bool,
        epoch: int,
    ) -> BuildSnapshot:
        """Note a newer repo (``repo_event``) and the end of the newRepo task
        (``task_finished``; ``task_failed`` counts a failed attempt)."""
        write = writes.set_repo_progress
        args = (write, module_build_id, repo_event, task_finished, task_failed)
        return await self._note(module_build_id, epoch, *args)

    async def _announce_component(
        self, cursor: Any, before: ComponentBuild, after: ComponentBuild, now: datetime
    ) -> None:
        msg_id = self._new_msg_id()
        self._changes.note(cursor, "component", before.state.label, after.state.label)
        await announce_component(cursor, before, after, msg_id=msg_id, now=now)

    async def _announce(
        self, cursor: Any, written: BuildSnapshot, now: datetime, old: str | None
    ) -> None:
        msg_id = self._new_msg_id()
        self._changes.note(cursor, "module", old, written.build.state.label)
        await announce_module(cursor, written, old_state=old, msg_id=msg_id, now=now)


async def _add_components(
    cursor: Any, old: BuildSnapshot, added: Sequence[NewComponent], now: datetime
) -> BuildSnapshot:
    """Insert ``added``; one the build has already (module-build-macros reset
    by a resubmission) is pointed at its new source instead."""
    existing = {c.name: c for c in old.components}
    for component in added:
        if component.name in existing:
            await writes.update_component_source(
                cursor, existing[component.name].id, component
            )
    fresh = [c for c in added if c.name not in existing]
    await writes.insert_components(cursor, old.build.id, fresh, now)
    reread = await load_build(cursor, old.build.id)
    return BuildSnapshot(old.build, reread.components)
