"""What the GitClient tests against real git share: a bare repository with
real commits, tags and branches, and helpers to address it on the test's git
daemon and to read GitClient's errors. The fixtures that build and serve the
repository are in conftest.py.

Set-up uses subprocess, which only tests may do.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.threads import deferToThreadPool

from ridad.errors import Unprocessable
from ridad.scm.url import RepoLocation, parse_repository

GIT = shutil.which("git")


@dataclass(frozen=True)
class Repositories:
    """The served directory and the commits of modules/foo.git."""

    root: Path
    first: str
    main: str
    other: str
    tag_object: str


def run_git(*args: str, cwd: Path) -> str:
    """Run git for test set-up and return its stripped stdout."""
    env = {
        "HOME": str(cwd),
        "PATH": os.defpath,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.org",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.org",
        "GIT_COMMITTER_DATE": "2024-01-02T03:04:05Z",
        "GIT_AUTHOR_DATE": "2024-01-02T03:04:05Z",
    }
    done = subprocess.run(
        [GIT or "git", *args], cwd=cwd, env=env, check=True, capture_output=True
    )
    return done.stdout.decode().strip()


def accepts(port: int) -> bool:
    """Whether something accepts TCP connections on the loopback port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill a process started in its own session, with all its children."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def reactor_threads(reactor: Any) -> Any:
    """A run_blocking that uses the reactor's thread pool, as production does."""
    return lambda f: deferToThreadPool(reactor, reactor.getThreadPool(), f)


def daemon_repo(port: int, name: str = "foo.git") -> RepoLocation:
    """The git:// location of a repository on the test daemon."""
    return parse_repository(f"git://127.0.0.1:{port}/modules/{name}")


async def unprocessable(awaitable: Any) -> Unprocessable:
    """Await and return the Unprocessable it must raise."""
    with pytest.raises(Unprocessable) as caught:
        await awaitable
    return caught.value
