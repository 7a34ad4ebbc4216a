"""The states of module and component builds and the allowed transitions."""

from __future__ import annotations

import enum


class ModuleState(enum.Enum):
    """States of a module build; ``number`` is MBS's numeric form."""

    INIT = ("init", 0)
    WAIT = ("wait", 1)
    BUILD = ("build", 2)
    DONE = ("done", 3)
    FAILED = ("failed", 4)
    READY = ("ready", 5)
    #: Retired: a failed build collected after ``koji.garbage_days``, or a
    #: ready (or failed) build an administrator retired. Nothing uses it.
    GARBAGE = ("garbage", 6)

    def __init__(self, label: str, number: int) -> None:
        self.label = label
        self.number = number

    @classmethod
    def from_label(cls, label: str) -> ModuleState:
        """Return the state named ``label``.

        :raises ValueError: for an unknown name.
        """
        try:
            return _MODULE_BY_LABEL[label]
        except (KeyError, TypeError):
            raise ValueError(f"unknown module state {label!r}") from None


class ComponentState(enum.Enum):
    """States of a component build: ``waiting``, then Koji's build states."""

    WAITING = ("waiting", None)
    BUILDING = ("building", 0)
    COMPLETE = ("complete", 1)
    FAILED = ("failed", 3)
    CANCELED = ("canceled", 4)

    def __init__(self, label: str, koji_number: int | None) -> None:
        self.label = label
        self.koji_number = koji_number

    @classmethod
    def from_label(cls, label: str) -> ComponentState:
        """Return the state named ``label``.

        :raises ValueError: for an unknown name.
        """
        try:
            return _COMPONENT_BY_LABEL[label]
        except (KeyError, TypeError):
            raise ValueError(f"unknown component state {label!r}") from None


# Lookups by label (rows carry labels; a dict beats scanning the members).
_MODULE_BY_LABEL = {state.label: state for state in ModuleState}
_COMPONENT_BY_LABEL = {state.label: state for state in ComponentState}

MODULE_TRANSITIONS: dict[ModuleState, frozenset[ModuleState]] = {
    ModuleState.INIT: frozenset({ModuleState.WAIT, ModuleState.FAILED}),
    ModuleState.WAIT: frozenset({ModuleState.BUILD, ModuleState.FAILED}),
    ModuleState.BUILD: frozenset({ModuleState.DONE, ModuleState.FAILED}),
    ModuleState.DONE: frozenset({ModuleState.READY, ModuleState.FAILED}),
    # A failed build may be submitted again: it starts over in init.
    ModuleState.FAILED: frozenset({ModuleState.INIT, ModuleState.GARBAGE}),
    ModuleState.READY: frozenset({ModuleState.GARBAGE}),
    ModuleState.GARBAGE: frozenset(),
}

COMPONENT_TRANSITIONS: dict[ComponentState, frozenset[ComponentState]] = {
    ComponentState.WAITING: frozenset(
        {
            ComponentState.BUILDING,
            ComponentState.COMPLETE,
            ComponentState.CANCELED,
            ComponentState.FAILED,
        }
    ),
    ComponentState.BUILDING: frozenset(
        {ComponentState.COMPLETE, ComponentState.FAILED, ComponentState.CANCELED}
    ),
    ComponentState.COMPLETE: frozenset(),
    ComponentState.FAILED: frozenset({ComponentState.WAITING}),
    ComponentState.CANCELED: frozenset({ComponentState.WAITING}),
}


def module_transition_allowed(old: ModuleState, new: ModuleState) -> bool:
    """Whether a module build may move from ``old`` to ``new``."""
    return new in MODULE_TRANSITIONS[old]


def component_transition_allowed(old: ComponentState, new: ComponentState) -> bool:
    """Whether a component build may move from ``old`` to ``new``."""
    return new in COMPONENT_TRANSITIONS[old]
