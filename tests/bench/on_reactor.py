"""Running one benchmark coroutine on the global reactor, from a plain ``main``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Coroutine
from typing import Any

from twisted.internet.defer import Deferred
from twisted.logger import (
    FilteringLogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    globalLogBeginner,
    textFileLogObserver,
)
from twisted.python.failure import Failure


def run_on_reactor(
    work: Callable[[Any], Coroutine[Any, Any, dict[str, Any]]],
    *,
    log_level: LogLevel = LogLevel.warn,
) -> dict[str, Any]:
    """Run ``work(reactor)`` on the global reactor until it ends; return its figures.

    Log events at ``log_level`` and above go to stderr.

    :raises: whatever ``work`` raised, or RuntimeError when the reactor
        stopped first.
    """
    from twisted.internet import reactor as global_reactor

    reactor: Any = global_reactor
    globalLogBeginner.beginLoggingTo(
        [
            FilteringLogObserver(
                textFileLogObserver(sys.stderr),
                [LogLevelFilterPredicate(log_level)],
            )
        ],
        redirectStandardIO=False,
    )
    outcome: list[Any] = []

    def finished(result: Any) -> None:
        outcome.append(result)
        reactor.stop()

    reactor.callWhenRunning(
        lambda: Deferred.fromCoroutine(work(reactor)).addBoth(finished)
    )
    reactor.run()
    if not outcome:
        raise RuntimeError("the reactor stopped before the benchmark ended")
    if isinstance(outcome[0], Failure):
        outcome[0].raiseException()
    figures: dict[str, Any] = outcome[0]
    return figures
