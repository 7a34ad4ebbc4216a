"""What a failing build leaves in its task's output: the builder's logs.

kojisim's builder runs a build inside the ``build`` task itself, as the
recorded hub's build host did (no ``buildArch`` subtask, recording 129), and
a failed build leaves that host's four logs, named in the order the hub
listed them (130): ``build.log``, ``srpm.log``, ``root.log`` and
``checkout.log`` (none for an uploaded SRPM). Each log is a list of ``$``
command lines with their output and ``[exit status N]``, as the recorded
host wrote them (132). A package in ``fail_packages`` fails in rpmbuild's
``%build``, so ``build.log`` ends with the error and ``RPM build errors:``;
one in ``fail_buildroot_packages`` cannot have its build dependencies
installed, so ``root.log`` ends with the package manager's refusal and
there is no ``build.log``. The fault says which log to read, as kojid's
does (mock's exit status 1 for the build, 30 for the buildroot).

Names that the real host made at random (its work directory, rpmbuild's
script files) are derived from the task id, so the logs of a test are the
same on every run. ``BuildOutputs`` is the seam: a test can make the builder
write other logs (the recorded ones) and fail with another fault.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from ridad.kojisim.sources import NVR, Source

__all__ = [
    "BUILD",
    "BUILDROOT",
    "BUILDROOT_FAILURE",
    "MOCK_FAILURE",
    "BuildJob",
    "BuildOutputs",
    "FailedBuild",
    "SimulatedOutputs",
]

#: How a build fails: in rpmbuild (``build``), or installing its buildroot.
BUILD = "build"
BUILDROOT = "buildroot"

_FAULT = (
    "error building package (arch {arch}), mock exited with status {status};"
    " see {log} for more information"
)
#: The fault string of a build whose package is in ``fail_packages``.
MOCK_FAILURE = _FAULT.format(arch="noarch", status=1, log="build.log")
#: The fault string of a build whose package is in ``fail_buildroot_packages``.
BUILDROOT_FAILURE = _FAULT.format(arch="noarch", status=30, log="root.log")

#: What the simulated build needs and does not find.
MISSING = "pkgconfig(frobnicate) >= 2.0"
_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_TOP = "/builddir/build"


#: What the simulated configure script checks before it fails.
_CONFIGURE_CHECKS = (
    "for gcc... gcc",
    "whether the C compiler works... yes",
    "for C compiler default output file name... a.out",
    "for suffix of executables... ",
    "whether we are cross compiling... no",
    "for suffix of object files... o",
    "whether the compiler supports GNU C... yes",
    "whether gcc accepts -g... yes",
    "for stdio.h... yes",
    "for stdlib.h... yes",
    "for string.h... yes",
    "for inttypes.h... yes",
    "for stdint.h... yes",
    "for pkg-config... /usr/bin/pkg-config",
    "pkg-config is at least version 0.9.0... yes",
    "for frobnicate >= 2.0... no",
)


@dataclass(frozen=True)
class BuildJob:
    """The build a task ran: its task, what it built and where."""

    task_id: int
    nvr: NVR
    source: Source
    build_tag: str
    dist: str
    arch: str = "noarch"

    @property
    def nvr_text(self) -> str:
        """``name-version-release``."""
        return f"{self.nvr.name}-{self.nvr.version}-{self.nvr.release}"


@dataclass(frozen=True)
class FailedBuild:
    """How a build failed: the task's fault string and its output files."""

    fault: str
    files: tuple[tuple[str, bytes], ...]


class BuildOutputs(Protocol):
    """Writes what a failed build leaves behind."""

    def failed(self, job: BuildJob, kind: str) -> FailedBuild:
        """The fault and output files of ``job`` failing ``kind`` (L{BUILD}
        or L{BUILDROOT})."""


class SimulatedOutputs:
    """The logs kojisim's build host writes (see the module docstring)."""

    def failed(self, job: BuildJob, kind: str) -> FailedBuild:
        """The fault and the logs, in the order the hub lists them."""
        checkout = () if job.source.srpm_path else (("checkout.log", _checkout(job)),)
        if kind == BUILDROOT:
            files = (("srpm.log", _srpm(job)), ("root.log", _root(job, failed=True)))
            return FailedBuild(BUILDROOT_FAILURE, files + checkout)
        files = (
            ("build.log", _build(job)),
            ("srpm.log", _srpm(job)),
            ("root.log", _root(job, failed=False)),
        )
        return FailedBuild(MOCK_FAILURE, files + checkout)


def _token(job: BuildJob, salt: str, length: int) -> str:
    """A random-looking name part, the same for the same task."""
    digest = hashlib.sha256(f"{job.task_id}:{salt}".encode()).digest()
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:length])


