"""The RPMs a completed build made, and the ways the hub shows them.

When the builder completes a build it records what kojid would have
imported: the source RPM (arch ``src``) first, then one binary RPM per
package of the SPEC and arch (L{ridad.kojisim.specs.binary_arches}), with
ids in that order, and gives the build the ``rpm`` build type. kojisim
builds nothing, so what depends on real files is made up, the same for the
same build: ``payloadhash`` (the header+payload md5 that content
generators send back as ``sigmd5``) is an md5 of the build and the RPM's
NEVRA, ``size`` is derived from it, ``buildtime`` is the completion time.

Headers are what ``getRPMHeaders`` reads from the file on a real hub: the
SPEC's per-package ``License``, the source package's ExclusiveArch and
ExcludeArch, and the NEVRA; the other common tags read as nil (or an empty
array); a name that is no RPM tag is the hub's fault.
"""

from __future__ import annotations

import hashlib
from typing import Any

import koji

from ridad.kojisim.context import Call
from ridad.kojisim.records import Rpm
from ridad.kojisim.specs import BuildSpec, binary_arches
from ridad.kojisim.state import Build, HubState

__all__ = [
    "add_build_type",
    "header_values",
    "record_build_rpms",
    "rpm_view",
]

#: RPM tags whose value kojisim does not keep: arrays (read as ``[]``).
_ARRAY_TAGS = frozenset(
    "BASENAMES BUILDARCHS CHANGELOGNAME CHANGELOGTEXT CHANGELOGTIME CONFLICTNAME"
    " DIRNAMES ENHANCENAME FILEDIGESTS FILEMODES FILENAMES FILESIZES OBSOLETENAME"
    " PATCH PROVIDENAME PROVIDEVERSION RECOMMENDNAME REQUIRENAME REQUIREVERSION"
    " SOURCE SUGGESTNAME SUPPLEMENTNAME".split()
)
#: RPM tags whose value kojisim does not keep: scalars (read as nil).
_SCALAR_TAGS = frozenset(
    "BUGURL BUILDHOST COOKIE DESCRIPTION DISTRIBUTION DISTTAG DISTURL GROUP"
    " MODULARITYLABEL NOPATCH NOSOURCE OPTFLAGS OS PACKAGER PAYLOADCOMPRESSOR"
    " PAYLOADFORMAT PLATFORM RPMVERSION SHA256HEADER SIGMD5 SUMMARY URL VCS"
    " VENDOR".split()
)


def add_build_type(state: HubState, build_id: int, btype: str) -> None:
    """Give a build a build type (once)."""
    btype_id = state.btype_id(btype)
    assert btype_id is not None, btype
    types = state.build_btypes.setdefault(build_id, [])
    if btype_id not in types:
        types.append(btype_id)


def record_build_rpms(
    call: Call, build: Build, spec: BuildSpec, tag_arches: str | None
) -> list[int]:
    """Record the RPMs of a build that has just completed; answer their ids."""
    state = call.state
    name = state.packages[build.package_id]
    srpm = f"{name}-{build.version}-{build.release}.src.rpm"
    source_headers = {
        "LICENSE": spec.license,
        "EXCLUSIVEARCH": list(spec.exclusivearch),
        "EXCLUDEARCH": list(spec.excludearch),
        "BUILDARCHS": list(spec.buildarchs),
        "SOURCEPACKAGE": 1,
        "SOURCERPM": None,
    }
    made = [(name, "src", source_headers)]
    for package in spec.packages:
        for arch in binary_arches(spec, package, tag_arches):
            headers = {"LICENSE": package.license, "SOURCERPM": srpm}
            made.append((package.name, arch, headers))
    ids = [_new_rpm(call, build, *entry) for entry in made]
    add_build_type(state, build.id, "rpm")
    return ids


def _new_rpm(
    call: Call, build: Build, name: str, arch: str, headers: dict[str, Any]
) -> int:
    """One RPM record of ``build``."""
    state = call.state
    rpm_id = state.next_id("rpm")
    nevra = f"{name}-{build.epoch or 0}:{build.version}-{build.release}.{arch}"
    digest = hashlib.md5(f"{build.id}:{build.create_event}:{nevra}".encode())
    payloadhash = digest.hexdigest()
    headers = {
        "NAME": name,
        "VERSION": build.version,
        "RELEASE": build.release,
        "EPOCH": build.epoch,
        "ARCH": "noarch" if arch == "src" else arch,
        "EXCLUSIVEARCH": [],
        "EXCLUDEARCH": [],
        **headers,
    }
    rpm = Rpm(
        id=rpm_id,
        build_id=build.id,
        name=name,
        version=build.version,
        release=build.release,
        epoch=build.epoch,
        arch=arch,
        payloadhash=payloadhash,
        size=4096 + int(payloadhash[:6], 16) % 8192,
        buildtime=int(call.now()),
        headers=headers,
    )
    rpm.headers.update({"SIZE": rpm.size, "BUILDTIME": rpm.buildtime})
    state.rpms[rpm_id] = rpm
    return rpm_id


def rpm_view(rpm: Rpm, *, kind: str = "get", extra: bool = True) -> dict[str, Any]:
    """An RPM's dict: ``getRPM``'s (``get``), ``listRPMs``/``listBuildRPMs``'
    (``list``: with ``nvr``), or ``listTaggedRPMS``' (``tagged``: no
    external repo fields; ``extra`` only if asked)."""
    info: dict[str, Any] = {
        "arch": rpm.arch,
        "build_id": rpm.build_id,
        "buildroot_id": rpm.buildroot_id,
        "buildtime": rpm.buildtime,
        "draft": False,
        "epoch": rpm.epoch,
        "id": rpm.id,
        "metadata_only": False,
        "name": rpm.name,
        "payloadhash": rpm.payloadhash,
        "release": rpm.release,
        "size": rpm.size,
        "version": rpm.version,
    }
    if kind != "tagged" or extra:
        info["extra"] = None
    if kind != "tagged":
        info.update({"external_repo_id": 0, "external_repo_name": "INTERNAL"})
    if kind == "list":
        info["nvr"] = rpm.nvr
    return info


def header_values(rpm: Rpm, names: list[Any] | None) -> dict[str, Any]:
    """``getRPMHeaders``' answer: each asked name (as asked) with its value;
    every header kojisim keeps when ``names`` is None.

    :raises koji.GenericError: a name that is no RPM tag.
    """
    if names is None:
        return {key.lower(): value for key, value in rpm.headers.items()}
    values = {}
    for name in names:
        tag = str(name).upper()
        if tag in rpm.headers:
            values[name] = rpm.headers[tag]
        elif tag in _ARRAY_TAGS:
            values[name] = []
        elif tag in _SCALAR_TAGS:
            values[name] = None
        else:
            raise koji.GenericError(f"No such rpm header field: {tag}")
    return values
