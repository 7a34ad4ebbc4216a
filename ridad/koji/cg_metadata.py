"""The metadata of a content-generator import of a module (``CGImport``), as
Koji's format (metadata_version 0) wants it and the recorded hub accepted it
(exchange 166): ``build``, one ``buildroot``, and an ``output`` per uploaded
file with its size, md5 and the RPMs it lists.

Pure: the stored final modulemd documents, ridad's build log and the RPMs
Koji has for the module's components go in, the metadata and the files to
upload come out. ``ridad.koji.cg`` sends them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ridad.domain.builds import ModuleBuild
from ridad.domain.module_import import BUILD_LOG, FinalDocument, ModuleNvr
from ridad.errors import KojiError, Unprocessable
from ridad.modulemd.final import BuiltRpm, document_artifacts

__all__ = [
    "BUILDROOT_ID",
    "INLINE_METADATA_BYTES",
    "METADATA_FILE",
    "ImportSource",
    "KojiRpm",
    "ModuleContent",
    "import_metadata",
    "metadata_argument",
]

#: The one buildroot every output names.
BUILDROOT_ID = 1

#: The largest metadata (JSON-encoded, in bytes) sent inline to ``CGImport``;
#: bigger metadata is uploaded as :data:`METADATA_FILE`. The XML-RPC of a
#: struct is about twice its JSON, and Koji's hub refuses requests over its
#: ``MaxRequestLength`` (4 MiB by default): a module of 8,000 RPMs makes
#: ~9.5 MB of XML-RPC. 1 MiB of JSON stays well under the default with any
#: encoding overhead, and an upload has no such limit (it goes in chunks).
INLINE_METADATA_BYTES = 1 << 20
#: The name the hub reads an uploaded metadata from (``CG_Importer
#: .get_metadata``: a string argument ending in ``.json`` is a file in the
#: upload directory, any other string is the JSON text itself).
METADATA_FILE = "metadata.json"


@dataclass(frozen=True)
class KojiRpm:
    """One RPM of a component's Koji build: what the final modulemd reads
    (``built``) and what the import's rpm components carry (``sigmd5``)."""

    built: BuiltRpm
    rpm_id: int
    payloadhash: str


@dataclass(frozen=True)
class ModuleContent:
    """What Koji has of a module before its import: its components' RPMs,
    the arches of its tag, and whether Koji knows the build's owner."""

    rpms: tuple[KojiRpm, ...]
    arches: tuple[str, ...]
    owner_known: bool


@dataclass(frozen=True)
class ImportSource:
    """Everything one import's metadata is made of."""

    build: ModuleBuild
    nvr: ModuleNvr
    build_id: int  # the reservation's
    documents: Sequence[FinalDocument]
    log: str
    content: ModuleContent
    generator: str  # the content generator's name
    generator_version: str
    host: Mapping[str, str]  # {"os": ..., "arch": ...}
    end_time: int


def import_metadata(
    source: ImportSource,
) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """The ``CGImport`` metadata of a module, and its files in upload order.

    CPU-bound for big modules (it reads the artifacts back from each
    document): run it off the reactor thread.

    :raises KojiError: when a document lists an RPM Koji does not have.
    """
    files = [(d.filename, d.content.encode("utf-8")) for d in source.documents]
    files.append((BUILD_LOG, source.log.encode("utf-8")))
    by_nevra = {rpm.built.nevra: rpm for rpm in source.content.rpms}
    outputs = [
        _document_output(document, data, by_nevra)
        for document, (_, data) in zip(source.documents, files[:-1], strict=True)
    ]
    outputs.append(_file_output(BUILD_LOG, "noarch", "log", files[-1][1]))
    metadata = {
        "metadata_version": 0,
        "build": _build(source),
        "buildroots": [_buildroot(source)],
        "output": outputs,
    }
    return metadata, files


