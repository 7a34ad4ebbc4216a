"""Where a modulemd problem is, what it is, and how the problems are reported.

Validation collects every problem it finds in a ``ProblemLog`` and reports
them together as one ``Unprocessable`` whose ``details["errors"]`` lists the
first ``MAX_REPORTED_PROBLEMS`` of them in text order, then one entry counting
the rest, so that an error body stays small whatever the input.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from ridad.errors import Unprocessable

#: The most problems listed in one error; the rest are only counted.
MAX_REPORTED_PROBLEMS = 50


class Location(NamedTuple):
    """A 1-based line and column in the YAML text.

    A named tuple, not a dataclass: a document has one per node, and tuples
    of numbers are untracked by the garbage collector, whose passes over
    hundreds of thousands of tracked objects took most of a large parse.
    """

    line: int
    column: int


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document.

    ``path`` is a dotted path such as ``data.components.rpms.foo.buildorder``
    (sequence items as ``[n]``); it is empty for the file as a whole.
    """

    path: str
    location: Location
    message: str

    def render(self, *, with_path: bool = True) -> str:
        """Describe the problem in one line.

        :return: ``"<path>: <message> [line L col C]"`` (without the path
            when it is empty or ``with_path`` is false).
        """
        where = f"[line {self.location.line} col {self.location.column}]"
        if self.path and with_path:
            return f"{self.path}: {self.message} {where}"
        return f"{self.message} {where}"

    def as_detail(self) -> dict[str, Any]:
        """Describe the problem as a JSON-ready mapping.

        :return: ``{"path", "line", "column", "message"}``.
        """
        return {
            "path": self.path,
            "line": self.location.line,
            "column": self.location.column,
            "message": self.message,
        }


def child_path(path: str, key: str) -> str:
    """Extend a dotted path by one mapping key.

    :return: ``key`` at the root, else ``"<path>.<key>"``.
    """
    return f"{path}.{key}" if path else key


def item_path(path: str, index: int) -> str:
    """Extend a dotted path by one sequence index.

    :return: ``"<path>[<index>]"``.
    """
    return f"{path}[{index}]"


def _more_problems(first_omitted: Problem, count: int) -> dict[str, Any]:
    """The last ``details["errors"]`` entry, counting the problems left out."""
    return {
        "path": "",
        "line": first_omitted.location.line,
        "column": first_omitted.location.column,
        "message": f"and {count:,} more problem{'s' if count > 1 else ''}",
    }


def unprocessable(
    problems: Sequence[Problem], *, with_path: bool = True, total: int | None = None
) -> Unprocessable:
    """Build the error that reports ``problems`` (at least one).

    ``total`` counts every problem found when ``problems`` holds only the
    first of them.

    :return: an ``Unprocessable`` whose message renders the first problem
        (its path left out unless ``with_path``) and counts the others. Its
        ``details["errors"]`` lists at most ``MAX_REPORTED_PROBLEMS``
        problems, then an entry ``"and N more problems"`` (located at the
        first one left out) when there are more; ``details["problem_count"]``
        is the total.
    """
    total = len(problems) if total is None else total
    message = problems[0].render(with_path=with_path)
    if total > 1:
        others = total - 1
        message += f" (and {others:,} more problem{'s' if others > 1 else ''})"
    listed = [problem.as_detail() for problem in problems[:MAX_REPORTED_PROBLEMS]]
    if total > len(listed):
        first_omitted = problems[min(len(listed), len(problems) - 1)]
        listed.append(_more_problems(first_omitted, total - len(listed)))
    return Unprocessable(message, details={"errors": listed, "problem_count": total})


def _position(problem: Problem) -> tuple[int, int]:
    """Sort key putting problems in the order they occur in the text."""
    return (problem.location.line, problem.location.column)


class ProblemLog:
    """The problems found so far: every one counted, the first ones kept.

    Only the ``MAX_REPORTED_PROBLEMS + 1`` problems that come first in the
    text are kept (in a bounded heap), so that a document of a million
    problems costs no more memory than one of fifty.
    """

    def __init__(self) -> None:
        """Start with no problems."""
        # A max-heap on (line, column, order found) via negated keys.
        self._kept: list[tuple[int, int, int, Problem]] = []
        self._count = 0

    def add(self, path: str, location: Location, message: str) -> None:
        """Record one problem."""
        self._record(Problem(path, location, message))

    def extend(self, problems: Sequence[Problem]) -> None:
        """Record problems found elsewhere."""
        for problem in problems:
            self._record(problem)

    def _record(self, problem: Problem) -> None:
        """Count a problem and keep it if it is among the first in the text."""
        self._count += 1
        line, column = _position(problem)
        entry = (-line, -column, -self._count, problem)
        if len(self._kept) <= MAX_REPORTED_PROBLEMS:
            heapq.heappush(self._kept, entry)
        elif entry > self._kept[0]:
            heapq.heapreplace(self._kept, entry)

    @property
    def problems(self) -> tuple[Problem, ...]:
        """The problems kept, in text order (then in the order found)."""
        return tuple(entry[3] for entry in sorted(self._kept, reverse=True))

    @property
    def count(self) -> int:
        """How many problems were recorded, kept or not."""
        return self._count

    def __bool__(self) -> bool:
        """Whether any problem has been recorded."""
        return self._count > 0

    def raise_if_any(self) -> None:
        """Report the recorded problems, if any, in text order.

        :raises Unprocessable: listing the first problems and counting all.
        """
        if self._count:
            raise unprocessable(self.problems, total=self._count)
