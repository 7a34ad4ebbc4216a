"""The copy-on-write tables of kojisim's HubState (ridad.kojisim.cow)."""

from __future__ import annotations

import gc

from ridad.kojisim.cow import peek, read_only, same_table
from ridad.kojisim.state import Event, HubState, Task


def _state() -> HubState:
    state = HubState.seeded()
    state.tasks[1] = Task(1, "build", "<x/>", 0, 1, 20, 1, "noarch", 1.0)
    state.events[1] = Event(1, 1.0)
    return state


def test_a_copy_and_its_original_change_independently() -> None:
    live = _state()
    working = live.copy()
    working.tasks[1].state = 2
    working.tasks[2] = Task(2, "newRepo", "<x/>", 0, 1, 20, 1, "noarch", 2.0)
    live.tasks[1].priority = 10
    assert (live.tasks[1].state, working.tasks[1].priority) == (0, 20)
    assert sorted(live.tasks) == [1] and sorted(working.tasks) == [1, 2]


def test_a_savepoint_keeps_the_state_before_the_entry() -> None:
    working = _state().copy()
    savepoint = working.copy()
    working.tasks[1].state = 3
    working.events[2] = Event(2, 2.0)
    assert savepoint.tasks[1].state == 0 and sorted(savepoint.events) == [1]


def test_the_last_sharer_takes_the_table_without_copying() -> None:
    live = _state()
    tasks = live.tasks
    working = live.copy()
    del live
    gc.collect()
    assert working.tasks is tasks


def test_counters_stay_shared_with_the_copy() -> None:
    live = _state()
    working = live.copy()
    first = working.next_id("task")
    assert live.next_id("task") == first + 1


def test_reads_through_a_view_claim_nothing() -> None:
    live = _state()
    working = live.copy()
    view = read_only(working)
    assert sorted(view.tasks) == [1] and view.last_event.id == 1
    assert peek(live, "tasks") is peek(working, "tasks")
    assert same_table(live, working, "tasks")
    working.tasks  # noqa: B018 - the access claims the table
    assert not same_table(live, working, "tasks")
