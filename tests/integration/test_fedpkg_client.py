"""fedpkg's own client code, unmodified: pyrpkg's ``Commands`` (PyPI package
``rpkg``) submitting to and reading from a live ridad whose API has
``auth.method: none``, as ``fedpkg module-build`` would against MBS:
``--scratch``, ``--file``, ``--optional rebuild_strategy=...``, and the
refusals as pyrpkg shows them (its ``rpkgError`` around ridad's
``message``).

pyrpkg imports ``rpm`` and ``cccolutils`` at its top. The rpm bindings
come with the system's rpm (PyPI's ``rpm`` is a shim that finds them) and
cccolutils builds against Kerberos headers; where either is missing, a
stand-in module goes into ``sys.modules`` for the test's duration. The MBS
methods used here call neither (rpm reads spec files and SRPM headers,
cccolutils finds a Kerberos user for dist-git), so the stand-ins change
nothing of what is tested.

``auth_method="kerberos"`` is fedpkg's path without OIDC: requests with
requests-gssapi's ``HTTPSPNEGOAuth``, which sends a token only when
challenged with 401 Negotiate; ridad with ``auth.method: none`` never
challenges, so no Kerberos is needed. pyrpkg blocks (requests), so each
call runs in the reactor's thread pool while the daemon serves.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.internet.threads import deferToThread

from tests.integration.support import GitWorld, RunningDaemon, modulemd_text


def _stand_in(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__doc__ = (
        f"A stand-in for {name}, which is not importable here; pyrpkg's MBS"
        " methods do not use it (tests/integration/test_fedpkg_client.py)."
    )
    return module


@pytest.fixture
def pyrpkg(monkeypatch: pytest.MonkeyPatch) -> Any:
    """pyrpkg, imported with stand-ins for rpm and cccolutils if missing."""
    for name in ("rpm", "cccolutils"):
        try:
            importlib.import_module(name)
        except ImportError:
            monkeypatch.setitem(sys.modules, name, _stand_in(name))
    return importlib.import_module("pyrpkg")


def commands(pyrpkg: Any, daemon: RunningDaemon, version: int = 2) -> Any:
    """A ``Commands`` with only what its MBS methods read: the API URL
    (fedpkg's <server>/module-build-service/<version>/), and for
    ``module_build_info`` a Koji web URL without loading a Koji session."""
    cmd = object.__new__(pyrpkg.Commands)
    cmd.module_api_url = daemon.url(f"/module-build-service/{version}/")
    cmd._kojiweburl = "https://koji.example.org/koji"
    cmd.load_kojisession = lambda anon=False: None
    return cmd


async def in_thread(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``call`` in the reactor's thread pool (pyrpkg blocks on requests)."""
    return await deferToThread(call, *args, **kwargs)


async def submit(cmd: Any, *args: Any, **kwargs: Any) -> list[int]:
    """``module_submit_build`` as ``fedpkg module-build`` calls it."""
    ids = await in_thread(cmd.module_submit_build, *args, **kwargs)
    return list(ids)


@pytest_twisted.ensureDeferred
async def test_scratch_build_with_an_optional_rebuild_strategy(
    pyrpkg: Any, daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """fedpkg module-build --scratch --optional rebuild_strategy=only-changed:
    the build ids; module_get_build then reads the scratch build with it."""
    git_world.module("demo", modulemd_text())
    cmd = commands(pyrpkg, daemon)
    ids = await submit(
        cmd,
        git_world.scmurl("demo"),
        "main",
        "kerberos",
        optional=[("rebuild_strategy", "only-changed")],
        scratch=True,
    )
    assert len(ids) == 1 and isinstance(ids[0], int)
    build = await in_thread(cmd.module_get_build, ids[0])
    assert (build["id"], build["name"], build["stream"]) == (ids[0], "demo", "main")
    assert build["scratch"] is True
    assert build["rebuild_strategy"] == "only-changed"
    assert cmd.module_get_url(ids[0], verbose=False) == daemon.url(
        f"/module-build-service/2/module-builds/{ids[0]}"
    )


@pytest_twisted.ensureDeferred
async def test_scratch_build_of_a_modulemd_file(
    pyrpkg: Any, daemon: RunningDaemon, tmp_path: Path
) -> None:
    """fedpkg module-build --scratch --file demo.yaml, outside a module
    repository (no SCM URL, no branch): accepted, the module named after
    the file (pyrpkg's module_name)."""
    path = tmp_path / "demo.yaml"
    path.write_text(modulemd_text())
    cmd = commands(pyrpkg, daemon)
    ids = await submit(cmd, None, None, "kerberos", scratch=True, modulemd=str(path))
    assert len(ids) == 1
    build = await in_thread(cmd.module_get_build, ids[0])
    assert (build["name"], build["scratch"]) == ("demo", True)


@pytest_twisted.ensureDeferred
async def test_modulemd_file_without_scratch_is_refused_as_mbs_refuses_it(
    pyrpkg: Any, daemon: RunningDaemon, git_world: GitWorld, tmp_path: Path
) -> None:
    """A modulemd in the body of a build that is not a scratch build, on a
    server without builds.allow_yaml_submissions: pyrpkg's rpkgError shows
    ridad's 403 message."""
    git_world.module("demo", modulemd_text())
    path = tmp_path / "demo.yaml"
    path.write_text(modulemd_text())
    cmd = commands(pyrpkg, daemon)
    with pytest.raises(pyrpkg.rpkgError) as raised:
        await submit(
            cmd, git_world.scmurl("demo"), "main", "kerberos", modulemd=str(path)
        )
    assert str(raised.value).startswith(
        "The build failed with:\nYAML submission is not enabled"
    )


@pytest_twisted.ensureDeferred
async def test_refusals_are_shown_with_ridads_message(
    pyrpkg: Any, daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """SRPMs without --scratch (403) and a reuse source with strategy all
    (400), through v1 and v2: "The build failed with:" and the message."""
    git_world.module("demo", modulemd_text())
    scmurl = git_world.scmurl("demo")
    for version in (1, 2):
        cmd = commands(pyrpkg, daemon, version)
        with pytest.raises(pyrpkg.rpkgError) as raised:
            await submit(
                cmd,
                scmurl,
                "main",
                "kerberos",
                srpms=["cli-build/1.abcdefgh/alpha.src.rpm"],
            )
        assert str(raised.value) == (
            "The build failed with:\nsrpms may only be specified for scratch builds"
        )
        with pytest.raises(pyrpkg.rpkgError) as raised:
            await submit(
                cmd,
                scmurl,
                "main",
                "kerberos",
                optional=[
                    ("rebuild_strategy", "all"),
                    ("reuse_components_from", "demo:main:1:00000000"),
                ],
            )
        assert str(raised.value) == (
            "The build failed with:\nYou cannot specify the parameter"
            ' "reuse_components_from" when the "rebuild_strategy" parameter is'
            ' set to "all"'
        )


@pytest_twisted.ensureDeferred
async def test_v1_submission_answers_ids_and_reads_show_the_build(
    pyrpkg: Any,
    daemon: RunningDaemon,
    git_world: GitWorld,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Through API v1 (one build, not a list) pyrpkg still gets the ids;
    module_build_info prints the build as fedpkg module-build-info does;
    an unknown build is pyrpkg's error with ridad's message."""
    git_world.module("demo", modulemd_text())
    cmd = commands(pyrpkg, daemon, version=1)
    [build_id] = await submit(cmd, git_world.scmurl("demo"), "main", "kerberos")
    capsys.readouterr()
    await in_thread(cmd.module_build_info, build_id)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "Name:           demo"
    assert printed[1] == "Stream:         main"
    assert "Scratch:        False" in printed
    assert "Owner:          <anonymous>" in printed
    assert "Components:" in printed
    with pytest.raises(pyrpkg.rpkgError) as raised:
        await in_thread(cmd.module_get_build, 999999)
    assert str(raised.value).startswith(
        "The following error occurred while getting information on module"
        " build #999999:\n"
    )
