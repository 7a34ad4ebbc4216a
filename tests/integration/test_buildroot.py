"""The buildroot MBS users recognise, seen in kojisim through the real
daemon: arches narrowed to the base tag and per component, the groups from
a buildrequired module's profiles, ``Conflicts:`` for the RPMs it filters
(in the uploaded module-build-macros SRPM, read with ``rpm``), the
whitelist in the package lists and blocked packages (unblocked once built
in the module); and 422 at submission when no arch is left."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest_twisted
import treq
import yaml

from ridad.kojisim.specs import spec_from_cpio
from ridad.kojisim.views import decoded_request
from tests.integration.kojiworld import KojiWorld
from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    daemon_config,
    json_of,
    koji_config,
    modulemd_text,
    start_daemon,
    wait_for_state,
)

JSON = {b"Content-Type": [b"application/json"]}

#: A package with a subpackage the module filters.
TOOLS_SPEC = """Name:           tools
Version:        1.0
Release:        1%{?dist}
Summary:        Tools
License:        MIT
BuildArch:      noarch

%description
Tools.

%package libs
Summary:        Tools libraries

%description libs
Tools libraries.

%install
mkdir -p %{buildroot}/usr/share/tools
echo tools > %{buildroot}/usr/share/tools/README
echo libs > %{buildroot}/usr/share/tools/LIBS

%files
/usr/share/tools/README

%files libs
/usr/share/tools/LIBS

