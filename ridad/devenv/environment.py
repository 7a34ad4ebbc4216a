"""The demo environment's state directory: git repositories and a config.

``prepare`` creates the directory once and afterwards only reads it back, so
a developer's edits to ``ridad.yaml`` survive every later ``make run``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from twisted.internet.defer import TimeoutError as DeferredTimeoutError
from twisted.internet.utils import getProcessOutputAndValue
from twisted.logger import Logger

from ridad.devenv.content import (
    API_LISTEN,
    BRANCH,
    BROKEN_BRANCH,
    COMMIT_USER_EMAIL,
    COMMIT_USER_NAME,
    COMPONENTS,
    MODULE_NAME,
    broken_modulemd_yaml,
    config_yaml,
    module_scmurl,
    modulemd_yaml,
    spec_file,
)
from ridad.errors import RidadError

log = Logger()

GIT_TIMEOUT_SECONDS = 60.0

#: A reactor providing IReactorProcess and IReactorTime (the one ``react`` passes).
ProcessReactor = Any


class DemoEnvironmentError(RidadError):
    """The demo environment cannot be prepared or run; the message says what to do."""


@dataclass(frozen=True)
class DemoEnvironment:
    """The paths and addresses of a prepared demo environment."""

    directory: Path
    config_path: Path
    state_dir: Path
    git_root: Path
    module_repository: Path
    component_repositories: Mapping[str, Path]
    scmurl: str
    api_host: str
    api_port: int

    @property
    def api_url(self) -> str:
        """The base URL of ridad's HTTP API, without a trailing slash."""
        return f"http://{self.api_host}:{self.api_port}"


async def prepare(directory: Path | str, reactor: ProcessReactor) -> DemoEnvironment:
    """Create the demo state directory unless it exists, and describe it.

    The directory counts as prepared once ``ridad.yaml`` exists; that file is
    written last, so an interrupted first run is redone from scratch.

    :return: the environment, read back from the directory.
    :raises DemoEnvironmentError: git failed, or ``ridad.yaml`` is invalid.
    """
    directory = Path(directory).absolute()
    config_path = directory / "ridad.yaml"
    if not config_path.exists():
        log.info("Creating the demo environment in {directory}", directory=directory)
        await _create(directory, reactor)
    return load_environment(directory)


def load_environment(directory: Path) -> DemoEnvironment:
    """Describe an already prepared demo state directory.

    Only ``listen`` and ``state_dir`` are read here; the daemon checks the rest.

    :return: the environment, with the API address read from ``ridad.yaml``.
    :raises DemoEnvironmentError: ``ridad.yaml`` is missing or unreadable.
    """
    config_path = directory / "ridad.yaml"
    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        listen = config.get("listen", API_LISTEN)
        state_dir = Path(config["state_dir"])
        api_host, api_port = api_address(listen)
    except (OSError, yaml.YAMLError, AttributeError, KeyError, TypeError) as e:
        raise DemoEnvironmentError(
            f"{config_path} cannot be read ({e!r}). Fix it, or delete {directory}"
            " to start again."
        ) from e
    git_root = directory / "git"
    return DemoEnvironment(
        directory=directory,
        config_path=config_path,
        state_dir=state_dir,
        git_root=git_root,
        module_repository=git_root / "modules" / f"{MODULE_NAME}.git",
        component_repositories={
            c.name: git_root / "rpms" / f"{c.name}.git" for c in COMPONENTS
        },
        scmurl=module_scmurl(),
        api_host=api_host,
        api_port=api_port,
    )


def api_address(listen: object) -> tuple[str, int]:
    """Turn a ``tcp:`` endpoint string into the host and port to connect to.

    :return: the interface (loopback when listening on all of them) and port.
    :raises DemoEnvironmentError: not a ``tcp:`` endpoint with a port.
    """
    kind, *parts = listen.split(":") if isinstance(listen, str) else [""]
    named = dict(p.split("=", 1) for p in parts if "=" in p)
    positional = [p for p in parts if "=" not in p]
    port_text = named.get("port") or (positional[0] if positional else "")
    if kind != "tcp" or not port_text.isdigit():
        raise DemoEnvironmentError(
            f"listen {listen!r} in ridad.yaml: the demo environment needs a"
            " tcp:PORT endpoint"
        )
    host = named.get("interface", "")
    return (host if host not in ("", "0.0.0.0") else "127.0.0.1"), int(port_text)


