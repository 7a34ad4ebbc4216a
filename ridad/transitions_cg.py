"""The intents of the module's content-generator import into Koji: the final
modulemd written with the intent to reserve (``pending``), the reservation
(``reserved``), going back to reserving again, and the completed import
(``imported``). The build moves to ``done`` after, through
``change_module_state``, whose message carries the Koji build's id.

They are bookkeeping of the one writer: ``ridad.transitions.Transitions``
mixes them in and runs each as one fenced transaction that locks the
build's row (no state change, so no trace row and no message of their
own). Nothing else imports this module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from ridad.db import cg as cg_rows
from ridad.domain.builds import BuildSnapshot
from ridad.domain.module_import import (
    IMPORTED,
    PENDING,
    RESERVED,
    CgReservation,
    FinalDocument,
)
from ridad.domain.states import ModuleState


class CgIntents:
    """Recording each step of the import before or after Koji takes it."""

    # Provided by ``Transitions``.
    _apply: Callable[..., Awaitable[BuildSnapshot]]
    _note: Callable[..., Awaitable[BuildSnapshot]]

    async def record_cg_intent(
        self,
        module_build_id: int,
        documents: Sequence[FinalDocument],
        artifact_count: int,
        *,
        epoch: int,
        importing: bool = True,
    ) -> BuildSnapshot:
        """Store the final modulemd documents and the intent to reserve the
        module's Koji build (``pending``), before ``CGInitBuild`` is sent.
        Without ``importing`` (a scratch build, never imported into Koji)
        only the documents: ``cg_state`` stays NULL.

        A build no longer in ``build`` (canceled meanwhile) or already past
        this step (documents written) is left as it is; the caller sees it
        in the answer.
        """

        async def step(cursor: Any, old: BuildSnapshot, now: datetime) -> Any:
            build = old.build
            if (
                build.state is not ModuleState.BUILD
                or build.cg_state
                or build.artifact_count is not None
            ):
                return old
            await cg_rows.insert_final_documents(cursor, module_build_id, documents)
            assignments: dict[str, Any] = {"artifact_count": artifact_count}
            if importing:
                assignments["cg_state"] = PENDING
            written = await cg_rows.set_cg_columns(cursor, module_build_id, assignments)
            return BuildSnapshot(written, old.components)

        return await self._apply(module_build_id, epoch, step, changes=False)

    async def record_cg_reserved(
        self, module_build_id: int, reservation: CgReservation, *, epoch: int
    ) -> BuildSnapshot:
        """Note the build Koji reserved and its token (``reserved``)."""
        assignments = {
            "cg_state": RESERVED,
            "cg_build_id": reservation.build_id,
            "cg_token": reservation.token,
        }
        write = cg_rows.set_cg_columns
        return await self._note(
            module_build_id, epoch, write, module_build_id, assignments
        )

    async def record_cg_unreserved(
        self, module_build_id: int, *, epoch: int
    ) -> BuildSnapshot:
        """Note that the reservation is gone (refunded or canceled in Koji):
        the build is to be reserved again (``pending``)."""
        assignments = {"cg_state": PENDING, "cg_build_id": None, "cg_token": None}
        write = cg_rows.set_cg_columns
        return await self._note(
            module_build_id, epoch, write, module_build_id, assignments
        )

    async def record_cg_imported(
        self, module_build_id: int, koji_build_id: int, *, epoch: int
    ) -> BuildSnapshot:
        """Note that the module's Koji build ``koji_build_id`` is COMPLETE."""
        assignments = {
            "cg_state": IMPORTED,
            "cg_build_id": koji_build_id,
            "cg_token": None,
        }
        write = cg_rows.set_cg_columns
        return await self._note(
            module_build_id, epoch, write, module_build_id, assignments
        )
