"""What recording a verified submission would do to each of its MSE
siblings, decided by the reads of the recording transaction itself: create
it, start a failed build of that NSVC over, or keep an unfailed one as it
is; and the 409 when every sibling is kept.

``transitions`` plans with ``lock=True`` inside the transaction that then
writes the plan; a dry run plans with ``lock=False`` inside a read-only
transaction (``ModuleBuildStore.plan_submission``), which PostgreSQL itself
keeps from writing anything. One function decides for both, so a dry run
answers what the submission would get.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ridad.db.build_inserts import find_nsvc, scratch_context
from ridad.db.build_rows import load_build
from ridad.domain.builds import (
    BuildSnapshot,
    ModuleBuild,
    NewModuleBuild,
    check_component_move,
)
from ridad.domain.states import ComponentState, ModuleState
from ridad.errors import Conflict


class Action(enum.Enum):
    """What recording does to one sibling."""

    #: A new build in ``init``, with its components in ``waiting``.
    CREATE = "create"
    #: The failed build of that NSVC starts over in ``init``, keeping its
    #: completed components.
    RESUBMIT = "resubmit"
    #: The build of that NSVC exists and has not failed: kept as it is.
    KEEP = "keep"


@dataclass(frozen=True)
class PlannedBuild:
    """One sibling and what recording does to it."""

    #: The build as it is recorded (a scratch build: its ``_N`` context).
    new: NewModuleBuild
    action: Action
    #: The build of that NSVC (RESUBMIT: with its components, locked
    #: when planned with ``lock``; KEEP: without them); None for CREATE.
    existing: BuildSnapshot | None = None

    @property
    def starts(self) -> bool:
        """Whether the sibling is created or started over."""
        return self.action is not Action.KEEP


def already_exists(new: NewModuleBuild, existing: ModuleBuild) -> Conflict:
    """The 409 of a submission of an NSVC that exists and has not failed."""
    return Conflict(
        f"Module build {new.nsvc} already exists (id {existing.id},"
        f" state {existing.state.label}); only a failed build may be"
        " submitted again",
        details={"id": existing.id, "state": existing.state.label},
    )


async def plan_sibling(cursor: Any, new: NewModuleBuild, *, lock: bool) -> PlannedBuild:
    """What recording ``new``, one sibling of a submission, does; a scratch
    build takes the next ``_N`` context first.

    :raises Conflict: a scratch build's ``_N`` context exists already.
    :raises InvalidRequest: see ``plan_nsvc``.
    """
    if not new.scratch:
        return await plan_nsvc(cursor, new, lock=lock)
    new = replace(new, context=await scratch_context(cursor, new, lock=lock))
    planned = await plan_nsvc(cursor, new, lock=lock)
    if planned.existing is not None and not planned.starts:
        raise already_exists(new, planned.existing.build)
    return planned


async def plan_nsvc(cursor: Any, new: NewModuleBuild, *, lock: bool) -> PlannedBuild:
    """What recording ``new`` under its NSVC as given does.

    :raises InvalidRequest: a failed build of that NSVC has a component
        that cannot go back to ``waiting``.
    """
    existing = await find_nsvc(cursor, new, lock=lock)
    if existing is None:
        return PlannedBuild(new, Action.CREATE)
    if existing.state is not ModuleState.FAILED:
        return PlannedBuild(new, Action.KEEP, BuildSnapshot(existing, ()))
    old = await load_build(cursor, existing.id, lock=lock)
    for c in old.components:
        if c.state not in (ComponentState.COMPLETE, ComponentState.WAITING):
            check_component_move(c, ComponentState.WAITING)
    return PlannedBuild(new, Action.RESUBMIT, old)


async def plan_siblings(
    cursor: Any, news: Sequence[NewModuleBuild], *, lock: bool
) -> list[PlannedBuild]:
    """What recording the MSE siblings ``news`` of one submission does,
    in their order.

    :raises Conflict: every sibling exists and none has failed (or see
        ``plan_sibling``).
    """
    planned = [await plan_sibling(cursor, new, lock=lock) for new in news]
    first = planned[0]
    if first.existing is not None and not any(p.starts for p in planned):
        raise already_exists(first.new, first.existing.build)
    return planned


async def plan_read_only(
    cursor: Any, news: Sequence[NewModuleBuild]
) -> list[PlannedBuild]:
    """``plan_siblings`` in a transaction that cannot write (the caller's,
    just begun): no row, lock or sequence value is left behind."""
    await cursor.execute("SET TRANSACTION READ ONLY")
    return await plan_siblings(cursor, news, lock=False)