def metadata_argument(
    metadata: dict[str, Any],
    files: Sequence[tuple[str, bytes]],
    *,
    inline_bytes: int = INLINE_METADATA_BYTES,
) -> tuple[dict[str, Any] | str, list[tuple[str, bytes]]]:
    """What to pass ``CGImport`` as its metadata, and the files to upload:
    the struct itself and ``files`` while its JSON has at most
    ``inline_bytes`` bytes, else :data:`METADATA_FILE`, uploaded last.

    CPU-bound for big modules (it encodes the metadata): run it off the
    reactor thread.
    """
    encoded = json.dumps(metadata, indent=2).encode("utf-8")
    if len(encoded) <= inline_bytes:
        return metadata, list(files)
    return METADATA_FILE, [*files, (METADATA_FILE, encoded)]


def _build(source: ImportSource) -> dict[str, Any]:
    """The ``build`` section: the reserved NVR and the module's typeinfo."""
    build = source.build
    whole = next(d for d in source.documents if d.arch is None)
    info: dict[str, Any] = {
        "name": source.nvr.name,
        "version": source.nvr.version,
        "release": source.nvr.release,
        "build_id": source.build_id,
        "source": build.scmurl,
        "start_time": int(build.time_submitted.timestamp()),
        "end_time": source.end_time,
        "extra": {
            "typeinfo": {
                "module": {
                    "module_build_service_id": build.id,
                    "content_koji_tag": build.koji_tag,
                    "modulemd_str": whole.content,
                    "name": build.name,
                    "stream": build.stream,
                    "version": str(build.version),
                    "context": build.context,
                }
            }
        },
    }
    if source.content.owner_known:
        info["owner"] = build.owner
    return info


def _buildroot(source: ImportSource) -> dict[str, Any]:
    """The one buildroot: where ridad ran. ridad installs no RPMs to make
    the documents, so it lists none."""
    arch = source.host.get("arch", "noarch")
    return {
        "id": BUILDROOT_ID,
        "host": {"os": source.host.get("os", "unknown"), "arch": arch},
        "content_generator": {
            "name": source.generator,
            "version": source.generator_version,
        },
        "container": {"type": "none", "arch": arch},
        "tools": [{"name": "ridad", "version": source.generator_version}],
        "components": [],
    }


def _file_output(filename: str, arch: str, kind: str, data: bytes) -> dict[str, Any]:
    """One uploaded file's output entry."""
    return {
        "buildroot_id": BUILDROOT_ID,
        "filename": filename,
        "filesize": len(data),
        "arch": arch,
        "checksum_type": "md5",
        "checksum": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        "type": kind,
    }


def _document_output(
    document: FinalDocument, data: bytes, by_nevra: Mapping[str, KojiRpm]
) -> dict[str, Any]:
    """A modulemd document's output: a ``module`` file listing the RPMs of
    its artifacts (filtered RPMs are not artifacts, so not listed). An
    architecture's document lists its binary RPMs only, as the recorded
    import did (166): the sources are ``modulemd.txt``'s."""
    entry = _file_output(document.filename, document.output_arch, "file", data)
    entry["extra"] = {"typeinfo": {"module": {}}}
    try:
        artifacts = document_artifacts(document.content)
    except Unprocessable as e:
        raise KojiError(f"{document.filename} cannot be read: {e.message}") from None
    components = []
    for nevra in artifacts:
        if document.arch is not None and nevra.endswith(".src"):
            continue
        rpm = by_nevra.get(nevra)
        if rpm is None:
            raise KojiError(
                f"{document.filename} lists {nevra}, which is not an RPM of the"
                " module's Koji builds"
            )
        components.append(_rpm_component(rpm))
    entry["components"] = components
    return entry


def _rpm_component(rpm: KojiRpm) -> dict[str, Any]:
    """An output's rpm component, as Koji matches it to the RPM it has."""
    built = rpm.built
    return {
        "type": "rpm",
        "name": built.name,
        "epoch": built.epoch,
        "version": built.version,
        "release": built.release,
        "arch": built.arch,
        "sigmd5": rpm.payloadhash,
    }
