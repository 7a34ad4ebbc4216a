"""The only code that changes state.

Each change writes the new state, its trace row and its outbox message in
ONE transaction, with the module build's row locked so that the changes of
one build (and so its messages) are ordered.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from ridad.bus.messages import (
    COMPONENT_TOPIC,
    MODULE_TOPIC,
    component_message_body,
    module_message_body,
)
from ridad.db.builds import (
    ModuleBuildStore,
    update_component_columns,
    update_module_columns,
)
from ridad.db.leases import check_lease
from ridad.db.outbox import insert_message
from ridad.db.pool import Pool
from ridad.db.trace import insert_trace
from ridad.domain.builds import ComponentBuild, NewComponent, NewModuleBuild
from ridad.domain.states import (
    ComponentState,
    ModuleState,
    component_transition_allowed,
    module_transition_allowed,
)
from ridad.domain.views import module_build_view
from ridad.errors import Conflict, InvalidRequest

FINAL_MODULE_STATES = (ModuleState.FAILED, ModuleState.READY)
T = TypeVar("T")
RESET_COMPONENT = {
    "source": None,
    "submitted_at": None,
    "task_id": None,
    "task_state": None,
    "nvr": None,
    "koji_build_id": None,
    "tagged": False,
    "tag_event": None,
}


class Transitions:
    """Applies state changes to module and component builds."""

    log = Logger()

    def __init__(
        self,
        *,
        pool: Pool,
        builds: ModuleBuildStore,
        clock: IReactorTime,
        new_msg_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._pool = pool
        self._builds = builds
        self._clock = clock
        self._new_msg_id = new_msg_id
        self._listeners: list[Callable[[], None]] = []

    def add_commit_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each committed change (the outbox relay
        uses it to publish at once instead of at its next poll)."""
        self._listeners.append(listener)

    def _committed(self) -> None:
        for listener in self._listeners:
            listener()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.seconds(), tz=UTC)

    async def create_module_build(self, new: NewModuleBuild) -> tuple[int, bool]:
        """Record a verified submission in ``init``.

        A failed build of the same NSVC starts over under its old id;
        its completed components are kept. Returns the id and whether the
        build is new.

        :raises Conflict: when that NSVC exists and has not failed.
        """
        result: tuple[int, bool] = await self._pool.run_interaction(
            self._create, new, self._now()
        )
        self._committed()
        self.log.info(
            "Module build {module_build_id} moved to {state}",
            module_build_id=result[0],
            state="init",
        )
        return result

    async def _create(
        self, cursor: Any, new: NewModuleBuild, now: datetime
    ) -> tuple[int, bool]:
        existing = await self._builds.find_nsvc(
            cursor, new.name, new.stream, new.version, new.context
        )
        if existing is None:
            module_build_id = await self._builds.insert(cursor, new, now)
            ids = await self._builds.insert_components(
                cursor, module_build_id, new.components, now
            )
            await self._trace(cursor, module_build_id, None, None, "init", None, now)
            for component_build_id in ids:
                await self._trace(
                    cursor,
                    module_build_id,
                    component_build_id,
                    None,
                    "waiting",
                    None,
                    now,
                )
            await self._announce_module(cursor, module_build_id, None, now)
            return module_build_id, True
        if existing.state is not ModuleState.FAILED:
            raise Conflict(
                f"Module build {new.nsvc} already exists (id {existing.id},"
                f" state {existing.state.label}); only a failed build may be"
                " submitted again",
                details={"id": existing.id, "state": existing.state.label},
            )
        await self._resubmit(cursor, existing.id, new, now)
        return existing.id, False

    async def _resubmit(
        self, cursor: Any, module_build_id: int, new: NewModuleBuild, now: datetime
    ) -> None:
        _, components = await self._builds.load(cursor, module_build_id, lock=True)
        by_name = {c.name: c for c in components}
        await self._builds.update_for_resubmit(cursor, module_build_id, new, now)
        await self._trace(
            cursor, module_build_id, None, "failed", "init", "resubmitted", now
        )
        for component in components:
            if component.name not in {v.name for v in new.components} and (
                component.state is not ComponentState.COMPLETE
            ):
                # module-build-macros: made again by the scheduler.
                await update_component_columns(cursor, component.id, RESET_COMPONENT)
                if component.state is not ComponentState.WAITING:
                    await self._change_component(
                        cursor, component, ComponentState.WAITING, "resubmitted", now
                    )
        await update_module_columns(
            cursor, module_build_id, {"repo_task_id": None, "repo_attempts": 0}
        )
        for verified in new.components:
            component = by_name.get(verified.name)
            if component is None:
                ids = await self._builds.insert_components(
                    cursor, module_build_id, [verified], now
                )
                await self._trace(
                    cursor, module_build_id, ids[0], None, "waiting", None, now
                )
            elif component.state is not ComponentState.COMPLETE:
                await self._builds.update_component_source(
                    cursor, component.id, verified
                )
                if component.state is not ComponentState.WAITING:
                    await self._change_component(
                        cursor, component, ComponentState.WAITING, "resubmitted", now
                    )
        await self._announce_module(cursor, module_build_id, "failed", now)

    async def change_module_state(
        self,
        module_build_id: int,
        state: ModuleState,
        reason: str | None,
        *,
        epoch: int | None = None,
        allowed_from: tuple[ModuleState, ...] | None = None,
    ) -> None:
        """Move a module build to ``state``.

        With ``epoch`` (the scheduler's lease) the change is fenced: it is
        refused when another process took the lease since.

        :raises InvalidRequest: when the move is not allowed from its state
            (or its state is not in ``allowed_from``).
        :raises NotFound: when there is no such build.
        :raises NotLeader: when ``epoch`` is stale.
        """
        await self._pool.run_interaction(
            self._fenced(self._change_module),
            epoch,
            module_build_id,
            state,
            reason,
            self._now(),
            allowed_from,
        )
        self._committed()
        self.log.info(
            "Module build {module_build_id} moved to {state}",
            module_build_id=module_build_id,
            state=state.label,
        )

    async def _change_module(
        self,
        cursor: Any,
        module_build_id: int,
        state: ModuleState,
        reason: str | None,
        now: datetime,
        allowed_from: tuple[ModuleState, ...] | None = None,
    ) -> None:
        build, _ = await self._builds.load(cursor, module_build_id, lock=True)
        if allowed_from is not None and build.state not in allowed_from:
            raise InvalidRequest(
                f"Module build {module_build_id} is {build.state.label}; only a"
                " build in "
                + ", ".join(s.label for s in allowed_from)
                + f" can move to {state.label}"
            )
        if not module_transition_allowed(build.state, state):
            raise InvalidRequest(
                f"Module build {module_build_id} is {build.state.label};"
                f" it cannot move to {state.label}"
            )
        await self._builds.set_state(
            cursor,
            module_build_id,
            state,
            reason,
            now,
            completed=state in FINAL_MODULE_STATES,
        )
        await self._trace(
            cursor, module_build_id, None, build.state.label, state.label, reason, now
        )
        await self._announce_module(cursor, module_build_id, build.state.label, now)

    async def _change_component(
        self,
        cursor: Any,
        component: ComponentBuild,
        state: ComponentState,
        reason: str | None,
        now: datetime,
    ) -> None:
        if not component_transition_allowed(component.state, state):
            raise InvalidRequest(
                f"Component {component.name} is {component.state.label};"
                f" it cannot move to {state.label}"
            )
        await self._builds.set_component_state(cursor, component.id, state, reason, now)
        await self._trace(
            cursor,
            component.module_build_id,
            component.id,
            component.state.label,
            state.label,
            reason,
            now,
        )
        changed = await self._builds.load_component(cursor, component.id)
        msg_id = self._new_msg_id()
        await insert_message(
            cursor,
            msg_id=msg_id,
            topic=COMPONENT_TOPIC,
            body=component_message_body(
                changed, old_state=component.state.label, msg_id=msg_id, now=now
            ),
            module_build_id=component.module_build_id,
            now=now,
        )

    def _fenced(self, fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        """Wrap an interaction so it first checks the lease ``epoch`` (if any)."""

        async def fenced(cursor: Any, epoch: int | None, *args: Any) -> T:
            if epoch is not None:
                await check_lease(cursor, epoch)
            return await fn(cursor, *args)

        return fenced

    async def update(
        self,
        module_build_id: int,
        *,
        epoch: int | None,
        module: Mapping[str, Any] | None = None,
        components: Mapping[int, Mapping[str, Any]] | None = None,
        new_components: Sequence[NewComponent] = (),
    ) -> None:
        """Write scheduler bookkeeping (no state change, so no message): the
        build's columns, components' columns, and new components (which get a
        ``waiting`` trace row each, like those created at submission).

        :raises NotLeader: when ``epoch`` is stale.
        """
        await self._pool.run_interaction(
            self._fenced(self._update),
            epoch,
            module_build_id,
            module or {},
            components or {},
            new_components,
            self._now(),
        )

    async def _update(
        self,
        cursor: Any,
        module_build_id: int,
        module: Mapping[str, Any],
        components: Mapping[int, Mapping[str, Any]],
        new_components: Sequence[NewComponent],
        now: datetime,
    ) -> None:
        await self._builds.load(cursor, module_build_id, lock=True)
        if module:
            await update_module_columns(cursor, module_build_id, module)
        for component_build_id, values in sorted(components.items()):
            await update_component_columns(cursor, component_build_id, values)
        ids = await self._builds.insert_components(
            cursor, module_build_id, list(new_components), now
        )
        for component_build_id in ids:
            await self._trace(
                cursor, module_build_id, component_build_id, None, "waiting", None, now
            )

    async def change_component_state(
        self,
        component: ComponentBuild,
        state: ComponentState,
        reason: str | None,
        *,
        epoch: int | None,
        values: Mapping[str, Any] | None = None,
    ) -> None:
        """Move a component to ``state``, writing ``values`` (task id, NVR,
        ...) first so that its message carries them.

        :raises InvalidRequest: when the move is not allowed from its state.
        :raises NotLeader: when ``epoch`` is stale.
        """
        await self._pool.run_interaction(
            self._fenced(self._component_change),
            epoch,
            component,
            state,
            reason,
            values or {},
            self._now(),
        )
        self._committed()
        self.log.info(
            "Component {component} of module build {module_build_id} moved to {state}",
            component=component.name,
            module_build_id=component.module_build_id,
            state=state.label,
        )

    async def _component_change(
        self,
        cursor: Any,
        component: ComponentBuild,
        state: ComponentState,
        reason: str | None,
        values: Mapping[str, Any],
        now: datetime,
    ) -> None:
        _, components = await self._builds.load(
            cursor, component.module_build_id, lock=True
        )
        current = next(c for c in components if c.id == component.id)
        if values:
            await update_component_columns(cursor, component.id, values)
        await self._change_component(cursor, current, state, reason, now)

    async def _trace(
        self,
        cursor: Any,
        module_build_id: int,
        component_build_id: int | None,
        old_state: str | None,
        new_state: str,
        reason: str | None,
        now: datetime,
    ) -> None:
        await insert_trace(
            cursor,
            module_build_id=module_build_id,
            component_build_id=component_build_id,
            old_state=old_state,
            new_state=new_state,
            reason=reason,
            now=now,
        )

    async def _announce_module(
        self, cursor: Any, module_build_id: int, old_state: str | None, now: datetime
    ) -> None:
        build, components = await self._builds.load(cursor, module_build_id)
        msg_id = self._new_msg_id()
        await insert_message(
            cursor,
            msg_id=msg_id,
            topic=MODULE_TOPIC,
            body=module_message_body(
                module_build_view(build, components),
                old_state=old_state,
                msg_id=msg_id,
                now=now,
            ),
            module_build_id=module_build_id,
            now=now,
        )
