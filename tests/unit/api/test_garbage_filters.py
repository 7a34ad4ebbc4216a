"""The garbage state in the list filters of both APIs: by name and, on the
MBS API, by MBS's number 6."""

from __future__ import annotations

import pytest

from ridad.api.app import parse_list_query
from ridad.api.mbs_params import parse_module_list
from ridad.db.mbs_queries import Condition
from ridad.domain.states import ModuleState
from ridad.errors import InvalidRequest


def test_mbs_state_filter_takes_garbage_and_6() -> None:
    """state=garbage and state=6 are one condition on the label garbage."""
    for value in ("garbage", "6", "GARBAGE"):
        parsed = parse_module_list({"state": [value, "ready"]})
        assert parsed.query.conditions == (
            Condition("state", "in", ["garbage", "ready"]),
        )


def test_mbs_state_filter_lists_garbage_among_the_choices() -> None:
    """An unknown state's problem names every state with its number, 6 last."""
    with pytest.raises(InvalidRequest) as refused:
        parse_module_list({"state": ["7"]})
    assert refused.value.details["parameters"]["state"].endswith(
        "ready (5), garbage (6)"
    )


def test_rida_state_filter_takes_garbage() -> None:
    """/rida/'s state filter knows garbage by its name."""
    _, _, build_filter = parse_list_query({"state": ["garbage"]})
    assert build_filter.states == (ModuleState.GARBAGE,)
