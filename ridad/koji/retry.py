"""How long the Koji client waits between attempts: a pure backoff rule."""

from __future__ import annotations

from dataclasses import dataclass

from ridad.errors import ConfigError


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff for retryable Koji trouble.

    The first retry waits about ``initial_seconds``, each later one ``factor``
    times longer, never more than ``max_seconds``. No attempt starts later
    than ``give_up_after_seconds`` after the first one.

    :raises ConfigError: for a non-positive time or a factor below 1.
    """

    initial_seconds: float = 1.0
    factor: float = 2.0
    max_seconds: float = 60.0
    give_up_after_seconds: float = 3600.0

    def __post_init__(self) -> None:
        problems = [
            f"koji retry {name} must be positive, not {value!r}"
            for name, value in (
                ("initial_seconds", self.initial_seconds),
                ("max_seconds", self.max_seconds),
                ("give_up_after_seconds", self.give_up_after_seconds),
            )
            if not value > 0
        ]
        if not self.factor >= 1:
            problems.append(
                f"koji retry factor must be at least 1, not {self.factor!r}"
            )
        if problems:
            raise ConfigError(problems)


def retry_delay_seconds(attempt: int, policy: RetryPolicy, rand: float) -> float:
    """The wait before retrying after failed attempt number ``attempt`` (from 1).

    The ceiling grows as ``initial_seconds * factor ** (attempt - 1)`` up to
    ``max_seconds``; the delay is drawn between half the ceiling and the
    ceiling ("equal jitter") with ``rand`` in [0, 1], so clients that failed
    together do not retry together.

    :returns: a delay in seconds, in ``[0, policy.max_seconds]``.
    """
    rand = min(max(rand, 0.0), 1.0)
    ceiling = policy.max_seconds
    exponent = max(attempt, 1) - 1
    try:
        ceiling = min(ceiling, policy.initial_seconds * policy.factor**exponent)
    except OverflowError:
        pass
    return ceiling / 2 + ceiling / 2 * rand
