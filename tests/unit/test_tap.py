"""Tests for L{ridad.tap}: ``makeService`` builds the tree and starts nothing."""

from __future__ import annotations

import signal
from pathlib import Path

from ridad.tap import Options, makeService

CONFIG = """\
listen: "tcp:0:interface=127.0.0.1"
database: {dsn: "host=127.0.0.1 port=1 dbname=nothing"}
scm: {rpms_default_repository: "git://h/rpms/"}
"""


def test_make_service_builds_the_tree_and_starts_nothing(tmp_path: Path) -> None:
    """makeService returns the root with its HTTP child, running nothing and
    leaving the SIGHUP handler alone."""
    from twisted.internet import reactor

    path = tmp_path / "ridad.yaml"
    path.write_text(CONFIG)
    options = Options()
    options.parseOptions(["--config", str(path)])
    before_handler = signal.getsignal(signal.SIGHUP)
    before_calls = list(reactor.getDelayedCalls())
    root = makeService(options)
    assert root.name == "ridad" and not root.running
    assert [child.name for child in root] == ["events", "http"]
    assert not any(child.running for child in root)
    assert signal.getsignal(signal.SIGHUP) is before_handler
    assert list(reactor.getDelayedCalls()) == before_calls
