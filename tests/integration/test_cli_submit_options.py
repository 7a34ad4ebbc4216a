"""``rida submit``'s MBS options against a running ridad (real git, real
PostgreSQL): --scratch, --file (the modulemd in the body, refused without
--scratch unless ``builds.allow_yaml_submissions``), --rebuild-strategy;
and --srpm uploading with the real koji library, in rida's thread pool, to
a kojisim process over HTTPS that logs the client certificate in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import koji
import pytest
import pytest_twisted
import treq

from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    daemon_config,
    modulemd_text,
    start_daemon,
)
from tests.integration.test_cli import (  # noqa: F401 - fixture
    koji_daemon,
    rida_in_process,
    rida_process,
)
from tests.integration.test_kojisim_process import (  # noqa: F401 - fixture
    Certificates,
    RunningHub,
    _start,
    _stop,
    certificates,
)
from tests.unit.cli.rpmfiles import rpmbuild_srpm


async def _daemon(
    database_dsn: str, git_world: GitWorld, tmp_path: Path, builds: dict[str, Any]
) -> RunningDaemon:
    git_world.module("demo", modulemd_text())
    config = daemon_config(database_dsn, git_world, tmp_path / "state", builds=builds)
    return await start_daemon(config, tmp_path / "ridad.yaml")


@pytest_twisted.async_yield_fixture
async def strict_daemon(
    database_dsn: str, git_world: GitWorld, tmp_path: Path
) -> AsyncIterator[RunningDaemon]:
    """ridad allowing changed-and-after and only-changed (not all), and no
    YAML submissions."""
    daemon = await _daemon(
        database_dsn,
        git_world,
        tmp_path,
        {"rebuild_strategies_allowed": ["changed-and-after", "only-changed"]},
    )
    yield daemon
    await daemon.service.stopService()


@pytest_twisted.async_yield_fixture
async def yaml_daemon(
    database_dsn: str, git_world: GitWorld, tmp_path: Path
) -> AsyncIterator[RunningDaemon]:
    """ridad with builds.allow_yaml_submissions: true."""
    daemon = await _daemon(
        database_dsn, git_world, tmp_path, {"allow_yaml_submissions": True}
    )
    yield daemon
    await daemon.service.stopService()


def _modulemd_file(tmp_path: Path) -> Path:
    """demo.yaml: the demo module's document, naming no module or stream."""
    path = tmp_path / "demo.yaml"
    path.write_text(modulemd_text())
    return path


async def _submit(
    daemon: RunningDaemon, home: Path, *argv: str
) -> tuple[int, Any, str]:
    status, out, err = await rida_in_process(
        home, "--server", daemon.base_url, "submit", *argv, "--json"
    )
    return status, json.loads(out) if status == 0 else out, err


async def _show(daemon: RunningDaemon, home: Path, build_id: int) -> dict[str, Any]:
    status, out, err = await rida_in_process(
        home, "--server", daemon.base_url, "show", str(build_id), "--json"
    )
    assert status == 0, err
    return dict(json.loads(out))


@pytest_twisted.ensureDeferred
async def test_scratch_and_rebuild_strategy_are_recorded(
    strict_daemon: RunningDaemon, git_world: GitWorld, tmp_path: Path
) -> None:
    """--scratch makes a scratch build; --rebuild-strategy is recorded when
    allowed, and one the server does not allow exits 3 with its message."""
    scmurl = git_world.scmurl("demo")
    status, builds, err = await _submit(
        strict_daemon,
        tmp_path,
        scmurl,
        "--scratch",
        "--rebuild-strategy",
        "only-changed",
    )
    assert status == 0, err
    [build] = builds
    assert (build["name"], build["stream"], build["scratch"]) == ("demo", "main", True)
    shown = await _show(strict_daemon, tmp_path, build["id"])
    assert shown["scratch"] is True
    assert shown["rebuild_strategy"] == "only-changed"

    status, out, err = await _submit(
        strict_daemon,
        tmp_path,
        scmurl,
        "--scratch",
        "--rebuild-strategy",
        "all",
    )
    assert status == 3, out
    assert err == (
        'rida: 400 Bad Request: The rebuild method of "all" is not allowed.'
        " Choose from: changed-and-after, only-changed.\n"
    )


