"""How a component's Koji task ended, as one poll found it."""

from __future__ import annotations

from typing import NamedTuple

from ridad.domain.builds import ComponentBuild
from ridad.domain.koji import KojiBuild
from ridad.domain.states import ComponentState


class TaskEnd(NamedTuple):
    """A component's task ended: where it leaves it, and what Koji said."""

    component: ComponentBuild
    state: ComponentState
    reason: str | None
    task_state: str
    koji_build: KojiBuild | None = None
