"""The RPMs a completed build records, read from real SPEC files with
``rpmspec``: the source RPM, one binary per built package and arch
(``noarch`` subpackages once, ExclusiveArch honoured, packages without
``%files`` left out), per-package License, the epoch; and the build's
``source`` as a builder reports it after the checkout. The hub runs on a
fake clock; git and rpm run through the real reactor."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import urlencode

import koji
import pytest
import pytest_twisted
from twisted.internet.task import Clock

from ridad.kojisim.hub import KojiHub
from tests.gitrepos import commit_files
from tests.unit.kojisim.support import HUB_URL, HubClient, open_and_wait

DIST = ".module_f40+3+0badcafe"
SPEC = """Name:           multi
Epoch:          2
Version:        1.5
Release:        4%{?dist}
Summary:        A package with subpackages
License:        Apache-2.0
ExclusiveArch:  x86_64 aarch64

%description
Binary and noarch subpackages.

%package devel
Summary:        Headers
License:        MIT

%description devel
Headers.

%package doc
Summary:        Documentation
License:        CC-BY-4.0
BuildArch:      noarch

%description doc
Documentation.

%package unbuilt
Summary:        Declared without files, so never built

%description unbuilt
Nothing.

%files

%files devel

%files doc
"""


@pytest.fixture
def client(real_hub: KojiHub) -> HubClient:
    """An admin client; ``multi`` builds into ``mod`` from ``mod-build``
    (three arches, ``%dist`` DIST)."""
    client = HubClient(real_hub)
    client.login()
    client.call("createTag", "f40-build", arches="x86_64 aarch64 ppc64le")
    client.call("createTag", "mod", arches="x86_64 aarch64 ppc64le")
    client.call(
        "createTag",
        "mod-build",
        parent="f40-build",
        arches="x86_64 aarch64 ppc64le",
        extra={"rpm.macro.dist": DIST},
    )
    client.call("createBuildTarget", "mod", "mod-build", "mod")
    client.call("packageListAdd", "mod", "multi", owner="admin")
    real_hub.kojira_repo("mod-build")
    return client


async def _build(hub: KojiHub, clock: Clock, client: HubClient, src: str) -> dict:
    """Run one build of ``src`` to its end; answer the build."""
    task_id = client.call("build", src, "mod", {})
    await open_and_wait(hub, clock, task_id)
    clock.advance(1)
    info = client.call("getTaskInfo", task_id)
    assert info["state"] == koji.TASK_STATES["CLOSED"], client.call(
        "getTaskResult", task_id, raise_fault=False
    )
    [build] = client.call("listBuilds", taskID=task_id)
    return build


@pytest_twisted.ensureDeferred
async def test_a_completed_build_has_the_rpms_of_its_spec(
    real_hub: KojiHub, clock: Clock, client: HubClient, tmp_path: Path
) -> None:
    """src, then each built package per allowed arch of the build tag;
    licenses per package; ExclusiveArch in the source RPM's headers."""
    repo = tmp_path / "rpms" / "multi.git"
    commit = commit_files(repo, {"multi.spec": SPEC})
    build = await _build(real_hub, clock, client, f"git+file://{repo}?#{commit}")
    assert (build["nvr"], build["epoch"]) == (f"multi-1.5-4{DIST}", 2)
    assert build["source"] == f"git+file://{repo}#{commit}"
    assert build["extra"]["source"]["original_url"] == f"git+file://{repo}?#{commit}"
    rpms = client.call("listBuildRPMs", build["build_id"])
    assert [(r["name"], r["arch"]) for r in rpms] == [
        ("multi", "src"),
        ("multi", "x86_64"),
        ("multi", "aarch64"),
        ("multi-devel", "x86_64"),
        ("multi-devel", "aarch64"),
        ("multi-doc", "noarch"),
    ]
    assert {r["epoch"] for r in rpms} == {2}
    headers = [
        client.call("getRPMHeaders", rpmID=r["id"], headers=["license"])["license"]
        for r in rpms
    ]
    assert headers == [
        "Apache-2.0",
        "Apache-2.0",
        "Apache-2.0",
        "MIT",
        "MIT",
        "CC-BY-4.0",
    ]
    source = client.call(
        "getRPMHeaders", rpmID=rpms[0]["id"], headers=["exclusivearch", "ExcludeArch"]
    )
    assert source == {"exclusivearch": ["x86_64", "aarch64"], "ExcludeArch": []}
    assert client.call("getBuildType", build["build_id"]) == {"rpm": None}


@pytest_twisted.ensureDeferred
async def test_an_srpm_build_has_the_rpms_of_the_spec_inside(
    real_hub: KojiHub, clock: Clock, client: HubClient, tmp_path: Path
) -> None:
    """An uploaded SRPM's binaries come from the SPEC it carries."""
    spec = tmp_path / "multi.spec"
    spec.write_text(SPEC)
    subprocess.run(
        ["rpmbuild", "-bs", "--nodeps", "--define", f"_topdir {tmp_path / 'top'}"]
        + ["--define", f"dist {DIST}", str(spec)],
        check=True,
        capture_output=True,
    )
    srpm = next((tmp_path / "top" / "SRPMS").glob("*.src.rpm"))
    query = urlencode({"filename": srpm.name, "filepath": "cli-build/s", "offset": 0})
    client.http(
        "POST",
        srpm.read_bytes(),
        url=f"{HUB_URL}?{query}",
        headers={"Content-Type": "application/octet-stream"},
    )
    build = await _build(real_hub, clock, client, f"cli-build/s/{srpm.name}")
    names = {
        (r["name"], r["arch"]) for r in client.call("listBuildRPMs", build["build_id"])
    }
    assert ("multi-devel", "aarch64") in names and ("multi-doc", "noarch") in names
    assert ("multi", "src") in names and len(names) == 6
