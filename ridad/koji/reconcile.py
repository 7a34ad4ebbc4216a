"""Writes whose answer was lost: read what Koji did, then do only the rest.

When the hub ran a request but its answer was lost on the way (a proxy's 502,
a reset connection), the client resends it with the same call number and the
hub refuses to run it twice (RetryError 1009): the client raises
``KojiAnswerLost``. The request ran, but which of its calls succeeded is
unknown. So every write operation of ``KojiHub`` says how to read back what
its calls were meant to change (is the tag there, is the build tagged, is
the package listed...), and only the calls still to be made are sent again,
as a new request. Nothing is created twice, and nothing a lost answer hid is
taken for a failure.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from twisted.logger import Logger

from ridad.errors import KojiAnswerLost
from ridad.koji.client import KojiClient
from ridad.koji.wire import KojiCall

__all__ = ["MAX_ROUNDS", "Remaining", "write_multicall"]

#: How many requests one write may take when answers keep getting lost.
MAX_ROUNDS = 3

Remaining = Callable[[], Awaitable[Sequence[KojiCall]]]
"""Reads Koji's state and answers the calls still to be made."""

log = Logger()


async def write_multicall(
    client: KojiClient, calls: Sequence[KojiCall], remaining: Remaining, *, what: str
) -> list[tuple[KojiCall, Any]]:
    """Run ``calls`` as one multicall; after a lost answer, run what
    ``remaining`` finds still to do (until nothing is, or ``MAX_ROUNDS``).

    :returns: each call of the request that was answered, with its answer (a
        value, or a KojiFault instance); empty when Koji's state showed all
        done after a lost answer.
    :raises KojiAnswerLost: when the answer was lost ``MAX_ROUNDS`` times.
    :raises KojiFault: when Koji refused the request or a read.
    :raises KojiUnavailable: Koji stayed unreachable.
    """
    pending = list(calls)
    for _ in range(MAX_ROUNDS):
        try:
            answers = await client.multicall(pending)
        except KojiAnswerLost as lost:
            log.warn(
                "Koji ran {operation} but its answer was lost ({reason});"
                " reading what it did",
                operation=what,
                reason=lost.message,
            )
            pending = list(await remaining())
            if not pending:
                return []
            continue
        return list(zip(pending, answers, strict=True))
    raise KojiAnswerLost(f"The answer to {what} was lost {MAX_ROUNDS} times")
