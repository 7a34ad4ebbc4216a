"""What a build is built from, and what the builder reads from it.

Sources are the SCM URLs Koji's builders accept (``git://``, ``git+http://``,
``git+https://``, ``git+rsync://``, ``git+ssh://`` with ``#<commit>``), plus
``file://`` and ``git+file://`` (kojisim only, for repositories on disk),
plus an uploaded SRPM named by its path under the upload area. What an SCM
source builds comes from ``<name>.spec`` at the commit, evaluated by
``rpmspec`` with the build tag's ``%dist``; that of an SRPM from its header
and the SPEC inside it (L{ridad.kojisim.specs}).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from typing import Protocol
from urllib.parse import urlsplit

import koji
from twisted.internet.interfaces import IReactorProcess, IReactorTime

from ridad.kojisim.specs import (
    BINARY_QUERY,
    NVR,
    SRPM_QUERY,
    BuildSpec,
    Package,
    parse_binaries,
    parse_srpm,
    spec_from_cpio,
)
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


@dataclass(frozen=True)
class Source:
    """A parsed build source: an SCM location at a commit, or an uploaded SRPM."""

    url: str
    fetch_url: str | None = None
    commit: str | None = None
    repo_name: str | None = None
    srpm_path: str | None = None


class SourceInspector(Protocol):
    """Reads what a source would build: its NVR, or a whole L{BuildSpec}."""

    async def nvr(self, source: Source, dist: str) -> NVR:
        """The NVR (or L{BuildSpec}) of ``source`` built with ``%dist`` set
        to ``dist``.

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

    async def nvr(self, source: Source, dist: str) -> BuildSpec:
        """What an SCM source's SPEC, or an uploaded SRPM, builds.

        :raises koji.BuildError: fetching or evaluating failed.
        """
        if source.srpm_path is not None:
            return await self._srpm_spec(source, dist)
        workdir = tempfile.mkdtemp(prefix="kojisim-src-")
        try:
            spec, commit = await self._fetch_spec(source, workdir)
            argv = ["rpmspec", "-q", "--srpm", "--queryformat", SRPM_QUERY]
            output = await self._run(argv + _dist(dist) + [spec], cwd=workdir)
            found = parse_srpm(_read(output, source.url), source.url)
            packages = parse_binaries(await self._binaries(spec, dist, workdir))
            return replace(
                found, packages=packages, source=checked_out_source(source, commit)
            )
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    async def _srpm_spec(self, source: Source, dist: str) -> BuildSpec:
        """An uploaded SRPM: its header, and the binaries of the SPEC in it
        (one noarch-or-not package of its own name if that cannot be read).

        :raises koji.BuildError: no such SRPM, or rpm cannot read it.
        """
        assert source.srpm_path is not None
        directory, name = os.path.split(source.srpm_path)
        path = upload_path(self._upload_dir, directory or ".", name)
        if not os.path.isfile(path):
            raise koji.BuildError(f"No such uploaded SRPM: {source.srpm_path}")
        argv = ["rpm", "-qp", "--nosignature", "--queryformat", SRPM_QUERY, path]
        output = await self._run(argv, cwd=None)
        found = parse_srpm(_read(output, source.url), source.url)
        packages = ()
        workdir = tempfile.mkdtemp(prefix="kojisim-srpm-")
        try:
            archive = await self._run(["rpm2cpio", path], cwd=workdir)
            spec = spec_from_cpio(archive.stdout) if archive.succeeded else None
            if spec is not None:
                spec_path = os.path.join(workdir, f"{found.name}.spec")
                with open(spec_path, "wb") as handle:
                    handle.write(spec)
                packages = parse_binaries(
                    await self._binaries(spec_path, dist, workdir)
                )
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        noarch = found.buildarchs == ("noarch",)
        return replace(
            found, packages=packages or (Package(found.name, found.license, noarch),)
        )

    async def _binaries(self, spec: str, dist: str, workdir: str) -> str:
        """``rpmspec --builtrpms`` of a SPEC: one line per binary package.

        :raises koji.BuildError: rpmspec failed.
        """
        argv = ["rpmspec", "-q", "--builtrpms", "--queryformat", BINARY_QUERY]
        output = await self._run(argv + _dist(dist) + [spec], cwd=workdir)
        return _read(output, os.path.basename(spec))

    async def _fetch_spec(self, source: Source, workdir: str) -> tuple[str, str]:
        """Fetch the commit and write ``<name>.spec`` into ``workdir``; answer
        its path and the full commit hash.

        :raises koji.BuildError: git failed or the SPEC is missing.
        """
        assert source.fetch_url and source.commit and source.repo_name
        git = ["git", "-C", workdir, "-c", "protocol.file.allow=always"]
        output = await self._run(["git", "init", "-q", workdir], cwd=None)
        if output.succeeded:
            fetch = ["fetch", "-q", "--depth", "1", "--"]
            output = await self._run(
                git + fetch + [source.fetch_url, source.commit], cwd=None
            )
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
        commit = await self._run(git + ["rev-parse", "FETCH_HEAD"], cwd=None)
        return path, commit.stdout.decode().strip() or source.commit

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


def _read(output: ProcessResult, what: str) -> str:
    """A query's stdout as text.

    :raises koji.BuildError: the query failed.
    """
    if not output.succeeded:
        detail = output.stderr.decode("utf-8", "replace").strip()
        raise koji.BuildError(f"Could not read the NVR of {what}: {detail}")
    return output.stdout.decode("utf-8", "replace")


def _dist(dist: str) -> list[str]:
    """The ``--define`` arguments that set ``%dist`` (to nothing when empty)."""
    return ["--define", f"dist {dist}" if dist else "dist %{nil}"]


def checked_out_source(source: Source, commit: str) -> str:
    """A build's ``source`` as a builder reports it after the checkout: the
    URL's scheme, host, path and query with the full commit as the fragment
    (``git+https://host/rpms/x.git#<40 hex>``; kojid's ``SCM.get_source``)."""
    scheme, rest = source.url.split("://", 1)
    parts = urlsplit("http://" + rest)
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{parts.netloc}{parts.path}{query}#{commit}"