async def _create(directory: Path, reactor: ProcessReactor) -> None:
    """Write the git repositories, then the config (last: it marks completion)."""
    directory.mkdir(parents=True, exist_ok=True)
    git_root = directory / "git"
    if git_root.exists():
        shutil.rmtree(git_root)  # left behind by an interrupted first run
    seed = Path(tempfile.mkdtemp(prefix="seed-", dir=directory))
    try:
        await _publish(
            reactor,
            git_root / "modules" / f"{MODULE_NAME}.git",
            seed / MODULE_NAME,
            {f"{MODULE_NAME}.yaml": modulemd_yaml()},
            f"Add the {MODULE_NAME} module",
        )
        await _add_branch(
            reactor,
            git_root / "modules" / f"{MODULE_NAME}.git",
            seed / MODULE_NAME,
            BROKEN_BRANCH,
            {f"{MODULE_NAME}.yaml": broken_modulemd_yaml()},
            "Break the modulemd, to show how ridad reports it",
        )
        for component in COMPONENTS:
            await _publish(
                reactor,
                git_root / "rpms" / f"{component.name}.git",
                seed / component.name,
                {f"{component.name}.spec": spec_file(component)},
                f"Add {component.name} 1.0",
            )
    finally:
        shutil.rmtree(seed, ignore_errors=True)
    config_path = directory / "ridad.yaml"
    partial = config_path.with_suffix(".yaml.partial")
    partial.write_text(config_yaml(str(directory / "state")), encoding="utf-8")
    partial.replace(config_path)


async def _publish(
    reactor: ProcessReactor,
    bare: Path,
    work: Path,
    files: Mapping[str, str],
    message: str,
) -> None:
    """Create a bare repository whose ``main`` branch holds one commit of files."""
    await run_git(
        reactor, "init", "--quiet", "--bare", f"--initial-branch={BRANCH}", str(bare)
    )
    await run_git(reactor, "init", "--quiet", f"--initial-branch={BRANCH}", str(work))
    await _commit_and_push(reactor, bare, work, BRANCH, files, message)


async def _add_branch(
    reactor: ProcessReactor,
    bare: Path,
    work: Path,
    branch: str,
    files: Mapping[str, str],
    message: str,
) -> None:
    """Commit ``files`` on a new ``branch`` of ``work`` and push it to ``bare``."""
    await run_git(reactor, "-C", str(work), "checkout", "--quiet", "-b", branch)
    await _commit_and_push(reactor, bare, work, branch, files, message)


async def _commit_and_push(
    reactor: ProcessReactor,
    bare: Path,
    work: Path,
    branch: str,
    files: Mapping[str, str],
    message: str,
) -> None:
    """Write ``files`` in ``work``, commit them and push ``branch`` to ``bare``."""
    for name, text in files.items():
        (work / name).write_text(text, encoding="utf-8")
    await run_git(reactor, "-C", str(work), "add", "--", *files)
    await run_git(
        reactor,
        "-C",
        str(work),
        "-c",
        f"user.name={COMMIT_USER_NAME}",
        "-c",
        f"user.email={COMMIT_USER_EMAIL}",
        "commit",
        "--quiet",
        "--message",
        message,
    )
    await run_git(reactor, "-C", str(work), "push", "--quiet", str(bare), branch)


async def run_git(reactor: ProcessReactor, *args: str) -> bytes:
    """Run one git command, with a time limit and a clean environment.

    :return: its standard output.
    :raises DemoEnvironmentError: git is missing, failed, or took too long.
    """
    d = getProcessOutputAndValue(
        executable("git", "git"), args, env=git_environment(), reactor=reactor
    )
    d.addTimeout(GIT_TIMEOUT_SECONDS, reactor)
    try:
        out, err, code = await d
    except DeferredTimeoutError:
        raise DemoEnvironmentError(
            f"git {' '.join(args)} took longer than {GIT_TIMEOUT_SECONDS:g} s"
        ) from None
    if code != 0:
        raise DemoEnvironmentError(
            f"git {' '.join(args)} failed with status {code}: "
            + err.decode("utf-8", "replace").strip()
        )
    return bytes(out)


def git_environment() -> dict[str, str]:
    """Return this process's environment made safe for scripted git.

    Inherited ``GIT_*`` variables (``GIT_DIR``, ``GIT_AUTHOR_DATE``, ...) are
    dropped, and the user's and the system's git configuration are ignored, so
    settings such as ``commit.gpgsign`` cannot break the demo repositories.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
    )
    return env


def executable(name: str, package: str) -> str:
    """Find a program on ``PATH``.

    :return: its absolute path.
    :raises DemoEnvironmentError: it is not installed.
    """
    found = shutil.which(name)
    if found is None:
        raise DemoEnvironmentError(
            f"{name} is not installed; install it (apt-get install -y {package})"
        )
    return found
