"""RPM calls: the RPMs of a build, of a tag and of an archive, and their headers."""

from __future__ import annotations

from typing import Any

import koji

from ridad.kojisim.context import current
from ridad.kojisim.exports import Exports
from ridad.kojisim.lookup import find_build
from ridad.kojisim.query import apply_query_opts
from ridad.kojisim.records import Rpm
from ridad.kojisim.rpms import header_values, rpm_view
from ridad.kojisim.state import HubState
from ridad.kojisim.tagging import tagged_builds

__all__ = ["exports", "find_rpm"]

exports = Exports()


def find_rpm(state: HubState, info: Any, *, strict: bool = False) -> Rpm | None:
    """An RPM by id (int or digits), ``N-V-R.A`` or ``{name, version,
    release, arch}``, as the hub's ``get_rpm`` takes it.

    :raises koji.GenericError: strict and no such RPM; a bad ``info``.
    """
    if isinstance(info, str):
        info = int(info) if info.isdigit() else koji.parse_NVRA(info)
    if isinstance(info, int) and not isinstance(info, bool):
        found = state.rpms.get(info)
        data: Any = {"id": info}
    elif isinstance(info, dict):
        data = dict(info)
        if "id" in data:
            found = state.rpms.get(data["id"])
        else:
            wanted = tuple(data[key] for key in ("name", "version", "release", "arch"))
            found = next(
                (
                    r
                    for r in state.rpms.values()
                    if (r.name, r.version, r.release, r.arch) == wanted
                ),
                None,
            )
    else:
        raise koji.GenericError(f"Invalid type for rpminfo: {type(info)!r}")
    if found is None and strict:
        raise koji.GenericError(f"No such rpm: {data!r}")
    return found


@exports.function("getRPM")
def get_rpm(rpminfo: Any, strict: bool = False, multi: bool = False) -> Any:
    """An RPM's dict, or None (``multi``: a list of the matches).

    :raises koji.GenericError: strict and no such RPM.
    """
    found = find_rpm(current().state, rpminfo, strict=strict and not multi)
    if multi:
        return [rpm_view(found)] if found else []
    return rpm_view(found) if found else None


@exports.function("listRPMs")
def list_rpms(
    buildID: Any = None,
    buildrootID: Any = None,
    imageID: Any = None,
    componentBuildrootID: Any = None,
    hostID: Any = None,
    arches: Any = None,
    queryOpts: Any = None,
    draft: Any = None,
) -> Any:
    """RPMs of a build, a buildroot, or an archive's components (``imageID``).

    :raises koji.GenericError: ``arches`` of another type than str or list.
    """
    state = current().state
    rpms = sorted(state.rpms.values(), key=lambda r: r.id)
    if buildID is not None:
        rpms = [r for r in rpms if r.build_id == buildID]
    if buildrootID is not None:
        rpms = [r for r in rpms if r.buildroot_id == buildrootID]
    if imageID is not None:
        archive = state.archives.get(imageID)
        wanted = set(archive.rpm_ids) if archive else set()
        rpms = [r for r in rpms if r.id in wanted]
    if componentBuildrootID is not None:
        root = state.buildroots.get(componentBuildrootID)
        rpms = [r for r in rpms if root is not None and r.id in root.rpm_ids]
    if hostID is not None:
        rpms = []
    if arches is not None:
        rpms = [r for r in rpms if r.arch in _arch_list(arches, "arches")]
    if draft is True:
        rpms = []
    return apply_query_opts([rpm_view(r, kind="list") for r in rpms], queryOpts)


def _arch_list(arches: Any, name: str) -> list[str]:
    """An ``arches`` filter as a list.

    :raises koji.GenericError: neither a string nor a list.
    """
    if isinstance(arches, str):
        return [arches]
    if isinstance(arches, list | tuple):
        return list(arches)
    if name == "arch":
        raise koji.GenericError(f"Invalid type for arch option: {type(arches)}")
    raise koji.GenericError(f'Invalid type for "arches" parameter: {type(arches)}')


@exports.method("listBuildRPMs")
def list_build_rpms(self: Any, build: Any) -> Any:
    """The RPMs of one build (by id, NVR or dict), source RPM first.

    :raises koji.GenericError: a build given by NVR that does not exist.
    """
    if not isinstance(build, int) or isinstance(build, bool):
        found = find_build(current().state, build, strict=True)
        assert found is not None
        build = found.id
    return list_rpms(buildID=build)


@exports.method("listTaggedRPMS")
def list_tagged_rpms(
    self: Any,
    tag: Any,
    event: Any = None,
    inherit: bool = False,
    latest: Any = False,
    package: Any = None,
    arch: Any = None,
    rpmsigs: bool = False,
    owner: Any = None,
    type: Any = None,
    strict: bool = True,
    extra: bool = True,
    draft: Any = None,
) -> Any:
    """``[rpms, builds]`` of the builds tagged in a tag (those of
    ``listTagged`` with the same filters), RPMs in id order.

    :raises koji.GenericError: strict and no such tag; a bad ``arch``.
    """
    builds = tagged_builds(
        tag,
        strict=strict,
        event=event,
        inherit=bool(inherit),
        latest=latest,
        package=package,
        owner=owner,
        btype=type,
    )
    if builds is None:
        return []
    state = current().state
    wanted = {b["build_id"] for b in builds}
    arches = _arch_list(arch, "arch") if arch else None
    rpms = []
    for rpm in sorted(state.rpms.values(), key=lambda r: r.id):
        if rpm.build_id in wanted and (arches is None or rpm.arch in arches):
            view = rpm_view(rpm, kind="tagged", extra=bool(extra))
            if rpmsigs:
                view["sigkey"] = None
            rpms.append(view)
    return [rpms, builds]


@exports.method("getRPMHeaders")
def get_rpm_headers(
    self: Any,
    rpmID: Any = None,
    taskID: Any = None,
    filepath: Any = None,
    headers: Any = None,
    strict: bool = False,
) -> dict[str, Any]:
    """Header values of an RPM by ``rpmID``; ``{}`` for a missing RPM (or a
    task's file: kojisim's tasks leave no RPMs).

    :raises koji.GenericError: an unknown header name; strict and the RPM or
        file is missing; neither ``rpmID`` nor ``taskID`` and ``filepath``.
    """
    state = current().state
    if rpmID:
        rpm = find_rpm(state, rpmID, strict=strict)
        if rpm is None:
            return {}
        build = state.builds[rpm.build_id]
        if build.state == koji.BUILD_STATES["DELETED"]:
            if strict:
                raise koji.GenericError(f"Build {state.nvr(build)} is deleted")
            return {}
        return header_values(rpm, headers)
    if taskID:
        if not filepath:
            raise koji.GenericError("filepath must be specified with taskID")
        if str(filepath).startswith("/") or "../" in str(filepath):
            raise koji.GenericError(f"Invalid filepath: {filepath}")
        if strict:
            raise koji.GenericError(f"Missing rpm file: tasks/{taskID}/{filepath}")
        return {}
    raise koji.GenericError("either rpmID or taskID and filepath must be specified")
