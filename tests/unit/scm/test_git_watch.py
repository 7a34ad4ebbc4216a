"""Tests for L{ridad.scm.watch}: reading git's packet and pack traces."""

from __future__ import annotations

from ridad.scm.watch import (
    PACK_FD,
    TRACE_FD,
    FetchBudget,
    GitWatch,
    watch_environment,
)

SENT = b"14:19:32.290013 pkt-line.c:80           packet:        fetch> git-upload-pack /foo.git\\0host=h\\0\n"
RECEIVED = b"14:19:32.294411 pkt-line.c:80           packet:        fetch< version 2\n"


def test_only_a_received_packet_counts_as_the_server_answering() -> None:
    """Packets git sends are no answer; the first one it receives is."""
    watch = GitWatch(first_byte_seconds=10.0, budget=None)
    assert watch.fds == (TRACE_FD,)
    watch.received(TRACE_FD, SENT)
    assert not watch.alive
    watch.received(TRACE_FD, RECEIVED)
    assert watch.alive
    assert watch.stop_reason is None


def test_the_answer_is_found_across_chunk_boundaries() -> None:
    """A trace line split between two reads is still recognised."""
    watch = GitWatch(first_byte_seconds=10.0, budget=None)
    middle = RECEIVED.index(b"< ")
    watch.received(TRACE_FD, SENT + RECEIVED[:middle])
    assert not watch.alive
    watch.received(TRACE_FD, RECEIVED[middle:])
    assert watch.alive


def test_ls_remote_and_upload_pack_traces_count() -> None:
    """Over http the program is git; over file:// upload-pack writes first, then git reads."""
    for line in (
        b"packet:          git< version 2\n",
        b"packet:  upload-pack> version 2\npacket:        fetch< version 2\n",
    ):
        watch = GitWatch(first_byte_seconds=1.0, budget=None)
        watch.received(TRACE_FD, line)
        assert watch.alive


def test_pack_bytes_are_charged_to_a_shared_budget() -> None:
    """Two fetches of one submission spend one budget; going over stops both."""
    budget = FetchBudget(100)
    first = GitWatch(first_byte_seconds=None, budget=budget)
    second = GitWatch(first_byte_seconds=None, budget=budget)
    assert first.fds == (TRACE_FD, PACK_FD)
    first.received(PACK_FD, b"x" * 60)
    second.received(PACK_FD, b"x" * 40)
    assert budget.spent_bytes == 100 and not budget.exceeded
    assert first.stop_reason is None
    second.received(PACK_FD, b"x")
    assert budget.exceeded
    assert (first.stop_reason, second.stop_reason) == ("too-large", "too-large")


def test_environment_names_the_descriptors_and_http_speed_limits() -> None:
    """The trace goes to descriptor 3, pack data to 4 when counted; http(s) also gets lowSpeed settings."""
    counted = GitWatch(first_byte_seconds=1.5, budget=FetchBudget(10))
    assert watch_environment(counted, "git") == {
        "GIT_TRACE_PACKET": "3",
        "GIT_TRACE_PACKFILE": "4",
    }
    listing = GitWatch(first_byte_seconds=1.5, budget=None)
    assert watch_environment(listing, "https") == {
        "GIT_TRACE_PACKET": "3",
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": "http.lowSpeedLimit",
        "GIT_CONFIG_VALUE_0": "1",
        "GIT_CONFIG_KEY_1": "http.lowSpeedTime",
        "GIT_CONFIG_VALUE_1": "2",
    }
    untimed = GitWatch(first_byte_seconds=None, budget=None)
    assert watch_environment(untimed, "http") == {"GIT_TRACE_PACKET": "3"}
