"""Bounded answers: at most 50 problems listed in one refusal, the rest counted."""

from __future__ import annotations

import json

import pytest

from ridad.errors import Unprocessable
from ridad.modulemd.parse import load_modulemd
from ridad.modulemd.problems import MAX_REPORTED_PROBLEMS, Location, ProblemLog

VALID = (
    "document: modulemd\nversion: 2\ndata:\n  summary: S\n  description: D\n"
    "  license:\n    module: [MIT]\n"
)


def _refusal(text: str) -> Unprocessable:
    """Load text that must be refused and return the error."""
    with pytest.raises(Unprocessable) as raised:
        load_modulemd(text)
    return raised.value


def test_a_flood_of_duplicate_keys_lists_fifty_and_counts_the_rest() -> None:
    """12,395 duplicate keys give 50 listed problems and one 'and 12,345 more problems'."""
    duplicates = "".join("  summary: again\n" for _ in range(12_395))
    error = _refusal(VALID + duplicates)
    errors = error.details["errors"]
    assert len(errors) == MAX_REPORTED_PROBLEMS + 1 == 51
    assert [e["line"] for e in errors[:50]] == list(range(8, 58))
    assert errors[-1] == {
        "path": "",
        "line": 58,
        "column": 3,
        "message": "and 12,345 more problems",
    }
    assert error.details["problem_count"] == 12_395
    assert error.message.endswith("(and 12,394 more problems)")
    assert len(json.dumps(error.details)) < 10_000


def test_fifty_problems_are_listed_without_a_count_entry() -> None:
    """Exactly 50 problems are all listed and nothing is added."""
    error = _refusal(VALID + "  summary: again\n" * 50)
    assert len(error.details["errors"]) == 50
    assert error.details["problem_count"] == 50
    assert "more problems" not in error.details["errors"][-1]["message"]


def test_the_problems_kept_are_the_first_in_the_text_whatever_the_order_found() -> None:
    """A log fed problems from the end of the text backwards keeps the earliest 51."""
    log = ProblemLog()
    for line in range(1000, 0, -1):
        log.add("data", Location(line, 1), f"problem on line {line}")
    assert log.count == 1000
    assert [p.location.line for p in log.problems] == list(range(1, 52))
    with pytest.raises(Unprocessable) as raised:
        log.raise_if_any()
    assert raised.value.details["errors"][-1]["message"] == "and 950 more problems"


def test_problems_on_one_spot_stay_in_the_order_found() -> None:
    """Problems at the same line and column are listed in the order they were found."""
    log = ProblemLog()
    for index in range(5):
        log.add("data", Location(3, 3), f"problem {index}")
    assert [p.message for p in log.problems] == [f"problem {i}" for i in range(5)]
