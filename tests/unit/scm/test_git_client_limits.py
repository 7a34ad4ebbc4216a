"""Tests for the bounds of L{ridad.scm.git.GitClient} on a fake process
reactor: the first-byte timeout, the fetch budget, the filter fallback,
symbolic links and the fair slots."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ridad.errors import Unprocessable
from ridad.scm.git import FetchBudget, Requester
from ridad.scm.watch import PACK_FD, TRACE_FD
from tests.unit.scm.gitclient_support import (
    MAIN,
    OTHER,
    REPO,
    client_on,
    listing,
    next_process,
    outcome,
    start,
)

if TYPE_CHECKING:
    from tests.unit.scm.conftest import FakeProcess, FakeProcessReactor

ANSWER = b"packet:        fetch< version 2\n"


def _answer(process: FakeProcess) -> None:
    """The server's first packet line arrives in the trace."""
    process.protocol.childDataReceived(TRACE_FD, ANSWER)


def _entry(mode: str, kind: str, name: str) -> bytes:
    """One record of ls-tree -z output."""
    return f"{mode} {kind} {OTHER}\t{name}\0".encode()


def test_a_silent_server_is_slow_after_the_first_byte_timeout(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """ls-remote that hears nothing within first_byte_timeout_seconds is killed: a transient 'slow' naming the repository."""
    client = client_on(
        process_reactor, tmp_path, timeout_seconds=120.0, first_byte_timeout_seconds=2
    )
    d = start(client.resolve_ref(REPO, "main"))
    process = next_process(process_reactor)
    assert process.child_fds == {0: "w", 1: "r", 2: "r", TRACE_FD: "r"}
    process_reactor.advance(2)
    assert process.signals == ["KILL"]
    process.finish(signal=9)
    error = outcome(d)
    assert isinstance(error, Unprocessable)
    assert error.details == {"reason": "slow", "transient": True, "url": REPO.render()}
    assert REPO.render() in error.message and "slow" in error.message
    assert "2" in error.message and "retry later" in error.message
    assert os.listdir(tmp_path) == []


def test_a_server_that_answers_has_the_whole_time_limit(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """Once the first packet arrives, only git_timeout_seconds applies."""
    client = client_on(process_reactor, tmp_path, first_byte_timeout_seconds=2)
    d = start(client.resolve_ref(REPO, "main"))
    process = next_process(process_reactor)
    process_reactor.advance(1)
    _answer(process)
    process_reactor.advance(20)
    assert process.signals == []
    process.finish(stdout=listing((MAIN, "refs/heads/main")))
    assert outcome(d).commit == MAIN


def test_pack_bytes_over_the_budget_stop_the_fetch(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """A fetch whose pack data goes over the submission's budget is killed: too-large, naming the repository and scm.max_fetch_bytes."""
    client = client_on(process_reactor, tmp_path)
    requester = Requester(submitter="alice", budget=FetchBudget(1000))
    d = start(client.has_file(REPO, MAIN, "foo.spec", requester=requester))
    next_process(process_reactor).finish()
    fetch = next_process(process_reactor)
    assert fetch.env["GIT_TRACE_PACKFILE"] == str(PACK_FD)
    _answer(fetch)
    fetch.protocol.childDataReceived(PACK_FD, b"P" * 1000)
    assert fetch.signals == []
    fetch.protocol.childDataReceived(PACK_FD, b"P")
    assert fetch.signals == ["KILL"]
    fetch.finish(signal=9)
    error = outcome(d)
    assert isinstance(error, Unprocessable)
    assert error.details == {
        "reason": "too-large",
        "transient": False,
        "url": REPO.render(),
    }
    assert REPO.render() in error.message and "scm.max_fetch_bytes" in error.message
    assert "1000" in error.message
    assert process_reactor.running == []


def test_the_budget_is_shared_by_the_questions_of_one_requester(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """What one fetch spent is gone for the next fetch of the same submission."""
    client = client_on(process_reactor, tmp_path)
    requester = Requester(submitter="alice", budget=FetchBudget(1500))
    first = start(client.has_file(REPO, MAIN, "foo.spec", requester=requester))
    next_process(process_reactor).finish()
    fetch = next_process(process_reactor)
    fetch.protocol.childDataReceived(PACK_FD, b"P" * 1000)
    fetch.finish()
    next_process(process_reactor).finish(stdout=_entry("100644", "blob", "foo.spec"))
    assert outcome(first) is True
    second = start(client.has_file(REPO, MAIN, "foo.spec", requester=requester))
    next_process(process_reactor).finish()
    fetch = next_process(process_reactor)
    fetch.protocol.childDataReceived(PACK_FD, b"P" * 501)
    assert fetch.signals == ["KILL"]
    fetch.finish(signal=9)
    assert outcome(second).details["reason"] == "too-large"


def test_a_refused_filter_is_retried_without_it(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """A server that refuses --filter gets the same fetch without the filter."""
    client = client_on(process_reactor, tmp_path)
    d = start(client.has_file(REPO, MAIN, "foo.spec"))
    next_process(process_reactor).finish()
    filtered = next_process(process_reactor)
    assert "--filter=blob:none" in filtered.git_args
    filtered.finish(
        128, stderr=b"fatal: remote error: filter 'blob:none' not supported\n"
    )
    plain = next_process(process_reactor)
    assert plain.git_args == [a for a in filtered.git_args if a != "--filter=blob:none"]
    plain.finish()
    next_process(process_reactor).finish(stdout=_entry("100644", "blob", "foo.spec"))
    assert outcome(d) is True


def test_other_fetch_failures_are_not_retried(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """A missing commit is reported at once, without a second fetch."""
    client = client_on(process_reactor, tmp_path)
    d = start(client.has_file(REPO, MAIN, "foo.spec"))
    next_process(process_reactor).finish()
    next_process(process_reactor).finish(
        128,
        stderr=b"warning: filtering not recognized by server, ignoring\n"
        b"fatal: remote error: upload-pack: not our ref " + MAIN.encode() + b"\n",
    )
    assert outcome(d).details["reason"] == "missing-ref"
    assert len(process_reactor.processes) == 2


@pytest.mark.parametrize("path", ["foo.spec", "sub/foo.yaml"])
def test_a_symbolic_link_is_refused_without_reading_it(
    process_reactor: FakeProcessReactor, tmp_path: Path, path: str
) -> None:
    """A path whose tree entry has mode 120000 is refused by has_file and fetch_file; its target is never fetched."""
    client = client_on(process_reactor, tmp_path)
    for question in (client.has_file, client.fetch_file):
        before = len(process_reactor.processes)
        d = start(question(REPO, MAIN, path))
        next_process(process_reactor).finish()
        next_process(process_reactor).finish()
        next_process(process_reactor).finish(stdout=_entry("120000", "blob", path))
        error = outcome(d)
        assert isinstance(error, Unprocessable)
        assert error.details == {
            "reason": "symlink",
            "transient": False,
            "url": REPO.render(),
        }
        assert "symbolic link" in error.message and path in error.message
        assert len(process_reactor.processes) == before + 3
    assert os.listdir(tmp_path) == []


def test_a_second_submitter_waits_for_one_command_only(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """alice's 50 queued questions do not hold bob's: his ls-remote is the next process started."""
    client = client_on(process_reactor, tmp_path, max_concurrent=2)
    alice = Requester(submitter="alice")
    bob = Requester(submitter="bob")
    for _ in range(50):
        start(client.resolve_ref(REPO, "main", requester=alice))
    bobs = start(client.resolve_ref(REPO.join("bob"), "main", requester=bob))
    assert len(process_reactor.processes) == 2
    process_reactor.running[0].finish(stdout=listing((MAIN, "refs/heads/main")))
    assert len(process_reactor.processes) == 3
    newest = process_reactor.processes[-1]
    assert REPO.join("bob").url in newest.git_args
    newest.finish(stdout=listing((OTHER, "refs/heads/main")))
    assert outcome(bobs).commit == OTHER


def test_no_blob_fetch_when_the_server_ignored_the_filter(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """A server without filter support sent the whole tree: fetch_file reads the blob without fetching it again."""
    client = client_on(process_reactor, tmp_path)
    d = start(client.fetch_file(REPO, MAIN, "foo.yaml"))
    next_process(process_reactor).finish()
    next_process(process_reactor).finish(
        stderr=b"warning: filtering not recognized by server, ignoring\n"
    )
    next_process(process_reactor).finish(stdout=_entry("100644", "blob", "foo.yaml"))
    blob = next_process(process_reactor)
    assert blob.git_args[1:] == ["cat-file", "blob", OTHER]
    blob.finish(stdout=b"x: 1\n")
    next_process(process_reactor).finish(stdout=b"1700000000\n")
    assert outcome(d).content == b"x: 1\n"
    assert len(process_reactor.processes) == 5
