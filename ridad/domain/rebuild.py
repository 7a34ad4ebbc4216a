"""Rebuild strategies: which components of a module build may be reused
from a previous build of the same module instead of being built again
(MBS's ``rebuild_strategy``)."""

from __future__ import annotations

from types import MappingProxyType

ALL = "all"
CHANGED_AND_AFTER = "changed-and-after"
ONLY_CHANGED = "only-changed"

#: Each strategy with the description MBS's rebuild-strategies API gives it.
REBUILD_STRATEGIES = MappingProxyType(
    {
        ALL: "All components will be rebuilt",
        CHANGED_AND_AFTER: (
            "All components that have changed and those in subsequent batches"
            " will be rebuilt"
        ),
        ONLY_CHANGED: "All changed components will be rebuilt",
    }
)
#: The reason recorded on a component that was not built but reused.
REUSED_REASON = "Reused component from previous module build"


def strategies_view(default: str, allowed: tuple[str, ...]) -> dict[str, object]:
    """MBS's ``GET rebuild-strategies/``: each strategy, sorted by name, with
    its description, whether a submission may name it (the default always,
    and those ``allowed``) and whether it is the default."""
    return {
        "items": [
            {
                "name": name,
                "description": REBUILD_STRATEGIES[name],
                "allowed": name == default or name in allowed,
                "default": name == default,
            }
            for name in sorted(REBUILD_STRATEGIES)
        ]
    }
