"""Real git repositories and a real ``git daemon`` for tests (test code may
block: it runs before and after the reactor does its work)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test Packager",
    "GIT_AUTHOR_EMAIL": "packager@example.org",
    "GIT_COMMITTER_NAME": "Test Packager",
    "GIT_COMMITTER_EMAIL": "packager@example.org",
}


def git(
    *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> str:
    """Run git and return its stdout; fail loudly."""
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV, "HOME": str(cwd or "/tmp"), **(env or {})},
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def commit_files(
    bare: Path,
    files: Mapping[str, str],
    *,
    branch: str = "main",
    message: str = "commit",
    date: str | None = None,
) -> str:
    """Commit ``files`` on ``branch`` of the bare repository (created if
    missing); return the commit hash."""
    if not bare.exists():
        bare.parent.mkdir(parents=True, exist_ok=True)
        git("init", "-q", "--bare", "-b", branch, str(bare))
    with tempfile.TemporaryDirectory() as work:
        work_path = Path(work)
        git("init", "-q", "-b", branch, str(work_path))
        git("remote", "add", "origin", str(bare), cwd=work_path)
        heads = git("ls-remote", "--heads", str(bare), branch, cwd=work_path)
        if heads:
            git("fetch", "-q", "origin", branch, cwd=work_path)
            git("checkout", "-q", "-B", branch, f"origin/{branch}", cwd=work_path)
        for name, content in files.items():
            target = work_path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        git("add", "-A", cwd=work_path)
        env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else {}
        git("commit", "-q", "--allow-empty", "-m", message, cwd=work_path, env=env)
        git("push", "-q", "origin", f"HEAD:refs/heads/{branch}", cwd=work_path)
        return git("rev-parse", "HEAD", cwd=work_path)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class GitServer:
    """A running ``git daemon`` serving ``base`` on 127.0.0.1."""

    base: Path
    port: int
    process: subprocess.Popen[bytes]

    def url(self, path: str) -> str:
        """The git:// URL of ``path`` under the base directory."""
        return f"git://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def stop(self) -> None:
        """Stop the daemon and the git-daemon process it runs."""
        kill_group(self.process)


def start_git_daemon(base: Path, attempts: int = 5) -> GitServer:
    """Start ``git daemon`` on a free port, retrying on a collision."""
    for _ in range(attempts):
        port = free_port()
        process = subprocess.Popen(
            [
                "git",
                "daemon",
                "--export-all",
                f"--base-path={base}",
                "--listen=127.0.0.1",
                f"--port={port}",
                "--reuseaddr",
                str(base),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return GitServer(base=base, port=port, process=process)
            except OSError:
                time.sleep(0.05)
        kill_group(process)
    raise RuntimeError("git daemon did not start")


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill a process started in its own session, and its children."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def remove(path: Path) -> None:
    """Remove a directory tree if it exists."""
    shutil.rmtree(path, ignore_errors=True)
