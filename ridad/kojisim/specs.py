"""What a SPEC file says a build makes: the source package and its binaries.

kojisim does not run rpmbuild. Its builder asks ``rpmspec`` what the SPEC
at the build's commit would make, with the build tag's ``%dist``: the source
RPM's name, version, release, epoch, License and ExclusiveArch/ExcludeArch
(``--srpm``), and each binary package that would be built (``--builtrpms``:
subpackages such as ``-devel`` included, packages without ``%files``
left out) with its own arch (``noarch`` when it says ``BuildArch: noarch``)
and License. A build from an uploaded SRPM reads the SRPM's header and the
SPEC inside it (through ``rpm2cpio``).

L{BuildSpec} is an L{NVR} with all of that, so an inspector that knows only
NVRs (a test's) still fits the builder, which then records a source and a
noarch RPM of the package's own name.
"""

from __future__ import annotations

from dataclasses import dataclass

import koji

__all__ = [
    "BINARY_QUERY",
    "NVR",
    "SRPM_QUERY",
    "BuildSpec",
    "Package",
    "binary_arches",
    "default_spec",
    "parse_binaries",
    "parse_srpm",
    "spec_from_cpio",
]

#: ``rpmspec --srpm`` / ``rpm -qp`` query: the source package's fields.
SRPM_QUERY = (
    "%{name}\\t%{version}\\t%{release}\\t%{epoch}\\t%{license}"
    "\\t[%{exclusivearch} ]\\t[%{excludearch} ]\\t[%{buildarchs} ]\\n"
)
#: ``rpmspec --builtrpms`` query: one line per binary package.
BINARY_QUERY = "%{name}\\t%{arch}\\t%{license}\\n"
#: The arch of a build tag without arches (kojisim's only build host).
DEFAULT_ARCH = "x86_64"


@dataclass(frozen=True)
class NVR:
    """A package name, version and release."""

    name: str
    version: str
    release: str


@dataclass(frozen=True)
class Package:
    """A binary package of a SPEC: its name, License, and ``noarch`` or not."""

    name: str
    license: str
    noarch: bool


@dataclass(frozen=True)
class BuildSpec(NVR):
    """The NVR of a source with everything else the builder records of it.

    ``source`` is the build's ``source`` as a real builder reports it after
    its checkout (``git+https://host/path#<full commit>``), or None to keep
    the URL the build was asked for.
    """

    epoch: int | None = None
    license: str = ""
    exclusivearch: tuple[str, ...] = ()
    excludearch: tuple[str, ...] = ()
    buildarchs: tuple[str, ...] = ()
    packages: tuple[Package, ...] = ()
    source: str | None = None


def _words(text: str) -> tuple[str, ...]:
    """A space-separated rpm array as a tuple."""
    return tuple(text.split())


def parse_srpm(output: str, url: str) -> BuildSpec:
    """The source package from the first line of an L{SRPM_QUERY}.

    :raises koji.BuildError: the line is not one.
    """
    lines = output.splitlines()
    fields = lines[0].split("\t") if lines else []
    if len(fields) != 8 or not all(fields[:3]):
        raise koji.BuildError(f"Could not read the NVR of {url}: {output.strip()}")
    name, version, release, epoch, license_, exclusive, exclude, archs = fields
    return BuildSpec(
        name=name,
        version=version,
        release=release,
        epoch=None if epoch == "(none)" else int(epoch),
        license="" if license_ == "(none)" else license_,
        exclusivearch=_words(exclusive),
        excludearch=_words(exclude),
        buildarchs=_words(archs),
    )


def parse_binaries(output: str) -> tuple[Package, ...]:
    """The binary packages of a L{BINARY_QUERY}'s lines, in the SPEC's order."""
    packages = []
    for line in output.splitlines():
        fields = line.split("\t")
        if len(fields) == 3 and fields[0]:
            name, arch, license_ = fields
            packages.append(Package(name, license_, arch == "noarch"))
    return tuple(packages)


def default_spec(nvr: NVR) -> BuildSpec:
    """What the builder records for a bare NVR: one noarch package, no License."""
    if isinstance(nvr, BuildSpec):
        return nvr
    return BuildSpec(
        name=nvr.name,
        version=nvr.version,
        release=nvr.release,
        packages=(Package(nvr.name, "", True),),
    )


def binary_arches(
    spec: BuildSpec, package: Package, tag_arches: str | None
) -> list[str]:
    """The arches a binary package is built for: ``noarch``, or each of the
    build tag's arches that ExclusiveArch/ExcludeArch allow (kojid builds
    one ``buildArch`` per arch)."""
    if package.noarch:
        return ["noarch"]
    arches = _words(tag_arches or "") or (DEFAULT_ARCH,)
    if spec.exclusivearch:
        arches = tuple(a for a in arches if a in spec.exclusivearch)
    return [a for a in arches if a not in spec.excludearch]


def spec_from_cpio(archive: bytes) -> bytes | None:
    """The ``*.spec`` file in a ``newc`` cpio archive (``rpm2cpio``'s output)."""
    offset = 0
    while offset + 110 <= len(archive):
        header = archive[offset : offset + 110]
        if header[:5] != b"07070":
            return None
        size = int(header[54:62], 16)
        name_size = int(header[94:102], 16)
        name_end = offset + 110 + name_size
        name = archive[offset + 110 : name_end - 1].decode("utf-8", "replace")
        data_start = (name_end + 3) & ~3
        if name == "TRAILER!!!":
            return None
        if name.endswith(".spec") and "/" not in name.lstrip("./"):
            return archive[data_start : data_start + size]
        offset = (data_start + size + 3) & ~3
    return None
