"""Support for integration tests: modulemd texts, per-test git corners and
starting the real ridad service tree built by ``makeService``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import treq
import yaml

from ridad.tap import Options, makeService
from tests.gitrepos import GitServer, commit_files

#: The secret of the GitHub webhook every test daemon takes deliveries from.
WEBHOOK_SECRET = "integration webhook secret"

SPEC_TEMPLATE = """Name:           {name}
Version:        1.0
Release:        1%{{?dist}}
Summary:        Test package {name}
License:        MIT
BuildArch:      noarch

%description
Test package {name}.

%install
mkdir -p %{{buildroot}}/usr/share/{name}
echo {name} > %{{buildroot}}/usr/share/{name}/README

%files
/usr/share/{name}/README

%changelog
* Fri Nov 27 2026 Test Packager <packager@example.org> - 1.0-1
- First build
"""


def modulemd_text(
    components: dict[str, dict[str, Any]] | None = None,
    *,
    buildrequires: dict[str, list[str]] | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """A modulemd v2 stream document with the given rpm components (``{}``:
    no components section, a module of metadata only)."""
    if components is None:
        components = {
            "alpha": {"rationale": "first", "buildorder": 1},
            "beta": {"rationale": "first too", "buildorder": 1},
            "gamma": {"rationale": "second", "buildorder": 2},
        }
    data: dict[str, Any] = {
        "summary": "A test module",
        "description": "A module for tests.",
        "license": {"module": ["MIT"]},
        "dependencies": [
            {
                "buildrequires": buildrequires or {"platform": ["f40"]},
                "requires": {"platform": ["f40"]},
            }
        ],
    }
    if components:
        data["components"] = {"rpms": components}
    data.update(extra or {})
    return yaml.safe_dump({"document": "modulemd", "version": 2, "data": data})


@dataclass
class GitWorld:
    """A private corner of the session's git server for one test."""

    server: GitServer
    prefix: str
    root: Path
    commits: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        """git:// URL of a repository in this corner."""
        return self.server.url(f"{self.prefix}/{path}")

    def module(
        self, name: str, text: str, *, branch: str = "main", date: str | None = None
    ) -> str:
        """Commit ``<name>.yaml`` to ``modules/<name>.git``; return the commit."""
        return commit_files(
            self.root / "modules" / f"{name}.git",
            {f"{name}.yaml": text},
            branch=branch,
            date=date,
        )

    def rpm(
        self,
        name: str,
        *,
        branch: str = "main",
        spec: bool = True,
        spec_text: str | None = None,
    ) -> str:
        """Commit a component repository ``rpms/<name>.git`` (its SPEC file
        ``spec_text``, by default a noarch package); return the commit."""
        text = spec_text or SPEC_TEMPLATE.format(name=name)
        files = {f"{name}.spec": text} if spec else {"README": "no spec here\n"}
        return commit_files(self.root / "rpms" / f"{name}.git", files, branch=branch)

    def scmurl(self, name: str, ref: str = "main") -> str:
        """The scmurl submitting module ``name`` at ``ref``."""
        return f"{self.url(f'modules/{name}.git')}?#{ref}"


@dataclass
class RunningDaemon:
    """A started ridad service tree and where its API listens."""

    service: Any
    base_url: str
    config_path: Path

    def url(self, path: str) -> str:
        """Absolute URL of an API path."""
        return self.base_url + path


def daemon_config(
    dsn: str, world: GitWorld, state_dir: Path, **overrides: Any
) -> dict[str, Any]:
    """A configuration for a test daemon."""
    config: dict[str, Any] = {
        "listen": "tcp:0:interface=127.0.0.1",
        "database": {"dsn": dsn},
        "state_dir": str(state_dir),
        "scm": {
            "allowed": [world.url("modules/")],
            "rpms_default_repository": world.url("rpms/"),
            "rpms_allowed": [],
            "rpms_default_ref": "main",
            "git_timeout_seconds": 30,
        },
        "base_module_names": ["platform"],
        "api": {"max_body_bytes": 65536, "maintenance": False},
        "webhooks": {
            "branches": ["main"],
            "github": {"secret": WEBHOOK_SECRET, "identities": {"octocat": "alice"}},
        },
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    return config


async def start_daemon(config: dict[str, Any], path: Path) -> RunningDaemon:
    """Write ``config``, build the tree with makeService and start it."""
    path.write_text(yaml.safe_dump(config))
    options = Options()
    options.parseOptions(["--config", str(path)])
    service = makeService(options)
    service.startService()
    await service._started
    http = service.getServiceNamed("http")
    port = await http.listening
    return RunningDaemon(
        service=service,
        base_url=f"http://127.0.0.1:{port.getHost().port}",
        config_path=path,
    )


async def json_of(response: Any) -> Any:
    """The JSON body of a treq response, after checking its content type."""
    assert response.headers.getRawHeaders(b"content-type") == [b"application/json"]
    return await response.json()


def koji_config(hub_url: str, **overrides: Any) -> dict[str, Any]:
    """The ``koji`` section of a test daemon talking to kojisim."""
    section: dict[str, Any] = {
        "hub": hub_url,
        "auth": {"method": "password", "user": "ridad", "password": "secret"},
        "base_module_tags": {"platform:f40": "f40-build"},
        "arches": ["x86_64"],
        "build_groups": {"build": ["bash", "rpm-build"], "srpm-build": ["bash"]},
        "poll_interval_seconds": 0.1,
        "give_up_after_seconds": 120,
    }
    section.update(overrides)
    return section


async def wait_for_state(
    daemon: RunningDaemon,
    module_build_id: int,
    states: tuple[str, ...],
    timeout_seconds: float = 90,
) -> dict[str, Any]:
    """Poll ``GET /rida/module-builds/N`` until its state is one of ``states``."""
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    deadline = reactor.seconds() + timeout_seconds
    while True:
        response = await treq.get(daemon.url(f"/rida/module-builds/{module_build_id}"))
        body = await response.json()
        if body.get("state") in states:
            return body
        if reactor.seconds() > deadline:
            raise AssertionError(f"build stayed {body.get('state')}: {body}")
        await deferLater(reactor, 0.1, lambda: None)
