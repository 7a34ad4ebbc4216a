"""GitClient removes its temporary directories through run_blocking, off the reactor thread."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twisted.internet.defer import Deferred

from ridad.scm.git import GitClient
from ridad.scm.url import parse_repository
from tests.helpers import result_of

if TYPE_CHECKING:
    from tests.unit.scm.conftest import FakeProcessReactor

REPO = parse_repository("git://pkgs.example.org/modules/foo.git")
MAIN = "1" * 40


class HeldCalls:
    """A run_blocking that holds each callable until the test runs it."""

    def __init__(self) -> None:
        """Hold nothing yet."""
        self.held: list[tuple[Callable[[], Any], Deferred[Any]]] = []

    def __call__(self, f: Callable[[], Any]) -> Deferred[Any]:
        """Hold ``f``; the Deferred fires when the test runs it."""
        d: Deferred[Any] = Deferred()
        self.held.append((f, d))
        return d

    def run_all(self) -> None:
        """Run every held callable, as a worker thread would, and fire its Deferred."""
        held, self.held = self.held, []
        for f, d in held:
            d.callback(f())


def test_workspace_is_removed_only_through_run_blocking(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """After git answers, the directory stays until run_blocking runs the removal."""
    runner = HeldCalls()
    client = GitClient(
        reactor=process_reactor,
        timeout_seconds=30.0,
        max_concurrent=1,
        temp_dir=str(tmp_path),
        run_blocking=runner,
    )
    d = Deferred.fromCoroutine(client.resolve_ref(REPO, "main"))
    (process,) = process_reactor.running
    process.finish(stdout=f"{MAIN}\trefs/heads/main\n".encode())
    assert not d.called
    assert len(os.listdir(tmp_path)) == 1
    assert len(runner.held) == 1
    runner.run_all()
    assert os.listdir(tmp_path) == []
    assert result_of(d).commit == MAIN
