"""``rida check`` against a running ridad (real git, real PostgreSQL), as a
module repository's CI would run it: the real command, its exit status and
what it prints; and nothing recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest_twisted
import treq

from tests.integration.support import GitWorld, RunningDaemon, modulemd_text
from tests.integration.test_cli import rida_in_process, rida_process


@pytest_twisted.ensureDeferred
async def test_check_tells_what_would_be_built_and_what_would_be_refused(
    daemon: RunningDaemon, git_world: GitWorld, tmp_path: Path
) -> None:
    """The demo module: exit 0 with its batches, and no build recorded. A
    module whose component has no repository: exit 1 naming it. The demo
    module once submitted: exit 1, it exists."""
    git_world.module("demo", modulemd_text())
    server = ("--server", daemon.base_url)
    status, out, err = await rida_process(
        tmp_path, *server, "check", git_world.scmurl("demo")
    )
    assert status == 0, out + err
    lines = out.splitlines()
    assert lines[0] == (
        f"{daemon.base_url} would accept the submission (nothing was recorded):"
    )
    assert lines[1].startswith("  create module build demo:main:")
    assert lines[2:] == [
        "    buildrequires platform:f40",
        f"    batch 2: alpha (main {git_world.commits['alpha'][:12]}),"
        f" beta (main {git_world.commits['beta'][:12]})",
        f"    batch 3: gamma (main {git_world.commits['gamma'][:12]})",
    ]
    listed = await treq.get(daemon.url("/rida/module-builds/"))
    assert await listed.json() == []

    git_world.module("broken", modulemd_text({"nowhere": {"rationale": "r"}}))
    status, out, err = await rida_in_process(
        tmp_path, *server, "check", git_world.scmurl("broken")
    )
    assert (status, out) == (1, ""), err
    assert err.startswith("rida: the submission would be refused: 422 ")
    assert err.splitlines()[1].startswith("  nowhere: ")

    status, out, err = await rida_in_process(
        tmp_path, *server, "submit", git_world.scmurl("demo"), "--json"
    )
    assert status == 0, err
    [build] = json.loads(out)
    status, out, err = await rida_in_process(
        tmp_path, *server, "check", git_world.scmurl("demo"), "--json"
    )
    assert status == 1, err
    assert json.loads(out)["details"] == {"id": build["id"], "state": "init"}
