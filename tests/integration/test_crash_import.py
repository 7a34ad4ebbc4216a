"""ridad killed with SIGKILL during the module's content-generator import, as
a real ``twistd`` process: before Koji's answer to ``CGInitBuild`` reaches it,
after that answer (at the first upload), and after Koji completed
``CGImport``. Each restart continues the import; in the end Koji holds
exactly one module build, COMPLETE, whose ``modulemd.txt`` and
``modulemd.x86_64.txt`` list the component builds' RPMs minus the module's
filters, and ridad serves those documents byte for byte."""

from __future__ import annotations

import os
import signal
import xmlrpc.client
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import yaml
from twisted.internet import reactor
from twisted.web.server import Site

from ridad.kojisim.hub import KojiHub
from ridad.kojisim.resource import Reply, hub_root
from tests.integration.kojiworld import KojiWorld
from tests.integration.processes import Processes, RidadProcess
from tests.integration.support import GitWorld, modulemd_text
from tests.integration.test_crash import crash_config, is_ready, submit, wait_for_build

pytestmark = [pytest.mark.integration, pytest.mark.slow]

UPLOAD = "application/octet-stream"
#: The calls of the import a held front answers with 503 (Koji away: ridad
#: retries), so a process started meanwhile cannot run past the point it is
#: to die at before it is armed.
IMPORT_CALLS = frozenset({"getBuild", "cancelBuild", "CGInitBuild", "CGImport"})

#: gamma builds gamma (x86_64, GPL) and gamma-devel (MIT); the module filters gamma-devel.
GAMMA_SPEC = """Name:           gamma
Version:        2.0
Release:        3%{?dist}
Epoch:          1
Summary:        Test package gamma
License:        GPL-2.0-or-later

%description
Test package gamma.

%package devel
Summary:        gamma's headers
License:        MIT

%description devel
Headers.

%install
mkdir -p %{buildroot}/usr/share/gamma %{buildroot}/usr/include
echo gamma > %{buildroot}/usr/share/gamma/README
echo '/* */' > %{buildroot}/usr/include/gamma.h

%files
/usr/share/gamma/README

%files devel
/usr/include/gamma.h

%changelog
* Fri Nov 27 2026 Test Packager <packager@example.org> - 2.0-3
- First build
"""


class KillDuringImport:
    """A front of the kojisim hub that SIGKILLs an armed process at one
    request: after the hub handled a call of ``method`` (before the answer
    goes out), or before the hub sees the first upload. While ``held``, the
    import's calls and uploads get a 503."""

    def __init__(self, hub: KojiHub) -> None:
        self._hub = hub
        self._armed: tuple[str, RidadProcess] | None = None
        self.killed: RidadProcess | None = None
        self.held = False

    def arm(self, method: str, process: RidadProcess) -> None:
        """Kill ``process`` at ``method`` (``"upload"``: the first upload)."""
        self._armed = (method, process)

    def answer(self, method: bytes, body: bytes, info: Any, content_type: str) -> Any:
        """The hub's reply, around which the armed process may die."""
        upload = content_type == UPLOAD
        if self.held and (upload or _methods(body) & IMPORT_CALLS):
            return Reply(503, "text/plain", b"held by the test\n")
        armed = self._armed[0] if self._armed is not None else None
        if armed == "upload" and upload:
            self._kill()  # dead before the hub stores anything it would answer
        reply = self._hub.answer(method, body, info, content_type)
        if armed not in (None, "upload") and not upload and armed in _methods(body):
            self._kill()  # the hub did it; the answer reaches no one
        return reply

    def _kill(self) -> None:
        assert self._armed is not None
        _, process = self._armed
        self._armed = None
        self.killed = process
        os.kill(process.pid, signal.SIGKILL)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hub, name)


def _methods(body: bytes) -> set[str]:
    """The methods an XML-RPC request calls (those of a multiCall too)."""
    try:
        params, method = xmlrpc.client.loads(body)
    except Exception:  # noqa: BLE001 - not a request we care about
        return set()
    if method == "multiCall" and params:
        return {str(c.get("methodName")) for c in params[0] if isinstance(c, dict)}
    return {str(method)}


