"""The first read of every write transaction of ``transitions``: the lease
check and the build's row lock in one statement, then its components."""

from __future__ import annotations

from typing import Any

from ridad.db.build_rows import (
    MODULE_COLUMNS,
    load_components,
    module_build_from_row,
)
from ridad.db.leases import check_lease
from ridad.domain.builds import BuildSnapshot
from ridad.errors import NotFound, NotLeader

#: The build's row locked, with the lease's epoch share-locked beside it (an
#: uncorrelated sub-select: evaluated once, its lock held to the end).
_FENCED_BUILD = (
    f"SELECT {MODULE_COLUMNS}, (SELECT epoch FROM scheduler_leases"
    " WHERE id = 1 FOR SHARE) AS lease_epoch"
    " FROM module_builds WHERE id = %s FOR UPDATE"
)
_LOCKED_BUILD = (
    f"SELECT {MODULE_COLUMNS}, NULL AS lease_epoch"
    " FROM module_builds WHERE id = %s FOR UPDATE"
)


async def load_fenced_build(
    cursor: Any, module_build_id: int, epoch: int | None
) -> BuildSnapshot:
    """Lock a build's row and read it with its components, inside the
    caller's transaction; with ``epoch``, check in the same statement that
    the scheduler lease is still at it (its row share-locked until the
    transaction ends, as ``check_lease`` does).

    :raises NotLeader: another process has taken the lease since ``epoch``.
    :raises NotFound: when there is no such build.
    """
    query = _LOCKED_BUILD if epoch is None else _FENCED_BUILD
    await cursor.execute(query, (module_build_id,))
    row = cursor.fetchone()
    if row is None:
        if epoch is not None:
            await check_lease(cursor, epoch)
        raise NotFound(f"Module build {module_build_id} does not exist")
    values = dict(row)
    current = values.pop("lease_epoch")
    if epoch is not None and current != epoch:
        raise NotLeader(
            f"The scheduler lease is at epoch {current}, not {epoch}: "
            "another process is the active scheduler",
            details={"epoch": epoch, "current_epoch": current},
        )
    components = await load_components(cursor, module_build_id)
    return BuildSnapshot(module_build_from_row(values), components)