%changelog
* Fri Nov 27 2026 Test Packager <packager@example.org> - 1.0-1
- First build
"""

TOOLS = modulemd_text(
    {"tools": {"rationale": "the tools"}},
    extra={
        "filter": {"rpms": ["tools-libs"]},
        "profiles": {
            "buildroot": {"rpms": ["tools"]},
            "srpm-buildroot": {"rpms": ["tools-srpm-macros"]},
        },
    },
)

DEMO = modulemd_text(
    {
        "alpha": {"rationale": "everywhere"},
        "beta": {"rationale": "one arch", "arches": ["aarch64"]},
    },
    buildrequires={"platform": ["f40"], "tools": ["main"]},
    extra={
        "buildopts": {
            "arches": ["s390x", "aarch64", "x86_64"],
            "rpms": {"whitelist": ["alpha", "beta", "alpha-compat"]},
        },
        "xmd": {"mbs_options": {"blocked_packages": ["legacy", "beta"]}},
    },
)


async def submit(daemon: RunningDaemon, git_world: GitWorld, name: str) -> Any:
    response = await treq.post(
        daemon.url("/rida/module-builds/"),
        data=json.dumps({"scmurl": git_world.scmurl(name)}).encode(),
        headers=JSON,
    )
    return response.code, await json_of(response)


async def built(daemon: RunningDaemon, git_world: GitWorld, name: str) -> Any:
    code, answer = await submit(daemon, git_world, name)
    assert code == 201, answer
    done = await wait_for_state(daemon, answer["id"], ("ready", "failed"), 120)
    assert done["state"] == "ready", done
    return done


def build_tasks(koji_world: KojiWorld) -> dict[str, list[Any]]:
    """The build tasks by what they build (a component, or the macros SRPM
    by its target)."""
    found: dict[str, list[Any]] = {}
    for task in koji_world.hub.tasks.values():
        if task.method != "build":
            continue
        source, target = decoded_request(task)[:2]
        component = source.split("/rpms/")[-1].split("?")[0].removesuffix(".git")
        key = component if "/rpms/" in source else target
        found.setdefault(key, []).append((task.id, source))
    return found


async def buildroot_daemon(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld, tmp_path: Path
) -> RunningDaemon:
    """A daemon building for x86_64, aarch64 and ppc64le, on an f40 tag
    that has only x86_64 and aarch64."""
    await koji_world.client.call("editTag2", "f40-build", arches="x86_64 aarch64")
    config = daemon_config(
        database_dsn, git_world, tmp_path / "state",
        koji=koji_config(koji_world.url, arches=["x86_64", "aarch64", "ppc64le"]),
    )  # fmt: skip
    return await start_daemon(config, tmp_path / "ridad.yaml")


@pytest_twisted.ensureDeferred
async def test_the_buildroot_is_what_mbs_users_expect(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld, tmp_path: Path
) -> None:
    git_world.rpm("tools", spec_text=TOOLS_SPEC)
    git_world.module("tools", TOOLS)
    git_world.module("demo", DEMO)
    daemon = await buildroot_daemon(database_dsn, git_world, koji_world, tmp_path)
    try:
        await built(daemon, git_world, "tools")
        demo = await built(daemon, git_world, "demo")
        final = await (
            await treq.get(daemon.url(f"/rida/module-builds/{demo['id']}/modulemd"))
        ).text()
    finally:
        await daemon.service.stopService()
    mbs = yaml.safe_load(final)["data"]["xmd"]["mbs"]
    [filtered] = mbs["buildrequires"]["tools"]["filtered_rpms"]
    assert filtered.startswith("tools-libs-0:1.0-1.module+f40+"), filtered
    client, tag = koji_world.client, demo["koji_tag"]
    build_tag = await client.call("getTag", f"{tag}-build")
    assert build_tag["arches"] == "x86_64 aarch64"
    assert build_tag["extra"]["mock.package_manager"] == "dnf"
    groups = {
        g["name"]: [p["package"] for p in g["packagelist"]]
        for g in await client.call("getTagGroups", f"{tag}-build")
    }
    assert sorted(groups["build"]) == sorted(
        ["bash", "rpm-build", "tools", "module-build-macros"]
    )
    assert sorted(groups["srpm-build"]) == sorted(
        ["bash", "tools-srpm-macros", "module-build-macros"]
    )
    listed = {
        p["package_name"]: p["blocked"]
        for p in await client.call("listPackages", tagID=f"{tag}-build")
    }
    assert listed["legacy"] is True and listed["beta"] is False
    assert "alpha-compat" in listed and "alpha-compat" in {
        p["package_name"] for p in await client.call("listPackages", tagID=tag)
    }
    tasks = build_tasks(koji_world)
    [(alpha_task, _)] = tasks["alpha"]
    [(beta_task, _)] = tasks["beta"]
    alpha_root = koji_world.hub.buildroot(alpha_task) or ""
    assert "# arches: x86_64 aarch64\n" in alpha_root
    assert "# arches: aarch64\n" in (koji_world.hub.buildroot(beta_task) or "")
    assert "tools" in alpha_root.split("# group build: ")[1].split("\n")[0].split()
    assert "legacy" in alpha_root.split("# blocked: ")[1].split()
    [(_, srpm)] = tasks[tag]
    conflicts = rpm_conflicts(os.path.join(koji_world.hub.upload_dir, srpm))
    assert conflicts == [f"tools-libs = 0:1.0-1{filtered.split('1.0-1')[1]}"]


def rpm_conflicts(path: str) -> list[str]:
    """The ``Conflicts:`` of the SPEC inside an SRPM (an SRPM's header has
    none: they belong to the binary package), read from rpm2cpio's archive."""
    payload = subprocess.run(["rpm2cpio", path], capture_output=True, check=True)
    spec = spec_from_cpio(payload.stdout)
    assert spec is not None
    return [
        line.removeprefix("Conflicts:").strip()
        for line in spec.decode().splitlines()
        if line.startswith("Conflicts:")
    ]


@pytest_twisted.ensureDeferred
async def test_no_arch_left_is_refused_at_submission(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld, tmp_path: Path
) -> None:
    """buildopts.arches [ppc64le]: ridad builds for it, the base tag does
    not have it; 422 before anything is recorded."""
    git_world.module(
        "demo",
        modulemd_text(
            {"alpha": {"rationale": "r"}}, extra={"buildopts": {"arches": ["ppc64le"]}}
        ),
    )
    daemon = await buildroot_daemon(database_dsn, git_world, koji_world, tmp_path)
    try:
        code, answer = await submit(daemon, git_world, "demo")
        listing = await json_of(await treq.get(daemon.url("/rida/module-builds/")))
    finally:
        await daemon.service.stopService()
    assert code == 422, answer
    assert "no arch left" in answer["message"] and "platform:f40" in answer["message"]
    assert "['x86_64', 'aarch64']" in answer["message"]
    assert [b["name"] for b in listing] == ["platform"], listing
