"""The one change a client may ask of a module build's state, on both APIs:
``{"state": "failed"}`` cancels it (its owner or an administrator), and
``{"state": "garbage"}`` retires it (an administrator). MBS's numbers
(``"4"``, ``"6"``) are accepted for the states."""

from __future__ import annotations

from typing import Any

from ridad.api.auth import Authorizer, Identity
from ridad.domain.builds import BuildSnapshot, ModuleBuild, TraceEntry
from ridad.domain.lifecycle import RETIRABLE
from ridad.domain.states import ModuleState
from ridad.errors import InvalidRequest
from ridad.transitions import Transitions

__all__ = ["CANCELLABLE", "RETIRABLE", "change_state", "requested_state"]

CANCELLABLE = (ModuleState.INIT, ModuleState.WAIT, ModuleState.BUILD)
#: The states a client may ask for, by name and by MBS's number.
REQUESTABLE = {
    label: state
    for state in (ModuleState.FAILED, ModuleState.GARBAGE)
    for label in (state.label, str(state.number))
}


def requested_state(value: Any) -> ModuleState:
    """The state a PATCH body's ``state`` asks for.

    :raises InvalidRequest: for anything but failed or garbage.
    """
    state = REQUESTABLE.get(value) if isinstance(value, str) else None
    if state is None:
        raise InvalidRequest(
            'the only changes a module build accepts are {"state": "failed"}'
            ' (cancel it) and {"state": "garbage"} (retire it: administrators)',
            details={"fields": {"state": 'must be "failed" or "garbage"'}},
        )
    return state


async def change_state(
    transitions: Transitions,
    authorizer: Authorizer,
    identity: Identity,
    build: ModuleBuild,
    state: ModuleState,
) -> tuple[BuildSnapshot, list[TraceEntry]]:
    """Cancel or retire ``build`` for ``identity``; answer it as written,
    with its module trace.

    :raises Forbidden: ``identity`` may not.
    :raises InvalidRequest: the build's state does not allow it (a cancel
        outside init, wait and build; a retire outside ready and failed).
    :raises NotFound: the build is gone.
    """
    if state is ModuleState.FAILED:
        authorizer.check_cancel(identity, build.owner)
        return await transitions.cancel(
            build.id, f"Canceled by {identity.user}", allowed_from=CANCELLABLE
        )
    authorizer.check_retire(identity)
    return await transitions.retire(
        build.id, f"Retired by {identity.user}", allowed_from=RETIRABLE
    )
