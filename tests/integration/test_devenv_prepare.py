"""The developer demo environment (``make run``): the repositories and config
``prepare`` writes, its SPEC files, its git daemon and the curl commands it
prints, with real git and real rpmbuild.

The demo's broker and bus listener are in test_devenv_bus.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import yaml
from twisted.internet.utils import getProcessOutputAndValue

from ridad.config.parse import parse_config
from ridad.devenv.content import COMPONENTS
from ridad.devenv.daemons import start_git_daemon
from ridad.devenv.environment import DemoEnvironment, DemoEnvironmentError, prepare
from ridad.devenv.main import status_command, submit_command
from tests.gitrepos import free_port
from tests.helpers import missing

GIT_TIMEOUT_SECONDS = 30


def git(*args: str) -> str:
    """Run git (ignoring the user's configuration) and return its stdout."""
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    result = subprocess.run(
        ["git", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=GIT_TIMEOUT_SECONDS,
    )
    return result.stdout.strip()


def show(repository: Path, path: str) -> str:
    """Return a file's text on the ``main`` branch of a bare repository."""
    return git("--git-dir", str(repository), "show", f"main:{path}")


def repositories(environment: DemoEnvironment) -> dict[Path, str]:
    """Map every demo repository to the one file its ``main`` branch holds."""
    found = {environment.module_repository: "demo.yaml"}
    for name, repository in environment.component_repositories.items():
        found[repository] = f"{name}.spec"
    return found


@pytest_twisted.ensureDeferred
async def test_prepare_creates_bare_repositories_with_one_file_on_main(
    tmp_path: Path, reactor: Any
) -> None:
    """Each demo repository is bare, has HEAD on main, and main holds its one file."""
    environment = await prepare(tmp_path / "run", reactor)
    assert environment.module_repository == tmp_path / "run/git/modules/demo.git"
    assert sorted(environment.component_repositories) == [
        "demo-app",
        "demo-data",
        "demo-lib",
    ]
    for repository, filename in repositories(environment).items():
        git_dir = ("--git-dir", str(repository))
        assert git(*git_dir, "rev-parse", "--is-bare-repository") == "true"
        assert git(*git_dir, "symbolic-ref", "HEAD") == "refs/heads/main"
        assert git(*git_dir, "ls-tree", "--name-only", "main") == filename
        identity = git(*git_dir, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "main")
        assert (
            identity
            == "ridad demo <demo@ridad.invalid>|ridad demo <demo@ridad.invalid>"
        )
    assert not list(environment.directory.glob("seed-*"))


@pytest_twisted.ensureDeferred
async def test_modulemd_has_three_components_in_two_batches(
    tmp_path: Path, reactor: Any
) -> None:
    """The module's document is modulemd v2 without name or stream, with 3 rpms in 2 batches."""
    environment = await prepare(tmp_path / "run", reactor)
    document = yaml.safe_load(show(environment.module_repository, "demo.yaml"))
    assert document["document"] == "modulemd"
    assert document["version"] == 2
    data = document["data"]
    assert "name" not in data and "stream" not in data
    assert data["summary"] and data["description"]
    assert data["license"] == {"module": ["MIT"]}
    assert data["dependencies"] == [
        {"buildrequires": {"platform": []}, "requires": {"platform": []}}
    ]
    rpms = data["components"]["rpms"]
    batches: dict[int, set[str]] = {}
    for name, component in rpms.items():
        assert component["rationale"]
        assert component["ref"] == "main"
        batches.setdefault(component["buildorder"], set()).add(name)
    assert batches == {1: {"demo-lib", "demo-data"}, 2: {"demo-app"}}


@pytest_twisted.ensureDeferred
async def test_config_holds_the_development_settings(
    tmp_path: Path, reactor: Any
) -> None:
    """ridad.yaml has exactly the development keys, and ridad's parser accepts it."""
    environment = await prepare(tmp_path / "run", reactor)
    text = environment.config_path.read_text()
    assert yaml.safe_load(text) == {
        "listen": "tcp:8080:interface=127.0.0.1",
        "database": {"dsn": "embedded"},
        "state_dir": str(tmp_path / "run" / "state"),
        "scm": {
            "allowed": ["git://127.0.0.1/modules/"],
            "rpms_default_repository": "git://127.0.0.1/rpms/",
            "rpms_allowed": [],
            "rpms_default_ref": "main",
        },
        "base_module_names": ["platform"],
        "api": {"max_body_bytes": 1048576, "maintenance": False},
        "koji": {
            "hub": "http://127.0.0.1:8099/kojihub",
            "auth": {"method": "password", "user": "ridad", "password": "ridad"},
            "base_module_tags": {
                "platform:f40": "f40-build",
                "platform:f41": "f41-build",
            },
            "arches": ["x86_64"],
            "poll_interval_seconds": 1,
        },
        "messaging": {
            "stomp": {"endpoint": "tcp:127.0.0.1:61613"},
            "destination_prefix": "/topic/VirtualTopic.eng.rida.",
            "subscriptions": [{"destination": "/topic/koji.>", "format": "koji"}],
            "outbox_retention_days": 7,
        },
    }
    assert text.lstrip().startswith("#")
    config = parse_config(text)
    assert config.listen == "tcp:8080:interface=127.0.0.1"
    assert config.messaging is not None
    assert config.messaging.stomp.endpoint == "tcp:127.0.0.1:61613"
    assert [(s.destination, s.format) for s in config.messaging.subscriptions] == [
        ("/topic/koji.>", "koji")
    ]
    assert (environment.api_url, environment.scmurl) == (
        "http://127.0.0.1:8080",
        "git://127.0.0.1/modules/demo.git?#main",
    )


@pytest_twisted.ensureDeferred
async def test_preparing_again_reuses_everything_and_keeps_config_edits(
    tmp_path: Path, reactor: Any
) -> None:
    """A second prepare rewrites neither the config nor any repository."""
    first = await prepare(tmp_path / "run", reactor)
    edited = first.config_path.read_text().replace(
        "maintenance: false", "maintenance: true"
    )
    first.config_path.write_text(edited)
    heads = {
        r: git("--git-dir", str(r), "rev-parse", "main") for r in repositories(first)
    }

    second = await prepare(tmp_path / "run", reactor)

    assert second == first
    assert second.config_path.read_text() == edited
    assert {r: git("--git-dir", str(r), "rev-parse", "main") for r in heads} == heads


@pytest_twisted.ensureDeferred
async def test_prepare_redoes_a_first_run_interrupted_before_the_config(
    tmp_path: Path, reactor: Any
) -> None:
    """Leftover repositories without ridad.yaml are replaced by a complete set."""
    leftover = tmp_path / "run" / "git" / "modules" / "demo.git"
    leftover.mkdir(parents=True)
    (leftover / "junk").write_text("interrupted")

    environment = await prepare(tmp_path / "run", reactor)

    assert not (leftover / "junk").exists()
    assert "document: modulemd" in show(environment.module_repository, "demo.yaml")
    assert environment.config_path.exists()


@pytest_twisted.ensureDeferred
async def test_spec_files_build_with_rpmbuild(tmp_path: Path, reactor: Any) -> None:
    """Each SPEC file makes an SRPM with ``rpmbuild -bs --nodeps`` and a noarch rpm with -bb."""
    rpmbuild = shutil.which("rpmbuild")
    if rpmbuild is None:
        missing("rpmbuild is not installed (apt-get install -y rpm)")
    environment = await prepare(tmp_path / "run", reactor)
    topdir = tmp_path / "rpmbuild"
    dist = ".module+f40+1+1a2b3c4d"
    for name, repository in environment.component_repositories.items():
        spec = tmp_path / f"{name}.spec"
        spec.write_text(show(repository, f"{name}.spec"))
        for mode in ("-bs", "-bb"):
            args = [mode, "--nodeps", "--define", f"_topdir {topdir}"]
            args += ["--define", f"dist {dist}", str(spec)]
            running = getProcessOutputAndValue(
                rpmbuild, args, env=dict(os.environ), reactor=reactor
            )
            _, err, code = await running.addTimeout(120, reactor)
            assert code == 0, err.decode()
        assert (topdir / f"SRPMS/{name}-1.0-1{dist}.src.rpm").exists()
        assert (topdir / f"RPMS/noarch/{name}-1.0-1{dist}.noarch.rpm").exists()
    assert len(environment.component_repositories) == len(COMPONENTS)


@pytest_twisted.ensureDeferred
async def test_git_daemon_serves_the_module_repository(
    tmp_path: Path, reactor: Any
) -> None:
    """git daemon on a free port answers ls-remote of the module with main's commit."""
    environment = await prepare(tmp_path / "run", reactor)
    port = free_port()
    daemon = await start_git_daemon(reactor, environment, port=port)
    try:
        refs = git("ls-remote", f"git://127.0.0.1:{port}/modules/demo.git")
        component = git(
            "ls-remote", f"git://127.0.0.1:{port}/rpms/demo-app.git", "main"
        )
    finally:
        await daemon.stop()
    head = git("--git-dir", str(environment.module_repository), "rev-parse", "main")
    assert f"{head}\trefs/heads/main" in refs.splitlines()
    assert component.endswith("\trefs/heads/main")
    assert daemon.status is not None


@pytest_twisted.ensureDeferred
async def test_git_daemon_on_a_busy_port_fails_naming_the_port(
    tmp_path: Path, reactor: Any
) -> None:
    """Starting git daemon on a port in use fails with a message naming that port."""
    environment = await prepare(tmp_path / "run", reactor)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(DemoEnvironmentError) as raised:
            await start_git_daemon(reactor, environment, port=port)
    assert f"port {port} on 127.0.0.1 is already in use" in raised.value.message
    assert "make run" in raised.value.message


@pytest_twisted.ensureDeferred
async def test_curl_commands_submit_and_show_the_demo_build(
    tmp_path: Path, reactor: Any
) -> None:
    """The printed curl commands POST the demo scmurl and list the demo's builds."""
    environment = await prepare(tmp_path / "run", reactor)
    assert submit_command(environment) == (
        "curl -i -X POST -H 'Content-Type: application/json'"
        """ -d '{"scmurl": "git://127.0.0.1/modules/demo.git?#main"}'"""
        " http://127.0.0.1:8080/rida/module-builds/"
    )
    assert status_command(environment) == (
        "curl -s 'http://127.0.0.1:8080/rida/module-builds/?name=demo'"
    )
