"""Tests for L{ridad.scm.slots.FairSlots}: git slots shared per submitter."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.defer import CancelledError, Deferred

from ridad.scm.slots import FairSlots


def _granted(d: Deferred[None]) -> bool:
    """Whether the slot request has been granted."""
    return d.called


def _serve(slots: FairSlots, requests: list[tuple[str, Deferred[None]]]) -> list[str]:
    """Release one slot of each granted request in turn; return who got the
    slots freed, in order."""
    order: list[str] = []
    pending = list(requests)
    holders = [name for name, d in pending if _granted(d)]
    pending = [(name, d) for name, d in pending if not _granted(d)]
    while holders:
        slots.release(holders.pop(0))
        for name, d in list(pending):
            if _granted(d):
                order.append(name)
                holders.append(name)
                pending.remove((name, d))
    return order


def test_free_slots_are_granted_at_once() -> None:
    """Below the size, every request is granted immediately."""
    slots = FairSlots(2)
    assert _granted(slots.acquire("alice"))
    assert _granted(slots.acquire("bob"))
    assert not _granted(slots.acquire("alice"))
    assert slots.held("alice") == 1 and slots.waiting == 1


def test_a_second_submitter_gets_the_next_free_slot() -> None:
    """alice holds both slots and queues 2,000 more; bob's one request gets the first slot freed."""
    slots = FairSlots(2)
    alice = [slots.acquire("alice") for _ in range(2002)]
    bob = slots.acquire("bob")
    assert sum(map(_granted, alice)) == 2 and not _granted(bob)
    slots.release("alice")
    assert _granted(bob)
    assert sum(map(_granted, alice)) == 2


def test_the_submitter_holding_fewest_slots_goes_first() -> None:
    """bob keeps getting freed slots until he holds as many as alice."""
    slots = FairSlots(4)
    requests = [("alice", slots.acquire("alice")) for _ in range(10)]
    requests += [("bob", slots.acquire("bob")) for _ in range(3)]
    order = _serve(slots, requests)
    assert order[:3] == ["bob", "bob", "alice"]
    assert order.count("bob") == 3 and order.count("alice") == 6


def test_equal_holders_are_served_in_turn() -> None:
    """Three submitters with long queues and one slot take turns."""
    slots = FairSlots(1)
    requests = [("alice", slots.acquire("alice"))]
    for _ in range(3):
        for name in ("alice", "bob", "carol"):
            requests.append((name, slots.acquire(name)))
    order = _serve(slots, requests)
    assert order[:6] == ["bob", "carol", "alice", "bob", "carol", "alice"]
    assert slots.held("alice") + slots.held("bob") + slots.held("carol") == 0


def test_a_cancelled_request_leaves_its_queue() -> None:
    """Cancelling a waiting request withdraws it; the slot goes to the next one."""
    slots = FairSlots(1)
    slots.acquire("alice")
    withdrawn = slots.acquire("bob")
    carol = slots.acquire("carol")
    failures: list[Any] = []
    withdrawn.addErrback(failures.append)
    withdrawn.cancel()
    assert failures[0].check(CancelledError)
    assert slots.waiting == 1
    slots.release("alice")
    assert _granted(carol) and slots.held("bob") == 0


def test_releasing_without_holding_is_an_error() -> None:
    """A release by a submitter holding no slot is a bug, reported loudly."""
    slots = FairSlots(1)
    with pytest.raises(ValueError):
        slots.release("alice")
    with pytest.raises(ValueError):
        FairSlots(0)
