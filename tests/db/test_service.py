"""Tests for L{ridad.service.RidadService}'s SIGHUP handling, on real PostgreSQL."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

import pytest_twisted

from ridad.config.model import LiveConfig
from ridad.config.parse import parse_config
from ridad.db.pool import Pool
from ridad.service import RidadService

MINIMAL = 'scm: {rpms_default_repository: "git://h/rpms/"}'


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


class FromThread:
    """Records what a signal handler hands to the reactor thread."""

    def __init__(self) -> None:
        self.calls: list[Callable[..., object]] = []

    def callFromThread(self, f: Callable[..., object], *args: object) -> None:
        """Record ``f`` instead of running it in the reactor thread."""
        self.calls.append(f)


@pytest_twisted.ensureDeferred
async def test_sighup_handler_is_installed_while_running_and_restored_after(
    database_dsn: str,
) -> None:
    """startService installs the SIGHUP handler (which hands reload to the
    reactor thread); stopService puts the previous handler back."""
    reactor = _reactor()
    config = parse_config(MINIMAL)
    from_thread = FromThread()
    root = RidadService(
        pool=Pool(dsn=database_dsn, reactor=reactor, size=1),
        clock=reactor,
        on_fatal=lambda: None,
        config=LiveConfig(config),
        read_config=lambda: config,
        from_thread=from_thread,
    )
    previous = signal.getsignal(signal.SIGHUP)
    root.startService()
    try:
        handler = signal.getsignal(signal.SIGHUP)
        assert callable(handler) and handler is not previous
        handler(signal.SIGHUP, None)
        assert from_thread.calls == [root.reload]
        await root._started
        assert root.database_ready
    finally:
        await root.stopService()
    assert signal.getsignal(signal.SIGHUP) is previous
