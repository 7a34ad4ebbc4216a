"""What the GitClient unit tests share: the client on a fake process
reactor, running a coroutine, reading an outcome, and ls-remote output."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from twisted.internet.defer import Deferred, maybeDeferred

from ridad.scm.git import GitClient
from ridad.scm.url import parse_repository

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from tests.unit.scm.conftest import FakeProcess, FakeProcessReactor

T = TypeVar("T")

MAIN = "1" * 40
TAG_OBJECT = "2" * 40
TAGGED = "3" * 40
OTHER = "4" * 40
REPO = parse_repository("git://pkgs.example.org/modules/foo.git")


def client_on(
    reactor: FakeProcessReactor, tmp_path: Path, **overrides: Any
) -> GitClient:
    """Build a GitClient on the fake reactor with workspaces under tmp_path."""
    arguments: dict[str, Any] = {
        "reactor": reactor,
        "timeout_seconds": 30.0,
        "max_concurrent": 4,
        "temp_dir": str(tmp_path),
        "run_blocking": maybeDeferred,
    }
    arguments.update(overrides)
    return GitClient(**arguments)


def start(coroutine: Coroutine[Any, Any, T]) -> Deferred[T]:
    """Run a coroutine as a Deferred."""
    return Deferred.fromCoroutine(coroutine)


def outcome(d: Deferred[Any]) -> Any:
    """Return what an already-fired Deferred holds: a value or the exception."""
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, "the Deferred has not fired"
    result = results[0]
    return getattr(result, "value", result)


def next_process(reactor: FakeProcessReactor) -> FakeProcess:
    """The single process currently running."""
    (process,) = reactor.running
    return process


def listing(*lines: tuple[str, str]) -> bytes:
    """Format ls-remote output."""
    return "".join(f"{sha}\t{name}\n" for sha, name in lines).encode()
