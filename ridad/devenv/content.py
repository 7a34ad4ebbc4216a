"""The files of the demo environment: a modulemd document, SPEC files, a config.

Pure text rendering with no I/O, so tests can read the same values that
``ridad.devenv.environment.prepare`` writes to disk.
"""

from __future__ import annotations

from dataclasses import dataclass

MODULE_NAME = "demo"
BRANCH = "main"
GIT_HOST = "127.0.0.1"
API_LISTEN = "tcp:8080:interface=127.0.0.1"
COMMIT_USER_NAME = "ridad demo"
COMMIT_USER_EMAIL = "demo@ridad.invalid"


@dataclass(frozen=True)
class DemoComponent:
    """One rpm component of the demo module."""

    name: str
    buildorder: int
    summary: str
    rationale: str
    requires: tuple[str, ...] = ()


COMPONENTS: tuple[DemoComponent, ...] = (
    DemoComponent(
        name="demo-lib",
        buildorder=1,
        summary="Shared files of the ridad demo application",
        rationale="Shared files that demo-app requires; built in the first batch.",
    ),
    DemoComponent(
        name="demo-data",
        buildorder=1,
        summary="Data files of the ridad demo application",
        rationale="Data that demo-app requires; built beside demo-lib in the first batch.",
    ),
    DemoComponent(
        name="demo-app",
        buildorder=2,
        summary="The ridad demo application",
        rationale="The application itself; built in the second batch, after what it requires.",
        requires=("demo-lib", "demo-data"),
    ),
)


def modulemd_yaml() -> str:
    """Render the demo module's modulemd v2 stream document.

    The document has no ``name`` or ``stream``: ridad takes them from the
    repository name and the branch.

    :return: YAML text.
    """
    lines = [
        "---",
        "document: modulemd",
        "version: 2",
        "data:",
        "  summary: A demonstration module for ridad's development environment",
        "  description: >-",
        "    Three small noarch packages built in two batches: demo-lib and",
        "    demo-data first, then demo-app, which requires them.",
        "  license:",
        "    module:",
        "      - MIT",
        "  dependencies:",
        "    - buildrequires:",
        "        platform: [f40]",
        "      requires:",
        "        platform: [f40]",
        "  components:",
        "    rpms:",
    ]
    for component in COMPONENTS:
        lines += [
            f"      {component.name}:",
            f"        rationale: {component.rationale}",
            f"        ref: {BRANCH}",
            f"        buildorder: {component.buildorder}",
        ]
    return "\n".join(lines) + "\n"


BROKEN_BRANCH = "broken"


def broken_modulemd_yaml() -> str:
    """The demo modulemd with two mistakes: no summary and a bad buildorder.

    It lives on the ``broken`` branch so a newcomer sees a 422 that says what
    is wrong and where.
    """
    text = modulemd_yaml().replace(
        "  summary: A demonstration module for ridad's development environment\n", ""
    )
    return text.replace("buildorder: 2", "buildorder: second", 1)


def spec_file(component: DemoComponent) -> str:
    """Render a minimal SPEC file that builds offline, with no sources.

    The payload, one text file, is written by ``%install`` itself.

    :return: the SPEC file's text.
    """
    requires = "".join(f"Requires:       {name}\n" for name in component.requires)
    return f"""\
Name:           {component.name}
Version:        1.0
Release:        1%{{?dist}}
Summary:        {component.summary}
License:        MIT
BuildArch:      noarch
{requires}
%description
{component.summary}. Part of the demo module that ridad's development
environment builds; it installs one text file.

%prep

%build

%install
mkdir -p %{{buildroot}}%{{_datadir}}/%{{name}}
echo "%{{name}} %{{version}}-%{{release}}: {component.summary}" \\
    > %{{buildroot}}%{{_datadir}}/%{{name}}/README

%files
%{{_datadir}}/%{{name}}/README

%changelog
* Mon Jan 01 2024 {COMMIT_USER_NAME} <{COMMIT_USER_EMAIL}> - 1.0-1
- First package of the ridad demo module.
"""


def config_yaml(state_dir: str) -> str:
    """Render the commented development configuration.

    :param state_dir: absolute path of the daemon's state directory.
    :return: YAML text.
    """
    base = git_base_url()
    return f"""\
# ridad's development configuration, written once by `make run`
# (python -m ridad.devenv). Edit it freely: it is never rewritten.
# Delete the whole directory to start again from scratch.

# Where the HTTP API listens (a Twisted endpoint string).
listen: "{API_LISTEN}"

database:
  # "embedded": ridad runs a private PostgreSQL cluster under state_dir.
  dsn: "embedded"

# The daemon's own files (the embedded database lives here).
state_dir: "{state_dir}"

scm:
  # Module repositories that may be built: the local git daemon's.
  allowed: ["{base}/modules/"]
  # Where components without a `repository` key come from.
  rpms_default_repository: "{base}/rpms/"
  # Further component repositories allowed (none).
  rpms_allowed: []
  # The ref of components without a `ref` key.
  rpms_default_ref: "{BRANCH}"

# Modules that are base modules (streams like platform:f40).
base_module_names: ["platform"]

api:
  # Largest request body accepted, in bytes.
  max_body_bytes: 1048576
  # true answers writes with 503 Service Unavailable.
  maintenance: false

koji:
  # The embedded build system: kojisim, a Koji hub simulator that make run
  # starts on {KOJI_HOST}:{KOJI_PORT} (its builds take {KOJI_BUILD_SECONDS} s each).
  hub: "{koji_hub_url()}"
  auth: {{method: password, user: {KOJI_USER}, password: {KOJI_PASSWORD}}}
  # The Koji tag each base module stream builds on.
  base_module_tags: {{"platform:f40": "{BASE_TAG}"}}
  arches: [x86_64]
  poll_interval_seconds: 1
"""


KOJI_HOST = "127.0.0.1"
KOJI_PORT = 8099
KOJI_USER = "ridad"
KOJI_PASSWORD = "ridad"
KOJI_BUILD_SECONDS = 2
BASE_TAG = "f40-build"


def koji_hub_url() -> str:
    """The embedded build system's hub URL."""
    return f"http://{KOJI_HOST}:{KOJI_PORT}/kojihub"


def git_base_url(port: int | None = None) -> str:
    """Return the git daemon's base URL, with the port only when not 9418."""
    return f"git://{GIT_HOST}" + ("" if port in (None, 9418) else f":{port}")


def module_scmurl(port: int | None = None) -> str:
    """Return the scmurl that submits the demo module's ``main`` branch."""
    return f"{git_base_url(port)}/modules/{MODULE_NAME}.git?#{BRANCH}"
