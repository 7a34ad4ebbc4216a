"""Parsing of MBS list query arguments (paging, order, filters,
``verbose``/``short``) and the ``meta`` paging block of list answers."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from ridad.api.inputs import BIGINT_MAX, INT_MAX, UINT64_MAX, whole_number
from ridad.api.mbs_filters import KEYS as RESOLUTION_KEYS
from ridad.api.mbs_filters import resolution_filters
from ridad.db.mbs_queries import Condition, ListQuery
from ridad.domain.mbs_views import KOJI_BUILD_STATE_NAMES, Detail
from ridad.domain.states import ComponentState, ModuleState
from ridad.errors import InvalidRequest

DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 100
MAX_PAGE = INT_MAX
TRUE_WORDS = frozenset({"true", "1"})
FALSE_WORDS = frozenset({"false", "0"})
PAGING = ("page", "per_page", "order_by", "order_desc_by", "verbose", "short")
TIME_FILTERS = {
    f"{what}_{when}": (f"time_{what}", ">=" if when == "after" else "<=")
    for what in ("submitted", "modified", "completed")
    for when in ("after", "before")
}
# 2026-11-27, 2026-11-27T10:00:00[.123](Z|+01:00|+0100|nothing: UTC)
ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:?\d{2})?)?",
    re.ASCII,
)
MODULE_COLUMN_FILTERS = (
    "name",
    "stream",
    "version",
    "context",
    "owner",
    "koji_tag",
    "scmurl",
)
# MBS name -> ridad column.
MODULE_ORDERS = {
    c: c
    for c in (
        "id",
        "name",
        "stream",
        "version",
        "context",
        "state",
        "owner",
        "koji_tag",
        "scmurl",
        "scratch",
        "time_submitted",
        "time_modified",
        "time_completed",
    )
}
COMPONENT_COLUMN_FILTERS = {
    "package": "name",
    "format": "type",
    "task_id": "task_id",
    "nvr": "nvr",
    "batch": "batch",
    "module_build": "module_build_id",
    "module_id": "module_build_id",
}
# Integer column -> the largest value it holds.
INTEGER_FILTERS = {
    "version": UINT64_MAX,
    "task_id": BIGINT_MAX,
    "batch": INT_MAX,
    "module_build_id": BIGINT_MAX,
}
COMPONENT_ORDERS = {
    "id": "id",
    "package": "name",
    "format": "type",
    "task_id": "task_id",
    "state": "state",
    "nvr": "nvr",
    "batch": "batch",
    "module_build": "module_build_id",
    "time_modified": "time_modified",
}


@dataclass(frozen=True)
class ListRequest:
    """A parsed list query: what to read and how much of each item to show."""

    query: ListQuery
    detail: Detail


class Problems:
    """Problems found in a request, reported together in one 400."""

    def __init__(self) -> None:
        self.found: dict[str, str] = {}

    def add(self, key: str, problem: str) -> None:
        """Record the first problem of ``key``."""
        self.found.setdefault(key, problem)

    def raise_any(self, what: str, advice: str = "") -> None:
        """:raises InvalidRequest: ``what``, every problem, then ``advice``."""
        if self.found:
            listing = "; ".join(f"{k}: {v}" for k, v in sorted(self.found.items()))
            raise InvalidRequest(
                f"{what} ({listing}){advice}", details={"parameters": dict(self.found)}
            )


def _one(args: Mapping[str, list[str]], key: str, problems: Problems) -> str | None:
    """The single value of ``key`` (repeats of one value are fine)."""
    values = args.get(key)
    if not values:
        return None
    if len(set(values)) > 1:
        problems.add(key, "give it once")
        return None
    return values[0]


def _integer(
    text: str | None,
    key: str,
    problems: Problems,
    *,
    minimum: int = 0,
    maximum: int = BIGINT_MAX,
) -> int | None:
    if text is None:
        return None
    try:
        return whole_number(text, minimum=minimum, maximum=maximum)
    except ValueError as e:
        problems.add(key, str(e))
        return None


def _flag(args: Mapping[str, list[str]], key: str, problems: Problems) -> bool:
    """A boolean argument: true/1 or false/0 in any case; true if any is."""
    words = {v.lower() for v in args.get(key, [])}
    if words - TRUE_WORDS - FALSE_WORDS:
        problems.add(key, "must be true, false, 1 or 0")
    return bool(words & TRUE_WORDS)


def parse_time(text: str) -> datetime:
    """An ISO 8601 time: ``2026-11-27T10:00:00Z``, with an offset, or a date.

    A date is midnight UTC; a time without an offset is UTC, as in MBS.
    The answer is in UTC: PostgreSQL takes offsets up to 15:59 only, and
    Python's up to 23:59.

    :raises ValueError: for anything else, and for a time whose UTC is
        outside the years 1 to 9999.
    """
    if not ISO_TIME.fullmatch(text):
        raise ValueError(text)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(text) from None


def _paging(
    args: Mapping[str, list[str]], orders: Mapping[str, str], problems: Problems
) -> tuple[int, int, tuple[tuple[str, bool], ...], Detail]:
    page = _integer(
        _one(args, "page", problems), "page", problems, minimum=1, maximum=MAX_PAGE
    )
    per_page = _integer(
        _one(args, "per_page", problems),
        "per_page",
        problems,
        minimum=1,
        maximum=MAX_PER_PAGE,
    )
    ascending, descending = args.get("order_by", []), args.get("order_desc_by", [])
    if ascending and descending:
        problems.add("order_by", "give order_by or order_desc_by, not both")
    order = []
    for name in ascending or descending:
        if name not in orders:
            key = "order_by" if ascending else "order_desc_by"
            problems.add(key, "must be one of " + ", ".join(sorted(orders)))
        else:
            order.append((orders[name], bool(descending)))
    verbose = _flag(args, "verbose", problems)
    short = _flag(args, "short", problems)
    detail = Detail.VERBOSE if verbose else Detail.SHORT if short else Detail.DEFAULT
    return page or 1, per_page or DEFAULT_PER_PAGE, tuple(order), detail


def _unknown(
    args: Mapping[str, list[str]], known: set[str], problems: Problems
) -> None:
    for key in args:
        if key not in known:
            problems.add(
                key, "unknown parameter; use one of " + ", ".join(sorted(known))
            )


def _time_filters(
    args: Mapping[str, list[str]],
    allowed: Mapping[str, tuple[str, str]],
    problems: Problems,
) -> list[Condition]:
    conditions = []
    for key, (column, operator) in allowed.items():
        text = _one(args, key, problems)
        if text is None:
            continue
        try:
            conditions.append(Condition(column, operator, parse_time(text)))
        except ValueError:
            problems.add(
                key,
                "must be an ISO 8601 time such as 2026-11-27T10:00:00Z,"
                " 2026-11-27T11:00:00+01:00 or 2026-11-27",
            )
    return conditions


def _module_state(text: str) -> ModuleState | None:
    for state in ModuleState:
        if text.lower() in (state.label, str(state.number)):
            return state
    return None


def _component_state(text: str) -> ComponentState | None:
    for state in ComponentState:
        number = state.koji_number
        names = {state.label}
        if number is not None:
            names |= {str(number), KOJI_BUILD_STATE_NAMES[number].lower()}
        if text.lower() in names:
            return state
    return None


def _states(
    args: Mapping[str, list[str]],
    parse: Callable[[str], Any],
    choices: str,
    problems: Problems,
) -> list[Condition]:
    labels = []
    for text in args.get("state", []):
        state = parse(text)
        if state is None:
            problems.add("state", f"must be one of {choices}")
        else:
            labels.append(state.label)
    return [Condition("state", "in", sorted(set(labels)))] if labels else []


def _equal(
    column: str, text: str | None, key: str, problems: Problems
) -> list[Condition]:
    if text is None:
        return []
    if column in INTEGER_FILTERS:
        number = _integer(text, key, problems, maximum=INTEGER_FILTERS[column])
        return [] if number is None else [Condition(column, "=", number)]
    return [Condition(column, "=", text)]


def _nsvc(text: str | None, problems: Problems) -> list[Condition]:
    if text is None:
        return []
    parts = text.split(":")
    if len(parts) > 4 or "" in parts:
        problems.add("nsvc", "must be name[:stream[:version[:context]]]")
        return []
    conditions = []
    for column, part in zip(
        ("name", "stream", "version", "context"), parts, strict=False
    ):
        conditions.extend(_equal(column, part, "nsvc", problems))
    return conditions


def parse_module_list(
    args: Mapping[str, list[str]], *, cg_tag: str | None = None
) -> ListRequest:
    """Parse ``GET module-builds/`` arguments (``cg_tag``: ``koji.cg_tag``,
    what ``cg_build_koji_tag`` matches).

    :raises InvalidRequest: unknown parameters or bad values, all listed.
    """
    problems = Problems()
    known = {*PAGING, *MODULE_COLUMN_FILTERS, *TIME_FILTERS, "state", "nsvc"}
    known |= RESOLUTION_KEYS
    _unknown(args, known, problems)
    page, per_page, order, detail = _paging(args, MODULE_ORDERS, problems)
    choices = ", ".join(f"{s.label} ({s.number})" for s in ModuleState)
    conditions = _states(args, _module_state, choices, problems)
    for key in MODULE_COLUMN_FILTERS:
        conditions.extend(_equal(key, _one(args, key, problems), key, problems))
    conditions.extend(_nsvc(_one(args, "nsvc", problems), problems))
    conditions.extend(_time_filters(args, TIME_FILTERS, problems))
    conditions.extend(resolution_filters(args, problems, cg_tag=cg_tag))
    problems.raise_any("bad query")
    query = ListQuery(tuple(conditions), order, page, per_page)
    return ListRequest(query=query, detail=detail)


def parse_component_list(args: Mapping[str, list[str]]) -> ListRequest:
    """Parse ``GET component-builds/`` arguments.

    :raises InvalidRequest: unknown parameters or bad values, all listed.
    """
    problems = Problems()
    times = {k: v for k, v in TIME_FILTERS.items() if k.startswith("modified")}
    known = {*PAGING, *COMPONENT_COLUMN_FILTERS, *times, "state"}
    _unknown(args, known, problems)
    page, per_page, order, detail = _paging(args, COMPONENT_ORDERS, problems)
    choices = "waiting, " + ", ".join(
        f"{KOJI_BUILD_STATE_NAMES[s.koji_number]} ({s.koji_number})"
        for s in ComponentState
        if s.koji_number is not None
    )
    conditions = _states(args, _component_state, choices, problems)
    for key, column in COMPONENT_COLUMN_FILTERS.items():
        conditions.extend(_equal(column, _one(args, key, problems), key, problems))
    conditions.extend(_time_filters(args, times, problems))
    problems.raise_any("bad query")
    query = ListQuery(tuple(conditions), order, page, per_page)
    return ListRequest(query=query, detail=detail)


def parse_item_detail(args: Mapping[str, list[str]]) -> Detail:
    """Parse the arguments of ``GET module-builds/N`` or ``component-builds/N``.

    :raises InvalidRequest: arguments other than ``verbose`` and ``short``.
    """
    problems = Problems()
    _unknown(args, {"verbose", "short"}, problems)
    verbose = _flag(args, "verbose", problems)
    short = _flag(args, "short", problems)
    problems.raise_any("bad query")
    return Detail.VERBOSE if verbose else Detail.SHORT if short else Detail.DEFAULT


def pagination_meta(
    base_url: str,
    args: Mapping[str, list[str]],
    query: ListQuery,
    total: int,
) -> dict[str, Any]:
    """MBS's ``meta``: page, pages, per_page, total and links to
    ``base_url`` that keep the other query arguments."""
    page, per_page = query.page, query.per_page
    pages = -(-total // per_page)
    kept = [
        (k, v) for k, vs in args.items() if k not in ("page", "per_page") for v in vs
    ]

    def link(target: int) -> str:
        pairs = kept + [("page", str(target)), ("per_page", str(per_page))]
        return f"{base_url}?{urlencode(pairs)}"

    return {
        "page": page,
        "pages": pages,
        "per_page": per_page,
        "total": total,
        "prev": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < pages else None,
        "first": link(1),
        "last": link(max(pages, 1)),
    }
