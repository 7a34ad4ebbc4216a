"""Tests for L{ridad.process.run_process} with an L{OutputWatch}: the extra
descriptors, the first deadline and a stop asked for by the watch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred

from ridad.process import ProcessResult, run_process

if TYPE_CHECKING:
    from tests.unit.scm.conftest import FakeProcessReactor


@dataclass
class _Watch:
    """A watch that records what it reads; b"hello" makes the child alive,
    b"stop" asks for a stop."""

    fds: tuple[int, ...] = (3, 4)
    first_sign_seconds: float | None = 2.0
    chunks: list[tuple[int, bytes]] = field(default_factory=list)

    def received(self, fd: int, data: bytes) -> None:
        """Record the chunk."""
        self.chunks.append((fd, data))

    @property
    def alive(self) -> bool:
        """Alive once b"hello" arrived."""
        return any(data == b"hello" for _, data in self.chunks)

    @property
    def stop_reason(self) -> str | None:
        """ "enough" once b"stop" arrived."""
        return "enough" if any(d == b"stop" for _, d in self.chunks) else None


def _start(
    reactor: FakeProcessReactor, watch: _Watch | None, timeout: float = 10.0
) -> Deferred[ProcessResult]:
    """Start run_process on the fake reactor with ``watch``."""
    return Deferred.fromCoroutine(
        run_process(
            reactor=reactor,
            clock=reactor,
            executable="/usr/bin/git",
            args=["git", "fetch"],
            env={},
            timeout_seconds=timeout,
            max_stdout_bytes=64,
            watch=watch,
        )
    )


def _result(d: Deferred[ProcessResult]) -> ProcessResult:
    """What an already-fired Deferred holds."""
    results: list[Any] = []
    d.addBoth(results.append)
    (result,) = results
    assert isinstance(result, ProcessResult), result
    return result


def test_the_watch_fds_are_opened_and_read(
    process_reactor: FakeProcessReactor,
) -> None:
    """The child gets the watch's descriptors as pipes; what it writes there reaches the watch, not stdout or stderr."""
    watch = _Watch()
    d = _start(process_reactor, watch)
    (process,) = process_reactor.processes
    assert process.child_fds == {0: "w", 1: "r", 2: "r", 3: "r", 4: "r"}
    process.protocol.childDataReceived(3, b"hello")
    process.protocol.childDataReceived(4, b"pack")
    process.finish(0, stdout=b"out", stderr=b"err")
    result = _result(d)
    assert watch.chunks == [(3, b"hello"), (4, b"pack")]
    assert (result.stdout, result.stderr) == (b"out", b"err")
    assert result.succeeded and not result.silent and result.stopped is None


def test_without_a_watch_the_usual_descriptors_are_kept(
    process_reactor: FakeProcessReactor,
) -> None:
    """No watch: spawnProcess gets Twisted's default descriptors."""
    _start(process_reactor, None)
    (process,) = process_reactor.processes
    assert process.child_fds is None


def test_no_sign_of_life_by_the_first_deadline_kills_as_silent(
    process_reactor: FakeProcessReactor,
) -> None:
    """A child that is not alive by first_sign_seconds is killed; the result is silent, not timed out."""
    watch = _Watch()
    d = _start(process_reactor, watch)
    (process,) = process_reactor.processes
    process.protocol.childDataReceived(3, b"packet: fetch> want")
    process_reactor.advance(1.9)
    assert process.signals == []
    process_reactor.advance(0.1)
    assert process.signals == ["KILL"]
    process.finish(signal=9)
    result = _result(d)
    assert result.silent and not result.timed_out and not result.succeeded
    assert process.connection_lost and process.closed_fds == [3, 4]
    assert process_reactor.getDelayedCalls() == []


def test_a_sign_of_life_cancels_the_first_deadline(
    process_reactor: FakeProcessReactor,
) -> None:
    """Once alive, only the time limit remains."""
    watch = _Watch()
    d = _start(process_reactor, watch)
    (process,) = process_reactor.processes
    process_reactor.advance(1)
    process.protocol.childDataReceived(3, b"hello")
    assert len(process_reactor.getDelayedCalls()) == 1
    process_reactor.advance(5)
    assert process.signals == []
    process.finish(0)
    assert _result(d).succeeded


def test_a_first_deadline_past_the_time_limit_is_not_set(
    process_reactor: FakeProcessReactor,
) -> None:
    """When the time limit comes first, a silent child times out."""
    watch = _Watch(first_sign_seconds=20.0)
    d = _start(process_reactor, watch, timeout=5.0)
    (process,) = process_reactor.processes
    assert len(process_reactor.getDelayedCalls()) == 1
    process_reactor.advance(5)
    process.finish(signal=9)
    result = _result(d)
    assert result.timed_out and not result.silent


def test_the_watch_can_stop_the_child(process_reactor: FakeProcessReactor) -> None:
    """A stop reason kills the child once and is the result's stopped."""
    watch = _Watch()
    d = _start(process_reactor, watch)
    (process,) = process_reactor.processes
    process.protocol.childDataReceived(3, b"hello")
    process.protocol.childDataReceived(4, b"stop")
    process.protocol.childDataReceived(4, b"stop")
    assert process.signals == ["KILL"]
    process.finish(signal=9)
    result = _result(d)
    assert result.stopped == "enough"
    assert not result.succeeded and not result.silent
