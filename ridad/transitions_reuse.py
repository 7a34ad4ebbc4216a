"""The intents of component reuse: the build components are reused from,
noted before any is reused, and the reused components moved to
``complete`` with the previous build's NVR, Koji build and task, each with
its trace row and message, in one transaction. They are then tagged like
built ones (``record_tagged``), so a crash before or after the tagging
replays it.

``ridad.transitions.Transitions`` mixes them in and runs each as one
fenced transaction that locks the build's row. Nothing else imports this
module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from ridad.db import build_writes as writes
from ridad.db.reuse import set_reused_module
from ridad.domain.builds import BuildSnapshot, ComponentBuild, check_component_move
from ridad.domain.rebuild import REUSED_REASON
from ridad.domain.states import ComponentState, ModuleState


class ReuseIntents:
    """Recording the reuse of a previous build's components."""

    # Provided by ``Transitions``.
    _apply: Callable[..., Awaitable[BuildSnapshot]]
    _note: Callable[..., Awaitable[BuildSnapshot]]
    _announce_component: Callable[..., Awaitable[None]]

    async def record_reuse_source(
        self, module_build_id: int, reused_module_id: int, *, epoch: int
    ) -> BuildSnapshot:
        """Note the build components will be reused from (``reused_module_id``)."""
        write = set_reused_module
        return await self._note(
            module_build_id, epoch, write, module_build_id, reused_module_id
        )

    async def record_reused(
        self,
        module_build_id: int,
        reused: Mapping[int, ComponentBuild],
        *,
        epoch: int,
    ) -> BuildSnapshot:
        """Move each component of ``reused`` (its id → the previous build's
        component) from ``waiting`` to ``complete`` with that component's
        NVR, Koji build and task, untagged, reason ``REUSED_REASON``.

        A component no longer waiting, or with a submission intent, is left
        as it is (the caller sees it in the answer), as is a build no longer
        in ``build``.
        """

        async def step(cursor: Any, old: BuildSnapshot, now: datetime) -> Any:
            if old.build.state is not ModuleState.BUILD:
                return old
            changed = []
            for component_id, previous in sorted(reused.items()):
                before = old.component(component_id)
                if (
                    before.state is not ComponentState.WAITING
                    or before.submitted_at is not None
                ):
                    continue
                check_component_move(before, ComponentState.COMPLETE)
                after = await writes.set_component_state(
                    cursor, before, ComponentState.COMPLETE, REUSED_REASON, now,
                    task_id=previous.task_id, task_state=previous.task_state,
                    nvr=previous.nvr, koji_build_id=previous.koji_build_id,
                    reused_component_id=previous.id,
                )  # fmt: skip
                await self._announce_component(cursor, before, after, now)
                changed.append(after)
            return old.with_components(changed)

        return await self._apply(module_build_id, epoch, step, changes=True)
