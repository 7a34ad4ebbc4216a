"""The ``builds`` section of ``ridad.yaml``: rebuild strategies, scratch
builds and modulemd submissions in the body."""

from __future__ import annotations

import re
from typing import Any

from ridad.config.model import BuildsConfig
from ridad.config.reader import Reader, check_boolean, check_string, check_strings
from ridad.domain.rebuild import REBUILD_STRATEGIES

BUILDS_KEYS = {
    "rebuild_strategy_default",
    "rebuild_strategies_allowed",
    "allow_scratch",
    "scratch_branches",
    "allow_yaml_submissions",
}


def check_strategy(value: Any) -> str | None:
    """A known rebuild strategy."""
    problem = check_string(value)
    if problem or value in REBUILD_STRATEGIES:
        return problem
    return "must be one of " + ", ".join(REBUILD_STRATEGIES)


def check_strategies(value: Any) -> str | None:
    """A list of known rebuild strategies."""
    problem = check_strings(value)
    if problem:
        return problem
    unknown = [v for v in value if v not in REBUILD_STRATEGIES]
    if unknown:
        return f"unknown strategies {', '.join(unknown)}; known: " + ", ".join(
            REBUILD_STRATEGIES
        )
    return None


def check_patterns(value: Any) -> str | None:
    """A list of regular expressions Python's ``re`` compiles."""
    problem = check_strings(value)
    if problem:
        return problem
    for pattern in value:
        try:
            re.compile(pattern)
        except re.error as e:
            return f"{pattern!r} is not a regular expression: {e}"
    return None


def parse_builds(reader: Reader, data: Any) -> BuildsConfig:
    """The ``builds`` section."""
    section = reader.section(data if data is not None else {}, "builds", BUILDS_KEYS)
    d = BuildsConfig()
    p = "builds."
    default = reader.value(
        section, p, "rebuild_strategy_default", d.rebuild_strategy_default,
        check_strategy,
    )  # fmt: skip
    allowed = tuple(
        reader.value(
            section,
            p,
            "rebuild_strategies_allowed",
            list(d.rebuild_strategies_allowed),
            check_strategies,
        )  # fmt: skip
    )
    if default not in allowed:
        allowed = (default, *allowed)
    return BuildsConfig(
        rebuild_strategy_default=default,
        rebuild_strategies_allowed=tuple(s for s in REBUILD_STRATEGIES if s in allowed),
        allow_scratch=reader.value(
            section, p, "allow_scratch", d.allow_scratch, check_boolean
        ),
        scratch_branches=tuple(
            reader.value(
                section,
                p,
                "scratch_branches",
                list(d.scratch_branches),
                check_patterns,
            )  # fmt: skip
        ),
        allow_yaml_submissions=reader.value(
            section,
            p,
            "allow_yaml_submissions",
            d.allow_yaml_submissions,
            check_boolean,
        ),  # fmt: skip
    )
