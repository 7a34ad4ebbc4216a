"""Builds from real sources: a SPEC in a real git repository evaluated with
the build tag's %dist, and an uploaded SRPM's header. The hub runs on a fake
clock; git and rpm run through the real reactor."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import koji
import pytest
import pytest_twisted
from twisted.internet.task import Clock

from ridad.kojisim.hub import KojiHub
from ridad.kojisim.sources import parse_source
from tests.gitrepos import GitServer, commit_files, start_git_daemon
from tests.unit.kojisim.support import (
    HUB_URL,
    HubClient,
    open_and_wait,
    seed_module_tags,
)

SPEC = """Name:           {name}
Version:        {version}
Release:        1%{{?dist}}
Summary:        Test package {name}
License:        MIT
BuildArch:      noarch

%description
Test package {name}.

%files
"""
DIST = ".module_f40+7+abcdef12"
TASK = koji.TASK_STATES


@pytest.fixture
def client(real_hub: KojiHub) -> HubClient:
    """An admin client with the module tags (dist ``DIST``)."""
    client = HubClient(real_hub)
    client.login()
    seed_module_tags(client, dist=DIST)
    return client


@pytest.fixture(scope="module")
def git_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    """A git daemon on 127.0.0.1."""
    server = start_git_daemon(tmp_path_factory.mktemp("git"))
    yield server
    server.stop()


@pytest_twisted.ensureDeferred
async def test_nvr_comes_from_the_spec_at_the_commit_with_the_tag_dist(
    real_hub: KojiHub, clock: Clock, client: HubClient, tmp_path: Path
) -> None:
    """The build's NVR is the SPEC's Name/Version/Release at the given commit,
    with the build tag's rpm.macro.dist; it completes on the clock."""
    repo = tmp_path / "rpms" / "alpha.git"
    old = commit_files(repo, {"alpha.spec": SPEC.format(name="alpha", version="1.0")})
    commit_files(repo, {"alpha.spec": SPEC.format(name="alpha", version="2.0")})
    task_id = client.call("build", f"git+file://{repo}?#{old}", "mod", {})
    await open_and_wait(real_hub, clock, task_id)
    [build] = client.call("listBuilds", taskID=task_id)
    assert (build["nvr"], build["state"]) == (
        f"alpha-1.0-1{DIST}",
        koji.BUILD_STATES["BUILDING"],
    )
    clock.advance(1)
    assert client.call("getTaskInfo", task_id)["state"] == TASK["CLOSED"]
    assert [b["nvr"] for b in client.call("listTagged", "mod")] == [
        f"alpha-1.0-1{DIST}"
    ]


@pytest_twisted.ensureDeferred
async def test_git_daemon_url_builds_like_on_a_real_builder(
    real_hub: KojiHub, clock: Clock, client: HubClient, git_server: GitServer
) -> None:
    """A ``git://`` URL with a commit is fetched with depth 1 from the daemon."""
    commit = commit_files(
        git_server.base / "beta.git",
        {"beta.spec": SPEC.format(name="beta", version="3")},
    )
    task_id = client.call(
        "build", git_server.url(f"beta.git?#{commit}"), "mod", {"skip_tag": True}
    )
    await open_and_wait(real_hub, clock, task_id)
    assert client.call("listBuilds", taskID=task_id)[0]["nvr"] == f"beta-3-1{DIST}"


@pytest_twisted.ensureDeferred
async def test_spec_that_cannot_be_evaluated_fails_the_task(
    real_hub: KojiHub, clock: Clock, client: HubClient, tmp_path: Path
) -> None:
    """A broken SPEC fails the build task with BuildError and no build."""
    repo = tmp_path / "alpha.git"
    commit = commit_files(repo, {"alpha.spec": "Name: alpha\n%if\n"})
    task_id = client.call("build", f"file://{repo}#{commit}", "mod", {})
    await open_and_wait(real_hub, clock, task_id)
    result = client.call("getTaskResult", task_id, raise_fault=False)
    assert result["faultCode"] == koji.BuildError.faultCode
    assert "Could not read the NVR" in result["faultString"]
    assert client.call("listBuilds", taskID=task_id) == []


