"""The pure backoff rule: capped exponential delays with jitter."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ridad.errors import ConfigError
from ridad.koji.retry import RetryPolicy, retry_delay_seconds

POLICY = RetryPolicy(initial_seconds=1.0, factor=2.0, max_seconds=60.0)


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (7, 60.0)]
)
def test_delay_doubles_up_to_the_cap(attempt: int, ceiling: float) -> None:
    """The delay ceiling is initial * factor ** (attempt - 1), capped at max."""
    assert retry_delay_seconds(attempt, POLICY, 1.0) == ceiling
    assert retry_delay_seconds(attempt, POLICY, 0.0) == ceiling / 2


def test_huge_attempt_numbers_stay_at_the_cap() -> None:
    """Attempt numbers far past the cap do not overflow."""
    assert retry_delay_seconds(10**6, POLICY, 1.0) == 60.0


@given(
    attempt=st.integers(min_value=-5, max_value=10**4),
    rand=st.floats(allow_nan=False),
    initial=st.floats(min_value=0.001, max_value=100.0),
    factor=st.floats(min_value=1.0, max_value=10.0),
    cap=st.floats(min_value=0.001, max_value=1000.0),
)
def test_delay_is_never_negative_nor_above_the_cap(
    attempt: int, rand: float, initial: float, factor: float, cap: float
) -> None:
    """Whatever the inputs, the delay lies in [0, max_seconds]."""
    policy = RetryPolicy(initial_seconds=initial, factor=factor, max_seconds=cap)
    assert 0.0 <= retry_delay_seconds(attempt, policy, rand) <= cap


@given(attempt=st.integers(min_value=1, max_value=200), rand=st.floats(0.0, 1.0))
def test_delay_ceiling_never_shrinks(attempt: int, rand: float) -> None:
    """A later attempt never waits less, at the same jitter."""
    assert retry_delay_seconds(attempt + 1, POLICY, rand) >= retry_delay_seconds(
        attempt, POLICY, rand
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial_seconds": 0},
        {"max_seconds": -1},
        {"give_up_after_seconds": 0},
        {"factor": 0.5},
    ],
)
def test_nonsense_policy_is_a_config_error(kwargs: dict[str, float]) -> None:
    """Non-positive times and shrinking factors are refused."""
    with pytest.raises(ConfigError):
        RetryPolicy(**kwargs)
