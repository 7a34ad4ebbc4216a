"""``CGImport``: a content generator's build, its archives and logs.

The steps and their order are the hub's ``CG_Importer`` (1.35), since the
order decides which fault a bad import gets: the metadata version; the
content generator of the buildroots and the caller's access (before any
file is looked at, 106); the build: with ``build_id`` the reservation's
token, CG, state and NVR, without it no live build of that NVR (``Build
already exists: NVR (id=N)``, 156 and 168); the build's types; the
buildroots (each used by an output) and their components; each output's
size and checksum against the uploaded file, and an archive's type; then the
build is completed (a reservation keeps its id and start time, and gets
the import's time as completion time) or created, and the outputs become
archives (with their RPM components) and logs. The hub validates little:
a missing key is a Python ``KeyError`` (fault 1), as on the hub (157).

RPM components the hub does not have are ignored and noted in
``cg_import.log``, which then appears among the build's logs (177); RPM
outputs (files to import as RPMs) are refused: kojisim reads no RPM files.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import koji

from ridad.kojisim.api_archives import ARCHIVE_TYPES, archive_type
from ridad.kojisim.cg_builds import (
    assert_cg,
    lookup_cg,
    lookup_name,
    match_components,
    new_build,
)
from ridad.kojisim.context import Call, current
from ridad.kojisim.exports import Exports
from ridad.kojisim.lookup import find_build, find_user
from ridad.kojisim.records import Archive, BuildLog, Buildroot
from ridad.kojisim.rpms import add_build_type
from ridad.kojisim.uploads import upload_path
from ridad.kojisim.views import build_view

__all__ = ["exports"]

exports = Exports()
BUILD_STATES = koji.BUILD_STATES
_LEGACY_TYPES = ("maven", "win", "image")
_CHECKSUMS = {"md5": hashlib.md5, "sha256": hashlib.sha256}


@exports.function("CGImport", writes=True, qualname="cg_import")
def cg_import(metadata: Any, directory: Any, token: Any = None) -> dict[str, Any]:
    """Import a build from a content generator's metadata and the files
    uploaded into ``directory``; answer the COMPLETE build.

    :raises koji.GenericError: the metadata or the files do not fit.
    :raises koji.AuthError: the caller may not act as the content generator.
    """
    return _Importer(current(), directory).run(metadata, token)


class _Importer:
    """One ``CGImport`` call, step by step."""

    def __init__(self, call: Call, directory: Any) -> None:
        """Import for ``call`` from the upload directory ``directory``."""
        self.call, self.state, self.directory = call, call.state, directory
        self.log: list[str] = []
        self.metadata: dict[str, Any] = {}
        self.cg_id = 0
        self.buildinfo: dict[str, Any] = {}
        self.typeinfo: dict[str, Any] = {}
        self.roots: dict[Any, Buildroot] = {}
        self.outputs: list[dict[str, Any]] = []

    def run(self, metadata: Any, token: Any) -> dict[str, Any]:
        """All the steps; the build's dict."""
        self.metadata = self._read_metadata(metadata)
        version = self.metadata["metadata_version"]
        if version != 0:
            raise koji.GenericError(f"No such metadata version: {version!r}")
        self._assert_cg_access()
        self._prep_build(token)
        self._prep_buildroots()
        self._prep_outputs()
        build_id = self._complete(token)
        self._import_outputs(build_id)
        if self.log:
            self.log.append("CG import was SUCCESSFUL.")
            text = "".join(f"{line}\n" for line in self.log).encode()
            logs = self.state.build_logs.setdefault(build_id, [])
            logs.append(BuildLog("cg_import.log", ".", text))
        self.call.changed()
        return build_view(self.state, self.state.builds[build_id])

    def _read_metadata(self, metadata: Any) -> dict[str, Any]:
        """The metadata: a struct, JSON text, or an uploaded ``.json`` file.

        :raises koji.GenericError: no such file; not JSON.
        """
        if isinstance(metadata, dict):
            return metadata
        if metadata is None:
            metadata = "metadata.json"
        if not isinstance(metadata, str):
            raise koji.ParameterError(f"Invalid type for value '{metadata}'")
        if metadata.endswith(".json"):
            path = self._path({"filename": metadata})
            if not os.path.exists(path):
                raise koji.GenericError(f"No such file: {metadata}")
            with open(path, encoding="utf-8") as handle:
                metadata = handle.read()
        try:
            parsed = json.loads(metadata)
        except ValueError:
            raise koji.GenericError(f"Invalid json data: {metadata!r}") from None
        return dict(parsed)

    def _assert_cg_access(self) -> None:
        """One content generator for all buildroots, and the caller's access.

        :raises koji.GenericError: an unknown or a second content generator.
        :raises koji.AuthError: no access.
        """
        cg_id = None
        for root in self.metadata["buildroots"]:
            found = lookup_cg(self.state, root["content_generator"]["name"])
            if cg_id is not None and cg_id != found:
                raise koji.GenericError(
                    "Koji now support only one content-generator per import"
                )
            cg_id = found
        self.cg_id = assert_cg(self.call, cg_id)

    def _prep_build(self, token: Any) -> None:
        """Check the reservation (or that the NVR is free); gather the build.

        :raises koji.GenericError: a token or NVR mismatch; an existing build;
            an unknown owner or build type.
        """
        build = self.metadata["build"]
        if build.get("build_id"):
            self._check_reservation(build, token)
        elif token is not None:
            raise koji.GenericError(
                "Reservation token given, but no build_id in metadata"
            )
        else:
            old = find_build(self.state, build)
            if old is not None and BUILD_STATES[old.state] not in (
                "CANCELED",
                "FAILED",
            ):
                nvr = self.state.nvr(old)
                raise koji.GenericError(f"Build already exists: {nvr} (id={old.id})")
        info = {
            key: build[key] for key in ("name", "version", "release", "extra", "source")
        }
        if "build_id" in build:
            info["build_id"] = build["build_id"]
        info["epoch"] = build.get("epoch")
        info["start_time"] = float(build["start_time"])
        info["completion_time"] = float(build["end_time"])
        info["task_id"] = build.get("task_id")
        owner = build.get("owner")
        if owner:
            if not isinstance(owner, str):
                raise koji.GenericError(
                    f"Invalid owner format (expected username): {owner}"
                )
            found = find_user(self.state, owner, strict=True)
            assert found is not None
            info["owner"] = found.id
        info["cg_id"] = self.cg_id
        koji.check_NVR(info, strict=True)
        self.buildinfo = info
        self._prep_typeinfo(info)

    def _check_reservation(self, build: dict[str, Any], token: Any) -> None:
        """The reserved build fits the metadata and the token.

        :raises koji.GenericError: it does not.
        """
        build_id = build["build_id"]
        found = find_build(self.state, build_id, strict=True)
        assert found is not None
        if self.state.reservations.get(found.id) != token or token is None:
            raise koji.GenericError(f"Token doesn't match build ID {build_id}")
        if found.cg_id != self.cg_id:
            raise koji.GenericError(f"Build ID {build_id} is not reserved by this CG")
        task_id = build.get("task_id")
        if found.task_id and found.task_id != task_id:
            raise koji.GenericError(f"Build is owned by task {found.task_id}")
        if found.state != BUILD_STATES["BUILDING"]:
            raise koji.GenericError(f"Build ID {build_id} is not in BUILDING state")
        name = self.state.packages[found.package_id]
        if (name, found.version, found.release) != (
            build["name"],
            build["version"],
            build["release"],
        ):
            raise koji.GenericError(f"Build ({build_id}) NVR is different")
        if "epoch" in build and found.epoch != build["epoch"]:
            raise koji.GenericError(f"Build ({build_id}) epoch is different")

    def _prep_typeinfo(self, info: dict[str, Any]) -> None:
        """The build's types: ``extra.typeinfo`` (and legacy top-level keys).

        :raises koji.GenericError: a type given twice; an unknown type.
        """
        extra = info["extra"]
        typeinfo = extra.setdefault("typeinfo", {})
        for btype in _LEGACY_TYPES:
            if btype in extra:
                if btype in typeinfo:
                    raise koji.GenericError(f"Duplicate typeinfo for {btype!r}")
                typeinfo[btype] = extra[btype]
        for btype in typeinfo:
            lookup_name(self.state.btypes, "btype", btype)
        self.typeinfo = typeinfo

    def _prep_buildroots(self) -> None:
        """Each buildroot: used by an output, once; its components matched.

        :raises koji.GenericError: an unused or duplicate buildroot id.
        """
        used = {output["buildroot_id"] for output in self.metadata["output"]}
        for data in self.metadata["buildroots"]:
            fake_id = data["id"]
            if fake_id not in used:
                raise koji.GenericError(f"Buildroot id not used in output: {fake_id!r}")
            if fake_id in self.roots:
                raise koji.GenericError(
                    f"Duplicate buildroot id in metadata: {fake_id!r}"
                )
            root = Buildroot(
                id=0,
                cg_id=self.cg_id,
                cg_version=data["content_generator"]["version"],
                container_type=data["container"]["type"],
                container_arch=data["container"]["arch"],
                host_os=data["host"]["os"],
                host_arch=data["host"]["arch"],
                extra=data.get("extra"),
            )
            root.rpm_ids = match_components(self.state, data["components"], self.log)
            root.tools = list(data["tools"])
            self.roots[fake_id] = root

    def _path(self, output: dict[str, Any]) -> str:
        """Where an output was uploaded.

        :raises koji.GenericError: a path outside the upload area.
        """
        directory = os.path.join(str(self.directory), output.get("relpath", ""))
        return upload_path(self.call.core.upload_dir, directory, output["filename"])

    def _prep_outputs(self) -> None:
        """Each output's file: its size and checksum; an archive's type.

        :raises koji.GenericError: a mismatch; no buildroot; no type.
        :raises FileNotFoundError: the file was not uploaded (fault 1).
        """
        for output in self.metadata["output"]:
            output = dict(output)
            path = self._path(output)
            size = os.path.getsize(path)
            if size != output["filesize"]:
                raise koji.GenericError(
                    f"File size {size} for {output['filename']} (expected"
                    f" {output['filesize']}) doesn't match. Corrupted upload?"
                )
            with open(path, "rb") as handle:
                output["hub.content"] = handle.read()
            digest = _checksum(output["checksum_type"], output["hub.content"])
            if output["checksum"] != digest:
                raise koji.GenericError(
                    f"File checksum mismatch for {output['filename']}:"
                    f" {output['checksum']} != {digest}"
                )
            if output["buildroot_id"] not in self.roots:
                raise koji.GenericError(
                    f"Missing buildroot metadata for id {output['buildroot_id']!r}"
                )
            if output["type"] == "rpm":
                raise koji.GenericError(
                    f"kojisim cannot import rpm outputs: {output['filename']}"
                )
            if output["type"] != "log":
                self._prep_archive(output)
            self.outputs.append(output)

    def _prep_archive(self, output: dict[str, Any]) -> None:
        """An archive's build type (from its ``extra``) and RPM components.

        :raises koji.GenericError: no type, several, or one the build lacks.
        """
        extra = output.get("extra", {})
        found = [key for key in extra if key in _LEGACY_TYPES]
        found += list(extra.get("typeinfo", {}))
        if len(found) > 1:
            raise koji.GenericError(
                f"Output file has multiple types: {output['filename']}"
            )
        if not found:
            raise koji.GenericError(f"No typeinfo for: {output['filename']}")
        if found[0] not in self.typeinfo:
            raise koji.GenericError(f"Output type {found[0]} not listed in build types")
        output["hub.btype"] = found[0]
        output["hub.type"] = archive_type(output["filename"])
        output["hub.rpms"] = match_components(
            self.state, output.get("components", []), self.log
        )

    def _complete(self, token: Any) -> int:
        """Complete the reserved build, or create it; answer its id.

        :raises koji.GenericError: the NVR exists and cannot be recycled.
        """
        info = self.buildinfo
        if token:
            build = self.state.builds[info["build_id"]]
            build.state = BUILD_STATES["COMPLETE"]
            build.extra = info["extra"] or None
            build.owner_id = info.get("owner", self.call.user_id)
            build.source, build.task_id = info["source"], info["task_id"]
            build.completion_ts = self.call.now()
            del self.state.reservations[build.id]
            build_id = build.id
        else:
            data = {k: v for k, v in info.items() if k != "build_id"}
            build_id = new_build(self.call, data)
        for btype in self.typeinfo:
            add_build_type(self.state, build_id, btype)
        for root in self.roots.values():
            root.id = self.state.next_id("buildroot")
            self.state.buildroots[root.id] = root
        return build_id

    def _import_outputs(self, build_id: int) -> None:
        """Logs become build logs; other outputs archives of the build.

        :raises koji.GenericError: a log imported twice.
        """
        for output in self.outputs:
            content = output["hub.content"]
            if output["type"] == "log":
                logs = self.state.build_logs.setdefault(build_id, [])
                subdir = output.get("subdir") or "."
                if any(
                    log.name == output["filename"] and log.subdir == subdir
                    for log in logs
                ):
                    raise koji.GenericError(
                        f"Error importing build log. {output['filename']} already exists."
                    )
                logs.append(BuildLog(output["filename"], subdir, content))
                continue
            archive_id = self.state.next_id("archive")
            self.state.archives[archive_id] = Archive(
                id=archive_id,
                build_id=build_id,
                buildroot_id=self.roots[output["buildroot_id"]].id,
                filename=output["filename"],
                size=len(content),
                checksum=output["checksum"],
                checksum_type=koji.CHECKSUM_TYPES[output["checksum_type"]],
                type_id=ARCHIVE_TYPES[output["hub.type"]][0],
                btype_id=self.state.btype_id(output["hub.btype"]) or 0,
                extra=output.get("extra"),
                content=content,
                rpm_ids=output["hub.rpms"],
            )


def _checksum(kind: Any, content: bytes) -> str:
    """The hex digest of ``content`` by a CG checksum type.

    :raises koji.GenericError: an unsupported type.
    """
    if kind not in _CHECKSUMS:
        raise koji.GenericError(f"Unsupported verify type: {kind}")
    return _CHECKSUMS[kind](content).hexdigest()
