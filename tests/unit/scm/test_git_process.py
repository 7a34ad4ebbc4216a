"""Tests for L{ridad.process}: output caps, the time limit and the end."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from twisted.internet.defer import CancelledError, Deferred

from ridad.process import ProcessResult, run_process

if TYPE_CHECKING:
    from tests.unit.scm.conftest import FakeProcessReactor


def _start(reactor: FakeProcessReactor, **overrides: Any) -> Deferred[ProcessResult]:
    """Start C{run_process} on the fake reactor and return its Deferred."""
    arguments: dict[str, Any] = {
        "reactor": reactor,
        "clock": reactor,
        "executable": "/usr/bin/git",
        "args": ["git", "status"],
        "env": {"LC_ALL": "C"},
        "timeout_seconds": 10.0,
        "max_stdout_bytes": 8,
        "max_stderr_bytes": 4,
    }
    arguments.update(overrides)
    return Deferred.fromCoroutine(run_process(**arguments))


def _result(d: Deferred[ProcessResult]) -> ProcessResult:
    """Return the result of a Deferred that must already have fired."""
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, "the Deferred has not fired"
    (result,) = results
    assert isinstance(result, ProcessResult), result
    return result


def test_spawns_the_argument_list_with_the_given_environment(
    process_reactor: FakeProcessReactor,
) -> None:
    """The process is spawned without a shell, with exactly the given env and cwd."""
    _start(process_reactor, path="/tmp")
    (process,) = process_reactor.processes
    assert process.executable == "/usr/bin/git"
    assert process.args == ["git", "status"]
    assert process.env == {"LC_ALL": "C"}
    assert process.path == "/tmp"
    assert process.stdin_closed


def test_clean_exit_reports_output_and_status(
    process_reactor: FakeProcessReactor,
) -> None:
    """A process that exits 0 gives its output, exit code 0 and no flags."""
    d = _start(process_reactor)
    process_reactor.advance(2)
    process_reactor.processes[0].finish(0, stdout=b"out", stderr=b"err")
    result = _result(d)
    assert result == ProcessResult(
        exit_code=0,
        signal=None,
        stdout=b"out",
        stderr=b"err",
        timed_out=False,
        stdout_overflowed=False,
        duration_seconds=2.0,
    )
    assert result.succeeded


def test_failed_exit_reports_its_status(process_reactor: FakeProcessReactor) -> None:
    """A non-zero exit status is reported and the run does not count as success."""
    d = _start(process_reactor)
    process_reactor.processes[0].finish(128, stderr=b"fatal")
    result = _result(d)
    assert result.exit_code == 128
    assert not result.succeeded


def test_deadline_kills_the_process_and_flags_the_timeout(
    process_reactor: FakeProcessReactor,
) -> None:
    """After the time limit the process gets SIGKILL and the result says timed out."""
    d = _start(process_reactor, timeout_seconds=5.0)
    (process,) = process_reactor.processes
    process_reactor.advance(4.9)
    assert process.signals == []
    process_reactor.advance(0.1)
    assert process.signals == ["KILL"]
    assert not d.called
    process.finish(signal=9)
    result = _result(d)
    assert result.timed_out
    assert result.signal == 9
    assert result.exit_code is None
    assert not result.succeeded


def test_killed_process_has_its_pipes_closed_on_exit(
    process_reactor: FakeProcessReactor,
) -> None:
    """After a kill, our pipe ends are closed so orphaned grandchildren cannot stall us."""
    _start(process_reactor, timeout_seconds=1.0)
    (process,) = process_reactor.processes
    process_reactor.advance(1)
    process.finish(signal=9)
    assert process.connection_lost


def test_ending_in_time_cancels_the_deadline(
    process_reactor: FakeProcessReactor,
) -> None:
    """A process that ends before its deadline leaves no delayed call behind."""
    _start(process_reactor)
    process_reactor.processes[0].finish(0)
    assert process_reactor.getDelayedCalls() == []


def test_stdout_over_the_cap_kills_the_process(
    process_reactor: FakeProcessReactor,
) -> None:
    """Writing more than the stdout cap kills the process and keeps only the cap."""
    d = _start(process_reactor, max_stdout_bytes=8)
    (process,) = process_reactor.processes
    process.write(stdout=b"12345")
    assert process.signals == []
    process.write(stdout=b"6789")
    assert process.signals == ["KILL"]
    process.write(stdout=b"more")
    process.finish(signal=9)
    result = _result(d)
    assert result.stdout == b"12345678"
    assert result.stdout_overflowed
    assert not result.succeeded


def test_stdout_exactly_at_the_cap_is_not_an_overflow(
    process_reactor: FakeProcessReactor,
) -> None:
    """Output of exactly the cap's size is kept whole and is not an overflow."""
    d = _start(process_reactor, max_stdout_bytes=8)
    process_reactor.processes[0].finish(0, stdout=b"12345678")
    result = _result(d)
    assert result.stdout == b"12345678"
    assert result.succeeded


def test_stderr_is_cut_at_its_cap_without_killing(
    process_reactor: FakeProcessReactor,
) -> None:
    """Stderr beyond its cap is dropped, and the process keeps running."""
    d = _start(process_reactor, max_stderr_bytes=4)
    (process,) = process_reactor.processes
    process.write(stderr=b"abc")
    process.write(stderr=b"defgh")
    assert process.signals == []
    process.finish(1)
    assert _result(d).stderr == b"abcd"


def test_kill_after_exit_is_ignored(process_reactor: FakeProcessReactor) -> None:
    """A deadline reached between exit and end does not raise."""
    d = _start(process_reactor, timeout_seconds=1.0)
    (process,) = process_reactor.processes
    process.exited = True
    process_reactor.advance(1)
    process.finish(0)
    assert _result(d).timed_out


def test_cancelling_the_wait_kills_the_process(
    process_reactor: FakeProcessReactor,
) -> None:
    """Cancelling the run kills the process, and its later end is ignored."""
    d = _start(process_reactor)
    (process,) = process_reactor.processes
    d.cancel()
    assert process.signals == ["KILL"]
    failures: list[Any] = []
    d.addErrback(failures.append)
    assert failures[0].check(CancelledError)
    process.finish(signal=9)
    assert process_reactor.getDelayedCalls() == []


def test_spawn_failure_propagates(process_reactor: FakeProcessReactor) -> None:
    """An executable that cannot be started raises instead of hanging."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("no such file")

    process_reactor.spawnProcess = refuse  # type: ignore[method-assign,assignment]
    d = _start(process_reactor)
    failures: list[Any] = []
    d.addErrback(failures.append)
    assert failures[0].check(OSError)
    assert process_reactor.getDelayedCalls() == []


@pytest.mark.parametrize("signal", [9, 15])
def test_signal_death_reports_the_signal(
    process_reactor: FakeProcessReactor, signal: int
) -> None:
    """A process killed by a signal reports the signal and no exit code."""
    d = _start(process_reactor)
    process_reactor.processes[0].finish(signal=signal)
    result = _result(d)
    assert (result.exit_code, result.signal) == (None, signal)
