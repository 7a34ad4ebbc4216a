"""Declaring API methods with the hub's own names for argument errors.

The hub answers a call whose arguments do not fit with ParameterError 1019
and Python's own message, which names the hub's internal function:
``get_tag() got an unexpected keyword argument 'x'`` for a static export,
``RootExports.getTaskInfo() missing 1 required positional argument: ...``
for a method. L{Exports} gives each implementation that qualified name; a
method's implementation takes a first ``self`` argument, as the hub's do, so
that Python counts positional arguments the same way.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["Export", "Exports"]

F = TypeVar("F", bound=Callable[..., Any])


class RootExports:
    """Stands for the hub's ``RootExports`` instance that methods are bound to."""


_ROOT = RootExports()


@dataclass(frozen=True)
class Export:
    """One API method: its callable and whether it writes (runs in a transaction)."""

    name: str
    call: Callable[..., Any]
    writes: bool


class Exports:
    """The API methods one module provides."""

    def __init__(self) -> None:
        """Start empty."""
        self.entries: dict[str, Export] = {}

    def method(self, name: str, *, writes: bool = False) -> Callable[[F], F]:
        """Register a ``RootExports`` method (its first argument is ``self``)."""

        def register(func: F) -> F:
            """Name the function as the hub's method and bind it."""
            func.__qualname__ = f"RootExports.{name}"
            bound = types.MethodType(func, _ROOT)
            self.entries[name] = Export(name, bound, writes)
            return func

        return register

    def function(
        self, name: str, *, writes: bool = False, qualname: str | None = None
    ) -> Callable[[F], F]:
        """Register a static export, named as the hub's internal function."""

        def register(func: F) -> F:
            """Name the function as the hub's internal one."""
            if qualname is not None:
                func.__qualname__ = qualname
                func.__name__ = qualname
            self.entries[name] = Export(name, func, writes)
            return func

        return register
