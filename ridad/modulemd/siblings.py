"""The modulemd an MSE sibling records: the submitted document with the one
``dependencies`` entry it was expanded from (each buildrequire on its chosen
stream). Blocking (YAML of up to a few MiB): run it off the reactor thread.
"""

from __future__ import annotations

from typing import Any

import yaml

from ridad.domain.modulemd import Dependencies


def with_dependencies(text: str, entry: Dependencies) -> str:
    """``text`` (a modulemd stream v2 document) with ``dependencies``
    replaced by ``entry``; empty sides are left out, as libmodulemd writes
    them."""
    document: dict[str, Any] = yaml.safe_load(text)
    written: dict[str, Any] = {}
    for side in ("buildrequires", "requires"):
        streams = getattr(entry, side)
        if streams:
            written[side] = {name: list(s) for name, s in sorted(streams.items())}
    document["data"]["dependencies"] = [written]
    return (
        "---\n"
        + yaml.safe_dump(
            document, sort_keys=False, default_flow_style=False, allow_unicode=True
        )
        + "...\n"
    )