def _text(lines: list[str]) -> bytes:
    """Lines as a log file's bytes."""
    return "".join(f"{line}\n" for line in lines).encode()


def _dist(job: BuildJob) -> str:
    return f"--define 'dist {job.dist}'" if job.dist else "--define 'dist %{nil}'"


def _checkout(job: BuildJob) -> bytes:
    directory = f"/builddir/checkout-{_token(job, 'checkout', 8)}/{job.nvr.name}"
    commit = job.source.commit or ""
    return _text(
        [
            f"$ git clone -n {job.source.fetch_url} {directory}",
            f"Cloning into '{directory}'...",
            "[exit status 0]",
            f"$ git -C {directory} reset --hard {commit}",
            f"HEAD is now at {commit[:7]}",
            "[exit status 0]",
        ]
    )


def _srpm(job: BuildJob) -> bytes:
    spec = f"{_TOP}/SPECS/{job.nvr.name}.spec"
    return _text(
        [
            f"$ rpmbuild -bs {_dist(job)} --define '_topdir {_TOP}' {spec}",
            f"Wrote: {_TOP}/SRPMS/{job.nvr_text}.src.rpm",
            "[exit status 0]",
        ]
    )


def _root(job: BuildJob, *, failed: bool) -> bytes:
    root = f"/var/lib/mock/{job.build_tag}-{job.task_id}/root"
    dnf = f"$ dnf5 --installroot {root} --assumeyes"
    lines = [
        f"{dnf} install @build",
        "Updating and loading repositories:",
        f" {job.build_tag}                            100% |   2.0 KiB |  00m00s",
        "Repositories loaded.",
        "Package              Arch    Version            Repository       Size",
        "Installing group/module packages:",
        " bash                 x86_64  5.2.26-3.fc40      build          8.1 MiB",
        " rpm-build            x86_64  4.19.1.1-1.fc40    build        176.4 KiB",
        " module-build-macros  noarch  0.1-1              build          1.2 KiB",
        "Transaction Summary:",
        " Installing:         3 packages",
        "Complete!",
        "[exit status 0]",
        f"{dnf} builddep {_TOP}/SRPMS/{job.nvr_text}.src.rpm",
        "Updating and loading repositories:",
        "Repositories loaded.",
    ]
    if failed:
        lines += [
            "Failed to resolve the transaction:",
            f"No match for argument: {MISSING}",
            "You can try to add to command line:",
            "  --skip-unavailable to skip unavailable packages",
            "[exit status 1]",
        ]
    else:
        lines += ["Nothing to do.", "[exit status 0]"]
    return _text(lines)


def _build(job: BuildJob) -> bytes:
    """rpmbuild's output up to a configure error in ``%build`` (45 lines)."""
    name, version = job.nvr.name, job.nvr.version
    prep, build = _token(job, "prep", 6), _token(job, "build", 6)
    srpm = f"{_TOP}/SRPMS/{job.nvr_text}.src.rpm"
    source = f"{name}-{version}"
    return _text(
        [
            f"$ rpmbuild --nodeps {_dist(job)} --define '_topdir {_TOP}'"
            f" --rebuild {srpm}",
            f"Installing {srpm}",
            f"Executing(%prep): /bin/sh -e /var/tmp/rpm-tmp.{prep}",
            "+ umask 022",
            f"+ cd {_TOP}/BUILD",
            f"+ rm -rf {source}",
            f"+ /usr/lib/rpm/rpmuncompress -x {_TOP}/SOURCES/{source}.tar.gz",
            "+ STATUS=0",
            "+ '[' 0 -ne 0 ']'",
            f"+ cd {source}",
            "+ RPM_EC=0",
            "++ jobs -p",
            "+ exit 0",
            f"Executing(%build): /bin/sh -e /var/tmp/rpm-tmp.{build}",
            "+ umask 022",
            f"+ cd {_TOP}/BUILD",
            f"+ cd {source}",
            "+ ./configure --prefix=/usr",
            *(f"checking {check}" for check in _CONFIGURE_CHECKS),
            "configure: error: Package requirements (frobnicate >= 2.0) were not met:",
            "",
            f"Package 'frobnicate', required by '{name}', not found",
            "",
            "Consider adjusting the PKG_CONFIG_PATH environment variable if you",
            "installed software in a non-standard prefix.",
            f"error: Bad exit status from /var/tmp/rpm-tmp.{build} (%build)",
            "",
            "RPM build errors:",
            f"    Bad exit status from /var/tmp/rpm-tmp.{build} (%build)",
            "[exit status 1]",
        ]
    )