@pytest_twisted.async_yield_fixture
async def front(koji_world: KojiWorld) -> AsyncIterator[tuple[KillDuringImport, str]]:
    """The test's kojisim behind a :class:`KillDuringImport`, and its hub URL."""
    killer = KillDuringImport(koji_world.hub)
    port = reactor.listenTCP(0, Site(hub_root(killer)), interface="127.0.0.1")
    yield killer, f"http://127.0.0.1:{port.getHost().port}/kojihub"
    await port.stopListening()


async def _dies_at(
    processes: Processes,
    killer: KillDuringImport,
    name: str,
    config: dict[str, Any],
    method: str,
) -> None:
    killer.held = True  # until the new process is armed
    process = await processes.start(name, config)
    killer.arm(method, process)
    killer.held = False
    await process.protocol.when_ended().addTimeout(60, reactor)
    assert killer.killed is process, f"{name} was not killed at {method}"
    await process.kill()


async def _component_nevras(koji_world: KojiWorld, build: dict[str, Any]) -> set[str]:
    """The NEVRAs of the RPMs Koji built for the module's components."""
    nevras = set()
    for component in build["components"]:
        if component["name"] == "module-build-macros":
            continue
        info = await koji_world.client.call("getBuild", component["nvr"])
        for rpm in await koji_world.client.call("listBuildRPMs", info["id"]):
            epoch = rpm["epoch"] or 0
            nevras.add(
                f"{rpm['name']}-{epoch}:{rpm['version']}-{rpm['release']}.{rpm['arch']}"
            )
    return nevras


def _artifacts(document: bytes) -> set[str]:
    return set(yaml.safe_load(document)["data"]["artifacts"]["rpms"])


@pytest_twisted.ensureDeferred
async def test_kill_9_at_each_step_of_the_import_leaves_one_module_build(
    database_dsn: str,
    git_world: GitWorld,
    koji_world: KojiWorld,
    front: tuple[KillDuringImport, str],
    processes: Processes,
    tmp_path: Path,
) -> None:
    """Killed after Koji reserved the build (answer lost), after ridad
    recorded the reservation, and after Koji completed the import: the
    fourth process finds the completed build and makes the module ready."""
    killer, hub_url = front
    git_world.rpm("gamma", spec_text=GAMMA_SPEC)
    config = crash_config(database_dsn, git_world, tmp_path, hub_url)
    text = modulemd_text(extra={"filter": {"rpms": ["gamma-devel"]}})

    first = await processes.start("first", config)
    killer.arm("CGInitBuild", first)
    module_build_id = await submit(first, git_world, text)
    await first.protocol.when_ended().addTimeout(120, reactor)
    assert killer.killed is first
    await first.kill()
    await _dies_at(processes, killer, "second", config, "upload")
    await _dies_at(processes, killer, "third", config, "CGImport")

    fourth = await processes.start("fourth", config)
    done = await wait_for_build(fourth, module_build_id, is_ready, "ready")

    module_builds = await koji_world.client.call("listBuilds", type="module")
    assert [(b["build_id"], b["state"]) for b in module_builds] == [
        (done["koji_build_id"], 1)
    ], module_builds
    archives = await koji_world.client.call(
        "listArchives", buildID=done["koji_build_id"], type="module"
    )
    assert sorted(a["filename"] for a in archives) == [
        "modulemd.txt",
        "modulemd.x86_64.txt",
    ]
    content = {
        a["filename"]: koji_world.hub.state.archives[a["id"]].content for a in archives
    }
    built = await _component_nevras(koji_world, done)
    expected = {n for n in built if not n.startswith("gamma-devel-")}
    assert any(n.startswith("gamma-devel-") for n in built)
    assert _artifacts(content["modulemd.txt"]) == expected
    assert _artifacts(content["modulemd.x86_64.txt"]) == expected  # all x86_64/noarch
    assert done["artifact_count"] == len(expected)
    for query, filename in (
        ("", "modulemd.txt"),
        ("?arch=x86_64", "modulemd.x86_64.txt"),
    ):
        response = await fourth.http.get(
            fourth.url(f"/rida/module-builds/{module_build_id}/modulemd{query}")
        )
        assert response.code == 200
        assert await response.content() == content[filename]
