"""Fixtures for kojisim unit tests: a hub on a fake clock, used in memory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from twisted.internet.task import Clock

from ridad.kojisim.hub import KojiHub
from tests.unit.kojisim.support import HubClient, global_reactor, make_hub


@pytest.fixture
def clock() -> Clock:
    """The hub's clock."""
    return Clock()


@pytest.fixture
def hub(clock: Clock, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KojiHub]:
    """A hub whose builds take one second and read no real sources."""
    simulated = make_hub(clock, upload_dir=str(tmp_path_factory.mktemp("uploads")))
    yield simulated
    simulated.stop()


@pytest.fixture
def admin(hub: KojiHub) -> HubClient:
    """A client logged in as ``admin`` (an admin)."""
    client = HubClient(hub)
    client.login("admin", "admin")
    return client


@pytest.fixture
def anonymous(hub: KojiHub) -> HubClient:
    """A client that is not logged in."""
    return HubClient(hub)


@pytest.fixture
def real_hub(clock: Clock, tmp_path: Path) -> Iterator[KojiHub]:
    """A hub on the fake clock whose builder reads real sources (git and rpm
    run through the real reactor)."""
    hub = KojiHub(
        clock=clock,
        reactor=global_reactor(),
        users={"admin": "admin"},
        upload_dir=str(tmp_path / "work"),
    )
    yield hub
    hub.stop()
