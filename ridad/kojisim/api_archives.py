"""Archives and build logs: what a content-generator import leaves besides RPMs.

An archive's type comes from its file name's extension as the hub's
``archivetypes`` table says (ids as in Koji 1.35's schema: ``txt`` is 40,
recording 174); the shortest matching extension wins, as in the hub's loop.
Logs are listed with their path under the Koji top directory
(``packages/<name>/<version>/<release>/data/logs/<dir>/<file>``, 177).
"""

from __future__ import annotations

from typing import Any

import koji

from ridad.kojisim.context import current
from ridad.kojisim.exports import Exports
from ridad.kojisim.lookup import find_build
from ridad.kojisim.query import apply_query_opts
from ridad.kojisim.records import Archive
from ridad.kojisim.state import HubState
from ridad.kojisim.tagging import btype_filter

__all__ = ["ARCHIVE_TYPES", "archive_type", "exports"]

exports = Exports()

#: Archive types kojisim knows: name -> (id, description, extensions, compression).
ARCHIVE_TYPES: dict[str, tuple[int, str, str, str | None]] = {
    "jar": (1, "Jar file", "jar war rar ear sar jdocbook jdocbook-style", "zip"),
    "zip": (2, "Zip file", "zip", "zip"),
    "pom": (3, "Maven Project Object Management file", "pom", None),
    "tar": (4, "Tar file", "tar tar.gz tar.bz2 tar.xz tgz", "tar"),
    "xml": (5, "XML file", "xml", None),
    "spec": (8, "RPM spec file", "spec", None),
    "iso": (18, "CD/DVD Image", "iso", None),
    "ks": (24, "Kickstart", "ks", None),
    "cfg": (25, "Configuration file", "cfg", None),
    "txt": (40, "Text file", "txt", None),
    "json": (46, "JSON data", "json", None),
    "yaml": (58, "YAML Ain't Markup Language", "yaml yml", None),
}


def archive_type(filename: str) -> str:
    """The archive type of a file name.

    :raises koji.GenericError: no type has its extension.
    """
    parts = filename.split(".")
    ext = filename
    for start in range(len(parts) - 1, -1, -1):
        ext = ".".join(parts[start:])
        for name, (_id, _description, extensions, _c) in ARCHIVE_TYPES.items():
            if ext.lower() in extensions.split():
                return name
    raise koji.GenericError(f"unsupported file extension: {ext}")


def archive_view(state: HubState, archive: Archive) -> dict[str, Any]:
    """``listArchives``' dict of an archive."""
    name = next(n for n, t in ARCHIVE_TYPES.items() if t[0] == archive.type_id)
    type_id, description, extensions, compression = ARCHIVE_TYPES[name]
    return {
        "btype": state.btypes[archive.btype_id],
        "btype_id": archive.btype_id,
        "build_id": archive.build_id,
        "buildroot_id": archive.buildroot_id,
        "checksum": archive.checksum,
        "checksum_type": archive.checksum_type,
        "compression_type": compression,
        "extra": archive.extra,
        "filename": archive.filename,
        "id": archive.id,
        "metadata_only": False,
        "size": archive.size,
        "type_description": description,
        "type_extensions": extensions,
        "type_id": type_id,
        "type_name": name,
    }


@exports.function("listArchives")
def list_archives(
    buildID: Any = None,
    buildrootID: Any = None,
    componentBuildrootID: Any = None,
    hostID: Any = None,
    type: Any = None,
    filename: Any = None,
    size: Any = None,
    checksum: Any = None,
    checksum_type: Any = None,
    typeInfo: Any = None,
    queryOpts: Any = None,
    imageID: Any = None,
    archiveID: Any = None,
    strict: bool = False,
) -> Any:
    """Archives matching the filters, in id order.

    :raises koji.GenericError: an unknown ``type``; typeInfo with a CG
        type; strict and nothing found.
    """
    state = current().state
    type_id = _archive_btype(state, type, typeInfo)
    wanted = {
        "build_id": buildID,
        "buildroot_id": buildrootID,
        "filename": filename,
        "size": size,
        "checksum": checksum,
        "checksum_type": checksum_type,
        "id": archiveID,
        "btype_id": type_id,
    }
    archives = [
        archive
        for archive in sorted(state.archives.values(), key=lambda a: a.id)
        if all(v is None or getattr(archive, k) == v for k, v in wanted.items())
        and componentBuildrootID is None
        and hostID is None
        and imageID is None
    ]
    if strict and not archives:
        raise koji.GenericError("No archives found.")
    return apply_query_opts([archive_view(state, a) for a in archives], queryOpts)


def _archive_btype(state: HubState, btype: Any, type_info: Any) -> int | None:
    """The build type id a ``type`` filter of listArchives names.

    :raises koji.GenericError: no such type; ``typeInfo`` for a CG type.
    """
    if btype is None:
        return None
    try:
        found = btype_filter(state, btype)
    except koji.GenericError:
        raise koji.GenericError(f"unsupported archive type: {btype}") from None
    if type_info and btype not in ("maven", "win", "image"):
        raise koji.GenericError(f"typeInfo queries not supported for type {btype}")
    return found


@exports.function("getArchive")
def get_archive(archive_id: Any, strict: bool = False) -> Any:
    """One archive's dict, or None.

    :raises koji.GenericError: strict and no such archive.
    """
    state = current().state
    archive = state.archives.get(archive_id)
    if archive is None:
        if strict:
            raise koji.GenericError(f"No such archive: {archive_id}")
        return None
    return archive_view(state, archive)


@exports.function("getBuildLogs", qualname="get_build_logs")
def get_build_logs(build: Any) -> list[dict[str, str]]:
    """A build's logs ``{name, dir, path}`` (the path under the Koji top
    directory); none for a build that has no logs.

    :raises koji.GenericError: no such build.
    """
    state = current().state
    found = find_build(state, build, strict=True)
    assert found is not None
    name = state.packages[found.package_id]
    top = f"packages/{name}/{found.version}/{found.release}/data/logs"
    logs = sorted(state.build_logs.get(found.id, []), key=lambda log: log.name)
    return [
        {"name": log.name, "dir": log.subdir, "path": f"{top}/{log.subdir}/{log.name}"}
        for log in logs
    ]