@pytest_twisted.ensureDeferred
async def test_submit_scratch_watch_ends_at_done_with_0(
    koji_daemon: RunningDaemon,  # noqa: F811
    git_world: GitWorld,
    tmp_path: Path,
) -> None:
    """A scratch build never leaves done: rida submit --scratch --watch (the
    real command, piped) ends there with 0, and show says it is scratch."""
    status, out, err = await rida_process(
        tmp_path,
        "--server",
        koji_daemon.base_url,
        "submit",
        git_world.scmurl("demo"),
        "--scratch",
        "--watch",
        "--interval",
        "0.2",
    )
    assert status == 0, out + err
    lines = out.splitlines()
    assert lines[0].startswith("Submitted scratch module build ")
    build_id = int(lines[0].split()[4].rstrip(":"))
    assert lines[-1].startswith(f"build {build_id} demo:main:")
    assert lines[-1].endswith(": done, 4/4 components done, batch 3")
    status, out, err = await rida_in_process(
        tmp_path, "--server", koji_daemon.base_url, "show", str(build_id)
    )
    assert status == 0, err
    assert "  state:      done" in out
    assert "  scratch:    yes (it ends at done, never ready)" in out


@pytest_twisted.ensureDeferred
async def test_file_is_a_scratch_build_and_refused_otherwise(
    strict_daemon: RunningDaemon, tmp_path: Path
) -> None:
    """--file --scratch is accepted without an SCMURL, named after the file;
    without --scratch the server refuses it (403) and rida warns first."""
    path = _modulemd_file(tmp_path)
    status, builds, err = await _submit(
        strict_daemon, tmp_path, "--file", str(path), "--stream", "main", "--scratch"
    )
    assert status == 0, err
    [build] = builds
    assert (build["name"], build["stream"], build["scratch"]) == ("demo", "main", True)

    status, out, err = await _submit(
        strict_daemon, tmp_path, "--file", str(path), "--stream", "main"
    )
    assert status == 3, out
    lines = err.splitlines()
    assert lines[0].startswith("rida: warning: --file without --scratch:")
    assert lines[1].startswith("rida: 403 Forbidden: YAML submission is not enabled")


@pytest_twisted.ensureDeferred
async def test_file_without_scratch_where_yaml_submissions_are_allowed(
    yaml_daemon: RunningDaemon, tmp_path: Path
) -> None:
    """With builds.allow_yaml_submissions, --file builds without --scratch."""
    path = _modulemd_file(tmp_path)
    status, builds, err = await _submit(
        yaml_daemon, tmp_path, "--file", str(path), "--stream", "main"
    )
    assert status == 0, err
    [build] = builds
    assert (build["name"], build["scratch"]) == ("demo", False)


@pytest.fixture
def tls_hub(tmp_path: Path, certificates: Certificates) -> Iterator[RunningHub]:  # noqa: F811
    """kojisim over HTTPS, logging client certificates of the test CA in."""
    running = _start(
        tmp_path,
        "--tls-cert", str(certificates.server_cert),
        "--tls-key", str(certificates.server_key),
        "--tls-ca", str(certificates.ca),
        scheme="https",
    )  # fmt: skip
    yield running
    _stop(running.process)


@pytest_twisted.ensureDeferred
async def test_srpm_is_uploaded_with_the_users_certificate_and_submitted(
    daemon: RunningDaemon,
    git_world: GitWorld,
    tls_hub: RunningHub,
    certificates: Certificates,  # noqa: F811
    tmp_path: Path,
) -> None:
    """--srpm logs in to Koji with the profile's certificate (authtype ssl),
    uploads the SRPM as cli-build/<unique>/<Name>.src.rpm, and the scratch
    build records that path in its srpms."""
    git_world.module("demo", modulemd_text())
    srpm = rpmbuild_srpm(tmp_path, "alpha")
    renamed = srpm.rename(tmp_path / "my-local-alpha.src.rpm")
    config = tmp_path / "koji.conf"
    config.write_text(
        f"[sim]\nserver = {tls_hub.url}\nauthtype = ssl\n"
        f"cert = {certificates.client}\nserverca = {certificates.ca}\n"
    )
    koji_flags = ("--koji-config", str(config), "--koji-profile", "sim")
    status, out, err = await rida_in_process(
        tmp_path,
        "--server",
        daemon.base_url,
        "submit",
        git_world.scmurl("demo"),
        "--scratch",
        "--srpm",
        str(renamed),
        *koji_flags,
    )
    assert status == 0, out + err
    first = out.splitlines()[0]
    assert first.startswith(f"Uploaded {renamed} to Koji: cli-build/")
    path = first.rsplit(": ", 1)[1]
    directory, name = path.rsplit("/", 1)
    assert name == "alpha.src.rpm"
    session = koji.ClientSession(tls_hub.url, opts={"serverca": str(certificates.ca)})
    assert session.checkUpload(directory, name)["size"] == renamed.stat().st_size
    build_id = int(out.splitlines()[1].split()[4].rstrip(":"))
    shown = await _show(daemon, tmp_path, build_id)
    assert shown["scratch"] is True
    response = await treq.get(daemon.url(f"/rida/module-builds/{build_id}"))
    assert (await response.json())["srpms"] == [path]