@pytest_twisted.ensureDeferred
async def test_missing_spec_or_commit_fails_the_task(
    real_hub: KojiHub, clock: Clock, client: HubClient, tmp_path: Path
) -> None:
    """No ``<name>.spec`` at the commit, or no such commit, is a BuildError."""
    repo = tmp_path / "alpha.git"
    commit = commit_files(repo, {"README": "no spec\n"})
    for ref in (commit, "f" * 40):
        task_id = client.call("build", f"git+file://{repo}?#{ref}", "mod", {})
        await open_and_wait(real_hub, clock, task_id)
        result = client.call("getTaskResult", task_id, raise_fault=False)
        assert result["faultCode"] == koji.BuildError.faultCode, result


@pytest_twisted.ensureDeferred
async def test_uploaded_srpm_builds_with_the_nvr_of_its_header(
    real_hub: KojiHub, clock: Clock, client: HubClient, tmp_path: Path
) -> None:
    """An SRPM uploaded under cli-build/ builds with its header's NVR (admin only)."""
    srpm = _make_srpm(tmp_path, "alpha", "4.2")
    query = f"filename={srpm.name}&filepath=cli-build%2Fup&fileverify=adler32&offset=0"
    reply = client.http(
        "POST",
        srpm.read_bytes(),
        url=f"{HUB_URL}?{query}",
        headers={"Content-Type": "application/octet-stream"},
    )
    assert b"hexdigest" in reply.body
    task_id = client.call("build", f"cli-build/up/{srpm.name}", "mod", {})
    await open_and_wait(real_hub, clock, task_id)
    assert client.call("listBuilds", taskID=task_id)[0]["nvr"] == "alpha-4.2-1"


def _make_srpm(directory: Path, name: str, version: str) -> Path:
    """Build an SRPM with rpmbuild (test setup may block)."""
    spec = directory / f"{name}.spec"
    spec.write_text(SPEC.format(name=name, version=version))
    subprocess.run(
        [
            "rpmbuild",
            "-bs",
            "--nodeps",
            "--define",
            f"_topdir {directory / 'rpmbuild'}",
            "--define",
            "dist %{nil}",
            str(spec),
        ],
        check=True,
        capture_output=True,
    )
    return next((directory / "rpmbuild" / "SRPMS").glob("*.src.rpm"))


@pytest.mark.parametrize(
    ("src", "fetch_url", "commit", "name"),
    [
        ("git://h/rpms/a.git?#c1", "git://h/rpms/a.git", "c1", "a"),
        ("git+https://h/rpms/b.git?#c2", "https://h/rpms/b.git", "c2", "b"),
        ("git+ssh://u@h/c?#c3", "ssh://u@h/c", "c3", "c"),
        ("git+file:///srv/d.git#c4", "file:///srv/d.git", "c4", "d"),
        ("file:///srv/e.git?#c5", "file:///srv/e.git", "c5", "e"),
    ],
)
def test_scm_urls_parse_into_fetch_url_commit_and_name(
    src: str, fetch_url: str, commit: str, name: str
) -> None:
    """Accepted SCM URLs give the git URL, the commit and the package name."""
    source = parse_source(src)
    assert (source.fetch_url, source.commit, source.repo_name) == (
        fetch_url,
        commit,
        name,
    )


@pytest.mark.parametrize(
    "src",
    ["https://h/a.git?#c", "git://h/a.git", "git://h?#c", "../x.src.rpm", "x.tar"],
)
def test_other_sources_are_build_errors(src: str) -> None:
    """Sources a Koji builder refuses raise BuildError."""
    with pytest.raises(koji.BuildError):
        parse_source(src)
