"""``react``'s main function: exit statuses through SystemExit, and an
interruption (Ctrl-C, SIGTERM) that exits 130 quietly."""

from __future__ import annotations

from pathlib import Path

import pytest
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure

from ridad.cli.client import REQUEST_TIMEOUT_SECONDS
from ridad.cli.main import main
from tests.helpers import failure_of


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    for variable in ("RIDA_SERVER", "RIDA_TOKEN", "RIDA_USER", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(variable, raising=False)


def shutdown(reactor: MemoryReactorClock) -> None:
    """Run the "before shutdown" triggers, as reactor.stop() would."""
    for trigger, args, kwargs in reactor.triggers.get("before", {}).get("shutdown", []):
        trigger(*args, **kwargs)


def test_exit_status_is_raised_as_system_exit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """main's Deferred fails with SystemExit carrying rida's exit status."""
    failure = failure_of(main(MemoryReactorClock(), ["show", "x"]), SystemExit)
    assert failure.value.code == 2
    assert capsys.readouterr().err.startswith("rida: argument ID: not a build id")


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    """--help ends with SystemExit(0) and the help on stdout."""
    reactor = MemoryReactorClock()
    failure = failure_of(main(reactor, ["--help"]), SystemExit)
    assert failure.value.code == 0
    assert "exit statuses:" in capsys.readouterr().out
    shutdown(reactor)  # a later shutdown changes nothing


def test_interruption_exits_130_and_then_stays_quiet(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Stopping the reactor mid-request exits 130; what fails afterwards
    (the connections being closed) prints nothing."""
    reactor = MemoryReactorClock()
    ended = main(reactor, ["--server", "http://127.0.0.1:9", "about"])
    assert not ended.called
    [(host, port, factory, _, _)] = reactor.tcpClients
    assert (host, port) == ("127.0.0.1", 9)
    shutdown(reactor)
    assert failure_of(ended, SystemExit).value.code == 130
    factory.clientConnectionFailed(None, Failure(ConnectionRefusedError()))
    reactor.advance(REQUEST_TIMEOUT_SECONDS)
    assert reactor.getDelayedCalls() == []
    assert capsys.readouterr().err == "\nrida: interrupted\n"
