"""The intents of a submission: its verified MSE siblings recorded in
``init`` (or a failed NSVC started over), each with its trace rows and
messages, in one transaction; for a forge's push, with its delivery.

``ridad.transitions.Transitions`` mixes it in. Nothing else imports this
module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from ridad.db import build_inserts as inserts
from ridad.db import webhooks
from ridad.db.build_rows import load_build
from ridad.db.pool import Pool
from ridad.domain.builds import NewModuleBuild, check_component_move
from ridad.domain.states import ComponentState, ModuleState
from ridad.domain.webhooks import Push, PushRecord
from ridad.errors import Conflict


class SubmitIntents:
    """Recording submitted module builds."""

    # Provided by ``Transitions``.
    _pool: Pool
    _now: Callable[[], datetime]
    _announce: Callable[..., Awaitable[None]]
    _announce_component: Callable[..., Awaitable[None]]
    _committed: Callable[[], None]
    _moved: Callable[[int, ModuleState], None]

    async def create_module_build(self, new: NewModuleBuild) -> tuple[int, bool]:
        """Record a verified submission in ``init``; answer its id and whether
        it is new (a failed build of that NSVC starts over, keeping its
        completed components).

        :raises Conflict: when that NSVC exists and has not failed.
        """
        result: tuple[int, bool] = await self._pool.run_interaction(
            self._create, new, self._now()
        )
        self._committed()
        self._moved(result[0], ModuleState.INIT)
        return result

    async def create_module_builds(
        self, news: Sequence[NewModuleBuild]
    ) -> list[tuple[int, bool]]:
        """Record the MSE siblings of one submission in one transaction.

        Each is created, or started over when its NSVC failed; one that
        exists and has not failed is kept as it is and answered with
        ``False``. Only when every sibling is such a build is the
        submission refused.

        :raises Conflict: every sibling exists and none has failed.
        """
        now = self._now()
        results: list[tuple[int, bool]] = await self._pool.run_interaction(
            self._create_siblings, news, now
        )
        self._committed()
        for module_build_id, started in results:
            if started:
                self._moved(module_build_id, ModuleState.INIT)
        return results

    async def _create_siblings(
        self, cursor: Any, news: Sequence[NewModuleBuild], now: datetime
    ) -> list[tuple[int, bool]]:
        results = []
        for new in news:
            if new.scratch:
                context = await inserts.scratch_context(cursor, new)
                created = replace(new, context=context)
                results.append(await self._create(cursor, created, now))
                continue
            existing = await inserts.find_nsvc(cursor, new)
            if existing is not None and existing.state is not ModuleState.FAILED:
                results.append((existing.id, False))
                continue
            module_build_id, _ = await self._create(cursor, new, now)
            results.append((module_build_id, True))
        if not any(started for _, started in results):
            await self._create(cursor, news[0], now)  # raises Conflict
        return results

    async def _create(
        self, cursor: Any, new: NewModuleBuild, now: datetime
    ) -> tuple[int, bool]:
        existing = await inserts.find_nsvc(cursor, new)
        if existing is None:
            created = await inserts.create_module_build(cursor, new, now)
            await self._announce(cursor, await load_build(cursor, created), now, None)
            return created, True
        if existing.state is not ModuleState.FAILED:
            raise Conflict(
                f"Module build {new.nsvc} already exists (id {existing.id},"
                f" state {existing.state.label}); only a failed build may be"
                " submitted again",
                details={"id": existing.id, "state": existing.state.label},
            )
        old = await load_build(cursor, existing.id, lock=True)
        for c in old.components:
            if c.state not in (ComponentState.COMPLETE, ComponentState.WAITING):
                check_component_move(c, ComponentState.WAITING)
        for before, after in await inserts.resubmit(cursor, old, new, now):
            await self._announce_component(cursor, before, after, now)
        written = await load_build(cursor, existing.id)
        await self._announce(cursor, written, now, "failed")
        return existing.id, False

    async def create_pushed_builds(
        self, news: Sequence[NewModuleBuild], push: Push
    ) -> PushRecord:
        """Record the builds of a forge's push as ``create_module_builds``
        does, and its delivery, in one transaction; a delivery recorded
        before records nothing and answers its builds (``duplicate``).

        The delivery is claimed first: a concurrent transaction recording
        the same delivery waits for this one, then finds it recorded.

        :raises Conflict: every sibling exists and none has failed (nothing
            is recorded, the delivery neither).
        """
        record: PushRecord = await self._pool.run_interaction(
            self._create_pushed, news, push, self._now()
        )
        if record.duplicate:
            return record
        self._committed()
        for module_build_id, started in record.builds:
            if started:
                self._moved(module_build_id, ModuleState.INIT)
        return record

    async def _create_pushed(
        self, cursor: Any, news: Sequence[NewModuleBuild], push: Push, now: datetime
    ) -> PushRecord:
        if not await webhooks.claim_delivery(cursor, push, now):
            ids = await webhooks.delivery_builds(cursor, push.forge, push.delivery_id)
            return PushRecord(builds=tuple((i, False) for i in ids), duplicate=True)
        results = await self._create_siblings(cursor, news, now)
        await webhooks.set_delivery_builds(cursor, push, [i for i, _ in results])
        return PushRecord(builds=tuple(results))
