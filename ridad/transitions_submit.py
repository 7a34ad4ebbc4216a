"""The intents of a submission: its verified MSE siblings recorded in
``init`` (or a failed NSVC started over), each with its trace rows and
messages, in one transaction; for a forge's push, with its delivery.

``ridad.transitions.Transitions`` mixes it in. Nothing else imports this
module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from ridad.db import build_inserts as inserts
from ridad.db import webhooks
from ridad.db.build_rows import load_build
from ridad.db.pool import Pool
from ridad.db.submission_plan import (
    PlannedBuild,
    already_exists,
    plan_nsvc,
    plan_siblings,
)
from ridad.domain.builds import NewModuleBuild
from ridad.domain.states import ModuleState
from ridad.domain.webhooks import Push, PushRecord


class SubmitIntents:
    """Recording submitted module builds."""

    # Provided by ``Transitions``.
    _pool: Pool
    _now: Callable[[], datetime]
    _announce: Callable[..., Awaitable[None]]
    _announce_component: Callable[..., Awaitable[None]]
    _committed: Callable[[], None]
    _transaction: Callable[..., Awaitable[Any]]
    _moved: Callable[[int, ModuleState], None]

    async def create_module_build(self, new: NewModuleBuild) -> tuple[int, bool]:
        """Record a verified submission in ``init``; answer its id and whether
        it is new (a failed build of that NSVC starts over, keeping its
        completed components).

        :raises Conflict: when that NSVC exists and has not failed.
        """
        result: tuple[int, bool] = await self._transaction(
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
        results: list[tuple[int, bool]] = await self._transaction(
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
        for planned in await plan_siblings(cursor, news, lock=True):
            if planned.existing is not None and not planned.starts:
                results.append((planned.existing.build.id, False))
                continue
            module_build_id, _ = await self._write(cursor, planned, now)
            results.append((module_build_id, True))
        return results

    async def _create(
        self, cursor: Any, new: NewModuleBuild, now: datetime
    ) -> tuple[int, bool]:
        planned = await plan_nsvc(cursor, new, lock=True)
        if planned.existing is not None and not planned.starts:
            raise already_exists(new, planned.existing.build)
        return await self._write(cursor, planned, now)

    async def _write(
        self, cursor: Any, planned: PlannedBuild, now: datetime
    ) -> tuple[int, bool]:
        """Write what ``planned`` says: the new build's id and True, or the
        id of the failed build started over and False."""
        new, old = planned.new, planned.existing
        if old is None:
            created = await inserts.create_module_build(cursor, new, now)
            await self._announce(cursor, await load_build(cursor, created), now, None)
            return created, True
        for before, after in await inserts.resubmit(cursor, old, new, now):
            await self._announce_component(cursor, before, after, now)
        written = await load_build(cursor, old.build.id)
        await self._announce(cursor, written, now, "failed")
        return old.build.id, False

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
