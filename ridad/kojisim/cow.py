"""Copy-on-write tables for L{ridad.kojisim.state.HubState}.

A transaction used to deep-copy the whole hub state, which grows with every
task, build and event: most of kojisim's time in a long run. Now
``HubState.copy()`` copies nothing. Every table (a field of the state) of
both the original and the copy is moved into a L{Shared} holder that counts
the states sharing it, and a state copies a table only when it first reads
it, and only if another live state still shares it (the last one takes the
table as it is). So a call pays for the tables it touches, and a
transaction that commits pays nothing for the tables it did not touch.

Reads go through attribute access (``state.tasks``); a state cannot tell a
read from a write, so the first access claims the table. Code that only
compares two states (the bus messages of a commit) reads through
L{peek} or L{read_only}, which never claim, and asks L{same_table} to skip
tables that neither side touched.

The clone is a deep copy specialised for the state's values (dataclass
records, dicts, lists, scalars); anything else goes through
``copy.deepcopy``. A frozen record (an event, an RPM, a build log) is never
changed in place, so copies share it. Records refer to each other by id, never by object, so
copying one table alone keeps the state consistent.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["CopyOnWrite", "Shared", "clone", "peek", "read_only", "same_table"]

_ATOMIC = frozenset({int, float, str, bytes, bool, type(None), frozenset})


class Shared:
    """A table shared by ``sharers`` states, none of which has claimed it."""

    __slots__ = ("sharers", "value")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.sharers = 0


def clone(value: Any) -> Any:
    """A deep copy of a state value (records, dicts, lists, tuples, scalars)."""
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if kind is dict:
        return {
            key: item if type(item) in _ATOMIC else clone(item)
            for key, item in value.items()
        }
    if kind is list:
        return [item if type(item) in _ATOMIC else clone(item) for item in value]
    if kind is tuple:
        return tuple(clone(item) for item in value)
    if kind in _FROZEN:
        return value
    if _is_record(kind):
        copied = object.__new__(kind)
        members = value.__dict__.copy()
        for key, item in members.items():
            if type(item) not in _ATOMIC:
                members[key] = clone(item)
        copied.__dict__ = members
        return copied
    return copy.deepcopy(value)


_RECORD_KINDS: dict[type, bool] = {}
_FROZEN: set[type] = set()


def _is_record(kind: type) -> bool:
    """Whether ``kind`` is a dataclass whose instances keep a ``__dict__``."""
    known = _RECORD_KINDS.get(kind)
    if known is None:
        known = hasattr(kind, "__dataclass_fields__") and not hasattr(kind, "__slots__")
        _RECORD_KINDS[kind] = known
        if known and kind.__dataclass_params__.frozen:  # type: ignore[attr-defined]
            _FROZEN.add(kind)
            return False
    return known


class CopyOnWrite:
    """Mixin of a dataclass whose fields in ``_COW_FIELDS`` are copied lazily."""

    _COW_FIELDS: frozenset[str] = frozenset()

    def cow_copy(self) -> Any:
        """A copy sharing every table with this state until one side claims it."""
        twin = object.__new__(type(self))
        own = self.__dict__
        pending = own.setdefault("_pending", {})
        twin_pending: dict[str, Shared] = {}
        for name, value in list(own.items()):
            if name in self._COW_FIELDS:
                holder = Shared(value)
                holder.sharers = 1
                pending[name] = holder
                del own[name]
            elif name != "_pending":
                twin.__dict__[name] = value
        for name, holder in pending.items():
            holder.sharers += 1
            twin_pending[name] = holder
        twin.__dict__["_pending"] = twin_pending
        return twin

    def __getattr__(self, name: str) -> Any:
        pending = self.__dict__.get("_pending")
        holder = pending.pop(name, None) if pending else None
        if holder is None:
            raise AttributeError(name)
        holder.sharers -= 1
        value = holder.value if holder.sharers == 0 else clone(holder.value)
        self.__dict__[name] = value
        return value

    def __del__(self) -> None:
        for holder in self.__dict__.get("_pending", {}).values():
            holder.sharers -= 1


def peek(state: CopyOnWrite, name: str) -> Any:
    """A table of ``state`` for reading only: it is not claimed (nor copied)."""
    holder = state.__dict__.get("_pending", {}).get(name)
    return holder.value if holder is not None else getattr(state, name)


def same_table(old: CopyOnWrite, new: CopyOnWrite, name: str) -> bool:
    """Whether neither state touched table ``name`` since one was copied from the other."""
    held = old.__dict__.get("_pending", {}).get(name)
    return held is not None and held is new.__dict__.get("_pending", {}).get(name)


class _ReadOnly:
    """A view of a state whose attribute reads never claim a table."""

    def __init__(self, state: CopyOnWrite) -> None:
        self._state = state

    def __getattr__(self, name: str) -> Any:
        state = self._state
        if name in state._COW_FIELDS:
            return peek(state, name)
        attribute = getattr(type(state), name, None)
        if callable(attribute):
            return attribute.__get__(self)
        if isinstance(attribute, property):
            return attribute.__get__(self)
        return getattr(state, name)


def read_only(state: Any) -> Any:
    """``state`` seen through a view that reads tables without claiming them."""
    return _ReadOnly(state)
