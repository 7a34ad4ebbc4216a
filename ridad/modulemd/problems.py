"""Where a modulemd problem is, what it is, and how the problems are reported.

Validation collects every problem it finds in a ``ProblemLog`` and reports
them together as one ``Unprocessable`` whose ``details["errors"]`` lists them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ridad.errors import Unprocessable


@dataclass(frozen=True)
class Location:
    """A 1-based line and column in the YAML text."""

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


def unprocessable(
    problems: Sequence[Problem], *, with_path: bool = True
) -> Unprocessable:
    """Build the error that reports ``problems`` (at least one).

    :return: an ``Unprocessable`` whose message renders the first problem
        (its path left out unless ``with_path``) and counts the others, with
        every problem in ``details["errors"]``.
    """
    message = problems[0].render(with_path=with_path)
    if len(problems) > 1:
        others = len(problems) - 1
        message += f" (and {others} more problem{'s' if others > 1 else ''})"
    return Unprocessable(
        message, details={"errors": [problem.as_detail() for problem in problems]}
    )


def _position(problem: Problem) -> tuple[int, int]:
    """Sort key putting problems in the order they occur in the text."""
    return (problem.location.line, problem.location.column)


class ProblemLog:
    """An ordered collection of the problems found so far."""

    def __init__(self) -> None:
        """Start with no problems."""
        self._problems: list[Problem] = []

    def add(self, path: str, location: Location, message: str) -> None:
        """Record one problem."""
        self._problems.append(Problem(path, location, message))

    def extend(self, problems: Sequence[Problem]) -> None:
        """Record problems found elsewhere (by the YAML reader, say)."""
        self._problems.extend(problems)

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Every problem recorded, in the order found."""
        return tuple(self._problems)

    def __bool__(self) -> bool:
        """Whether any problem has been recorded."""
        return bool(self._problems)

    def raise_if_any(self) -> None:
        """Report the recorded problems, if any, in text order.

        :raises Unprocessable: listing every recorded problem.
        """
        if self._problems:
            raise unprocessable(sorted(self._problems, key=_position))
