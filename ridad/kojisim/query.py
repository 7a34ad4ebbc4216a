"""The hub's ``queryOpts``: order, offset, limit and countOnly on result lists."""

from __future__ import annotations

from typing import Any

import koji

__all__ = ["apply_query_opts"]


def apply_query_opts(results: list[dict[str, Any]], opts: Any) -> Any:
    """Apply ``{order, offset, limit, countOnly}`` to a list of dicts.

    :returns: the list, or its length with ``countOnly``.
    :raises koji.ParameterError: ``opts`` is not a dict.
    """
    if not opts:
        return results
    if not isinstance(opts, dict):
        raise koji.ParameterError(f"Invalid type for queryOpts: {type(opts)}")
    order = opts.get("order")
    if order:
        for key in reversed(str(order).split(",")):
            field = key.strip().lstrip("-")
            results = sorted(
                results,
                key=lambda row: (row.get(field) is None, row.get(field)),
                reverse=key.strip().startswith("-"),
            )
    if opts.get("countOnly"):
        return len(results)
    offset = int(opts.get("offset") or 0)
    results = results[offset:]
    if opts.get("limit") is not None:
        results = results[: int(opts["limit"])]
    return results
