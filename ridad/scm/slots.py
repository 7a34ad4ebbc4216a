"""Git process slots shared fairly between submitters.

L{FairSlots} holds C{size} slots. Each submitter's waiting requests queue
separately; when a slot frees it goes to the waiting submitter that holds
the fewest slots, and among equals to the one served least recently (round
robin; one never served first, then in order of arrival). A submitter with thousands of queued git commands therefore delays
another submitter's next command by at most the one command each slot is
running when that other submitter asks.
"""

from __future__ import annotations

from collections import deque

from twisted.internet.defer import Deferred, succeed

__all__ = ["FairSlots"]


class FairSlots:
    """
    C{size} slots, handed out per submitter: fewest held first, then in
    turn.
    """

    def __init__(self, size: int) -> None:
        """
        Start with every slot free.

        @raise ValueError: C{size} is below 1.
        """
        if size < 1:
            raise ValueError("FairSlots needs at least one slot")
        self._free = size
        self._held: dict[str, int] = {}
        self._waiting: dict[str, deque[Deferred[None]]] = {}
        # When each submitter with slots or requests was last given a slot
        # (a counter); never served counts as earliest, then arrival order.
        self._served: dict[str, int] = {}
        self._turns = 0

    @property
    def waiting(self) -> int:
        """
        @return: how many requests wait for a slot, over all submitters.
        """
        return sum(len(queue) for queue in self._waiting.values())

    def held(self, submitter: str) -> int:
        """
        @return: how many slots C{submitter} holds now.
        """
        return self._held.get(submitter, 0)

    def acquire(self, submitter: str) -> Deferred[None]:
        """
        Ask for a slot for C{submitter}; release it with L{release}.

        Cancelling the returned Deferred withdraws the request.

        @return: a Deferred that fires once the slot is C{submitter}'s.
        """
        if self._free > 0 and not self._waiting:
            self._take(submitter)
            return succeed(None)

        def withdraw(d: Deferred[None]) -> None:
            """Take a cancelled request out of its queue."""
            queue = self._waiting.get(submitter)
            if queue is not None and d in queue:
                queue.remove(d)
                if not queue:
                    del self._waiting[submitter]
                    if submitter not in self._held:
                        self._served.pop(submitter, None)

        waiter: Deferred[None] = Deferred(withdraw)
        self._waiting.setdefault(submitter, deque()).append(waiter)
        return waiter

    def release(self, submitter: str) -> None:
        """
        Give back one of C{submitter}'s slots and hand it on.

        @raise ValueError: C{submitter} holds no slot.
        """
        count = self._held.get(submitter, 0)
        if count < 1:
            raise ValueError(f"{submitter!r} holds no git slot")
        if count == 1:
            del self._held[submitter]
            if submitter not in self._waiting:
                del self._served[submitter]
        else:
            self._held[submitter] = count - 1
        self._free += 1
        self._hand_over()

    def _take(self, submitter: str) -> None:
        """Count one more slot as C{submitter}'s."""
        self._free -= 1
        self._held[submitter] = self._held.get(submitter, 0) + 1
        self._served[submitter] = self._turns
        self._turns += 1

    def _priority(self, submitter: str) -> tuple[int, int]:
        """
        @return: the sort key of a waiting submitter: slots held, then when
            last served.
        """
        return (self._held.get(submitter, 0), self._served.get(submitter, -1))

    def _hand_over(self) -> None:
        """Give free slots to waiting submitters, fewest held first."""
        while self._free > 0 and self._waiting:
            submitter = min(self._waiting, key=self._priority)
            queue = self._waiting[submitter]
            waiter = queue.popleft()
            if not queue:
                del self._waiting[submitter]
            self._take(submitter)
            waiter.callback(None)
