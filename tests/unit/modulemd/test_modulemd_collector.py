"""The cyclic garbage collector is paused while a document is read, and comes back."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from ridad.errors import Unprocessable
from ridad.modulemd.collector import collector_paused
from ridad.modulemd.parse import load_modulemd


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    """Start with the collector on and leave it on, whatever a test does."""
    gc.enable()
    yield
    gc.enable()


def test_collector_is_off_inside_and_on_after() -> None:
    """Inside the block the collector is off; after it, on again."""
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_pauses_resume_only_after_the_last() -> None:
    """Two overlapping pauses (as from two worker threads) resume the collector once both end."""
    first, second = ExitStack(), ExitStack()
    first.enter_context(collector_paused())
    second.enter_context(collector_paused())
    first.close()
    assert not gc.isenabled()
    second.close()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    """If something else had turned the collector off, a pause leaves it off."""
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_parse_leaves_the_collector_on_even_when_it_refuses() -> None:
    """load_modulemd turns the collector back on after a refusal."""
    with pytest.raises(Unprocessable):
        load_modulemd("document: [unclosed\n")
    assert gc.isenabled()