@pytest_twisted.ensureDeferred
async def test_srpm_upload_without_a_usable_login_says_what_to_do(
    daemon: RunningDaemon,
    git_world: GitWorld,
    tls_hub: RunningHub,
    certificates: Certificates,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A profile whose certificate the hub refuses: exit 3, the hub named,
    and what to check; nothing is submitted."""
    srpm = rpmbuild_srpm(tmp_path, "alpha")
    config = tmp_path / "koji.conf"
    config.write_text(
        f"[sim]\nserver = {tls_hub.url}\nauthtype = ssl\n"
        f"cert = {certificates.server_key}\nserverca = {certificates.ca}\n"
        # rida caps the retries; a profile may ask for fewer, sooner.
        "max_retries = 1\nretry_interval = 0\n"
    )
    status, out, err = await rida_in_process(
        tmp_path,
        "--server",
        daemon.base_url,
        "submit",
        git_world.scmurl("demo"),
        "--scratch",
        "--srpm",
        str(srpm),
        "--koji-config",
        str(config),
        "--koji-profile",
        "sim",
    )
    assert status == 3, out + err
    assert err.startswith(
        f"rida: cannot log in to Koji at {tls_hub.url} with the client certificate"
    )
    assert "check the profile's cert (and serverca) files" in err
    status, out, err = await rida_in_process(
        tmp_path, "--server", daemon.base_url, "list", "--json"
    )
    assert [b["name"] for b in json.loads(out)] == []


@pytest_twisted.ensureDeferred
async def test_show_marks_the_components_a_rebuild_reused(
    koji_daemon: RunningDaemon,  # noqa: F811
    git_world: GitWorld,
    tmp_path: Path,
) -> None:
    """The demo built to ready, then again (a new module commit, no component
    changed) with --rebuild-strategy only-changed --reuse-from the first:
    rida show names the strategy and the source build, and marks every
    component reused from that build's component."""
    server = ("--server", koji_daemon.base_url)
    git_world.module("demo", modulemd_text(), date="2030-01-01T00:00:00+0000")
    watch = ("--watch", "--interval", "0.2")
    status, out, err = await rida_in_process(
        tmp_path, *server, "submit", git_world.scmurl("demo"), *watch
    )
    assert status == 0, out + err
    first = int(out.splitlines()[0].split()[3].rstrip(":"))
    git_world.module("demo", modulemd_text(), date="2031-01-01T00:00:00+0000")
    reuse = ("--rebuild-strategy", "only-changed", "--reuse-from", str(first))
    status, out, err = await rida_in_process(
        tmp_path, *server, "submit", git_world.scmurl("demo"), *reuse, *watch
    )
    assert status == 0, out + err
    second = int(out.splitlines()[0].split()[3].rstrip(":"))

    status, out, err = await rida_in_process(tmp_path, *server, "show", str(second))
    assert status == 0, err
    lines = out.splitlines()
    assert "  rebuild:    only-changed" in lines
    assert f"  reuses:     components of build {first}" in lines
    assert "  components: 4/4 components done, batch 3, 4 reused" in lines
    url = koji_daemon.url(
        f"/module-build-service/2/component-builds/?module_build={first}&per_page=100"
    )
    items = (await (await treq.get(url)).json())["items"]
    old_ids = {item["package"]: item["id"] for item in items}
    for name in ("module-build-macros", "alpha", "beta", "gamma"):
        [row] = [line for line in lines if f" {name} " in line]
        assert row.endswith(
            f" (reused from component {old_ids[name]} of build {first})"
        ), row
