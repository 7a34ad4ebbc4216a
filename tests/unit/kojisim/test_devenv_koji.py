"""``python -m ridad.devenv.koji``: the demo's view of module builds in kojisim."""

from __future__ import annotations

import io
from typing import Any

from ridad.devenv.koji import main
from tests.unit.kojisim.support import HubClient
from tests.unit.kojisim.test_cg import CG, DIRECTORY, NVR, metadata, world

__all__ = ["world"]  # the fixture, shared with test_cg


class Session:
    """``koji.ClientSession``'s call style over the in-memory hub client."""

    def __init__(self, client: HubClient) -> None:
        self._client = client

    def __getattr__(self, method: str) -> Any:
        return lambda *args, **kwargs: self._client.call(method, *args, **kwargs)


def _run(client: HubClient, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out=out, session_for=lambda url: Session(client))
    return status, out.getvalue()


def test_builds_and_archives_of_an_imported_module(world: HubClient) -> None:
    """After an import, ``builds`` names the module build and ``archives``
    lists modulemd.txt and modulemd.x86_64.txt with their RPMs."""
    assert _run(world, "builds") == (0, "no module builds yet\n")
    reserved = world.call("CGInitBuild", CG, dict(NVR))
    world.call(
        "CGImport", metadata(world, reserved["build_id"]), DIRECTORY, reserved["token"]
    )
    nvr = "mod-s_1-1.c0ffee42"
    status, out = _run(world, "builds")
    assert (status, out) == (0, f"{reserved['build_id']} {nvr} COMPLETE\n")
    status, out = _run(world, "archives", nvr)
    lines = out.splitlines()
    assert status == 0
    assert [line.split()[0] for line in lines if not line.startswith(" ")] == [
        "modulemd.txt",
        "modulemd.x86_64.txt",
    ]
    assert sum(1 for line in lines if line.startswith("    alpha-0:")) == 2


def test_an_unknown_nvr_and_a_missing_command(world: HubClient) -> None:
    """A build Koji does not have is exit status 1; no command is a usage error."""
    assert _run(world, "archives", "nope-1-1") == (1, "Koji has no build nope-1-1\n")
    assert _run(world)[0] == 2
