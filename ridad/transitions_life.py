"""The intents of a module build's life after it was built: a stuck build
failed, a failed one collected as garbage, a build retired, a Koji target
deleted, components untagged.

They are part of the one writer: ``ridad.transitions.Transitions`` mixes
them in and provides the machinery they run on (one fenced transaction per
intent that locks the build's row, writes state, trace and outbox messages,
then calls the commit listeners). Nothing else imports this module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from ridad.db import build_writes as writes
from ridad.db import life_writes
from ridad.db.build_rows import load_module_trace
from ridad.domain.builds import BuildSnapshot, TraceEntry, check_module_move
from ridad.domain.lifecycle import STUCK_STATES, check_stalled
from ridad.domain.states import ModuleState

Check = Callable[[BuildSnapshot], None]
"""Raises InvalidRequest when the build may not move after all."""


class LifeIntents:
    """Failing stuck builds, garbage, retiring, target deletion, untagging."""

    # Provided by ``Transitions``.
    _apply: Callable[..., Awaitable[BuildSnapshot]]
    _note: Callable[..., Awaitable[BuildSnapshot]]
    _announce: Callable[..., Awaitable[None]]
    _moved: Callable[[int, ModuleState], None]
    _now: Callable[[], datetime]

    async def retire(
        self,
        module_build_id: int,
        reason: str,
        *,
        allowed_from: tuple[ModuleState, ...],
    ) -> tuple[BuildSnapshot, list[TraceEntry]]:
        """Move a build to garbage on an administrator's request; answer it as
        written, with its module trace. Its Koji tags stay as they are.

        :raises InvalidRequest: when its state is not in ``allowed_from``.
        :raises NotFound: when there is no such build.
        """
        trace: list[TraceEntry] = []
        written = await self._end(
            module_build_id,
            None,
            ModuleState.GARBAGE,
            reason,
            allowed_from=allowed_from,
            trace=trace,
        )
        return written, trace

    async def fail_stuck(
        self, module_build_id: int, reason: str, *, since: datetime, epoch: int
    ) -> BuildSnapshot:
        """Fail a build (init, wait or build) that, like its components, has
        not changed state since ``since``.

        :raises InvalidRequest: when it has moved on meanwhile.
        :raises NotLeader: when another process took the lease.
        """
        return await self._end(
            module_build_id,
            epoch,
            ModuleState.FAILED,
            reason,
            allowed_from=STUCK_STATES,
            check=lambda snapshot: check_stalled(snapshot, since),
        )

    async def collect_garbage(
        self, module_build_id: int, untagged: Sequence[int], reason: str, *, epoch: int
    ) -> BuildSnapshot:
        """Note that the ``untagged`` components' builds are out of the
        module's tags and move the failed build to garbage, at once.

        :raises InvalidRequest: when the build is no longer failed.
        :raises NotLeader: when another process took the lease.
        """
        return await self._end(
            module_build_id,
            epoch,
            ModuleState.GARBAGE,
            reason,
            allowed_from=(ModuleState.FAILED,),
            untagged=untagged,
        )

    async def record_untagged(
        self, module_build_id: int, ids: Sequence[int], *, epoch: int
    ) -> BuildSnapshot:
        """Note that these components' builds are out of the module's tags
        (whatever the build's state: the scheduler tags them again)."""
        write = life_writes.set_untagged
        return await self._note(module_build_id, epoch, write, ids)

    async def record_target_deleted(
        self, module_build_id: int, *, epoch: int
    ) -> BuildSnapshot:
        """Note that the build's Koji target is deleted (or was found gone)."""
        args = (life_writes.set_target_deleted, module_build_id, self._now())
        return await self._note(module_build_id, epoch, *args)

    async def _end(
        self,
        module_build_id: int,
        epoch: int | None,
        state: ModuleState,
        reason: str,
        *,
        allowed_from: tuple[ModuleState, ...],
        check: Check | None = None,
        untagged: Sequence[int] = (),
        trace: list[TraceEntry] | None = None,
    ) -> BuildSnapshot:
        """Move the build to ``state`` once ``check`` passed, noting the
        ``untagged`` components first and reading the trace after."""

        async def step(cursor: Any, old: BuildSnapshot, now: datetime) -> Any:
            if check is not None:
                check(old)
            check_module_move(old.build, state, allowed_from)
            if untagged:
                changed = await life_writes.set_untagged(cursor, untagged)
                old = old.with_components(changed)
            completed = state is ModuleState.FAILED
            moved = await writes.set_module_state(
                cursor, old.build, state, reason, now, completed
            )
            written = BuildSnapshot(moved, old.components)
            await self._announce(cursor, written, now, old.build.state.label)
            if trace is not None:
                trace.extend(await load_module_trace(cursor, old.build.id))
            return written

        written = await self._apply(module_build_id, epoch, step, changes=True)
        self._moved(module_build_id, state)
        return written
