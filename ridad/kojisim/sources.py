"""What a build is built from, and the NVR the builder reads from it.

Sources are the SCM URLs Koji's builders accept (``git://``, ``git+http://``,
``git+https://``, ``git+rsync://``, ``git+ssh://`` with ``#<commit>``), plus
``file://`` and ``git+file://`` (kojisim only, for repositories on disk),
plus an uploaded SRPM named by its path under the upload area. The NVR of an
SCM source comes from ``<name>.spec`` at the commit, evaluated by ``rpmspec``
with the build tag's ``%dist``; that of an SRPM from its header.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import koji
from twisted.internet.interfaces import IReactorProcess, IReactorTime

from ridad.kojisim.uploads import upload_path
from ridad.process import ProcessResult, run_process

__all__ = ["NVR", "RpmSourceInspector", "Source", "SourceInspector", "parse_source"]

#: URL prefixes a build may use, and the git URL scheme each fetches with.
SCHEMES = {
    "git://": "git://",
    "git+http://": "http://",
    "git+https://": "https://",
    "git+rsync://": "rsync://",
    "git+ssh://": "ssh://",
    "git+file://": "file://",
    "file://": "file://",
}

_QUERY_FORMAT = "%{name} %{version} %{release}\\n"


@dataclass(frozen=True)
class Source:
    """A parsed build source: an SCM location at a commit, or an uploaded SRPM."""

    url: str
    fetch_url: str | None = None
    commit: str | None = None
    repo_name: str | None = None
    srpm_path: str | None = None


@dataclass(frozen=True)
class NVR:
    """A package name, version and release."""

    name: str
    version: str
    release: str


class SourceInspector(Protocol):
    """Reads the NVR a source would build."""

    async def nvr(self, source: Source, dist: str) -> NVR:
        """The NVR of ``source`` built with ``%dist`` set to ``dist``.

        :raises koji.BuildError: the source or its SPEC cannot be read.
        """


def parse_source(src: str) -> Source:
    """Parse a ``build`` source.

    :raises koji.BuildError: not a source a builder accepts.
    """
    scheme = next((s for s in SCHEMES if src.startswith(s)), None)
    if scheme is None:
        if "://" not in src and src.endswith(".src.rpm") and ".." not in src.split("/"):
            return Source(url=src, srpm_path=src.lstrip("/"))
        raise koji.BuildError(f"Invalid source specification: {src}")
    parts = urlsplit("http://" + src[len(scheme) :])
    if not parts.fragment:
        raise koji.BuildError(
            f"Unable to parse SCM URL: {src} . Could not find the fragment element."
        )
    path = parts.path.rstrip("/")
    if not path:
        raise koji.BuildError(
            f"Unable to parse SCM URL: {src} . Could not find the path element."
        )
    name = os.path.basename(path).removesuffix(".git")
    return Source(
        url=src,
        fetch_url=f"{SCHEMES[scheme]}{parts.netloc}{path}",
        commit=parts.fragment,
        repo_name=name,
    )


class RpmSourceInspector:
    """Reads NVRs with git, ``rpmspec`` and ``rpm``, each with a time limit."""

    def __init__(
        self,
        *,
        reactor: IReactorProcess,
        clock: IReactorTime,
        upload_dir: str,
        timeout_seconds: float = 120.0,
    ) -> None:
        """Run processes on ``reactor``; uploaded SRPMs are under ``upload_dir``."""
        self._reactor = reactor
        self._clock = clock
        self._upload_dir = upload_dir
        self._timeout = timeout_seconds

    async def nvr(self, source: Source, dist: str) -> NVR:
        """The NVR of an SCM source's SPEC, or of an uploaded SRPM.

        :raises koji.BuildError: fetching or evaluating failed.
        """
        if source.srpm_path is not None:
            directory, name = os.path.split(source.srpm_path)
            path = upload_path(self._upload_dir, directory or ".", name)
            if not os.path.isfile(path):
                raise koji.BuildError(f"No such uploaded SRPM: {source.srpm_path}")
            argv = ["rpm", "-qp", "--nosignature", "--queryformat", _QUERY_FORMAT, path]
            return _parse_nvr(await self._run(argv, cwd=None), source.url)
        workdir = tempfile.mkdtemp(prefix="kojisim-src-")
        try:
            spec = await self._fetch_spec(source, workdir)
            argv = ["rpmspec", "-q", "--srpm", "--queryformat", _QUERY_FORMAT]
            argv += ["--define", f"dist {dist}" if dist else "dist %{nil}", spec]
            return _parse_nvr(await self._run(argv, cwd=workdir), source.url)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    async def _fetch_spec(self, source: Source, workdir: str) -> str:
        """Fetch the commit and write ``<name>.spec`` into ``workdir``.

        :raises koji.BuildError: git failed or the SPEC is missing.
        """
        assert source.fetch_url and source.commit and source.repo_name
        git = ["git", "-C", workdir, "-c", "protocol.file.allow=always"]
        output = await self._run(["git", "init", "-q", workdir], cwd=None)
        if output.succeeded:
            fetch = [
                "fetch",
                "-q",
                "--depth",
                "1",
                "--",
                source.fetch_url,
                source.commit,
            ]
            output = await self._run(git + fetch, cwd=None)
        if not output.succeeded:
            detail = output.stderr.decode("utf-8", "replace").strip()
            raise koji.BuildError(f"Error fetching {source.url}: {detail}")
        spec_name = f"{source.repo_name}.spec"
        output = await self._run(git + ["show", f"FETCH_HEAD:{spec_name}"], cwd=None)
        if not output.succeeded:
            raise koji.BuildError(f"No spec file {spec_name} found in {source.url}")
        path = os.path.join(workdir, spec_name)
        with open(path, "wb") as handle:
            handle.write(output.stdout)
        return path

    async def _run(self, argv: list[str], *, cwd: str | None) -> ProcessResult:
        """Run a program found on PATH.

        :raises koji.BuildError: it cannot be started or it timed out.
        """
        executable = shutil.which(argv[0])
        if executable is None:
            raise koji.BuildError(f"{argv[0]} is not installed")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": cwd or tempfile.gettempdir(),
            "LC_ALL": "C",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        output = await run_process(
            reactor=self._reactor,
            clock=self._clock,
            executable=executable,
            args=[executable, *argv[1:]],
            env=env,
            timeout_seconds=self._timeout,
            max_stdout_bytes=MAX_OUTPUT_BYTES,
            path=cwd,
        )
        if output.timed_out:
            raise koji.BuildError(f"{argv[0]} timed out after {self._timeout} seconds")
        return output


MAX_OUTPUT_BYTES = 1 << 20


def _parse_nvr(output: ProcessResult, url: str) -> NVR:
    """The first ``name version release`` line of rpm's output.

    :raises koji.BuildError: rpm failed or printed something else.
    """
    lines = output.stdout.decode("utf-8", "replace").splitlines()
    fields = lines[0].split() if lines else []
    if not output.succeeded or len(fields) != 3:
        detail = output.stderr.decode("utf-8", "replace").strip()
        raise koji.BuildError(f"Could not read the NVR of {url}: {detail}")
    return NVR(*fields)
