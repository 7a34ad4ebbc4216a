"""Reader for the ``data`` section of stream v1/v2 and packager v2 documents.

Every level is strict: an unknown key is a problem. Packager v2 refuses the
keys the build system fills in (name, stream, version, context, arch,
servicelevels, xmd, buildopts, artifacts, license.content). v1 writes
``dependencies`` as one mapping and has ``eol`` but no ``static_context``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ridad.domain.modulemd import ModuleStreamDocument
from ridad.modulemd.artifacts import artifacts_reader, read_servicelevels
from ridad.modulemd.components import Components, check_components, read_components
from ridad.modulemd.dependencies import read_dependencies_v1, read_dependencies_v2
from ridad.modulemd.envelope import Envelope
from ridad.modulemd.problems import ProblemLog
from ridad.modulemd.scalars import (
    FieldReader,
    map_of,
    read_bool,
    read_date,
    read_record,
    read_str,
    read_str_list,
    read_uint64,
    record_of,
)
from ridad.modulemd.yamltree import YamlMapping, YamlNode, YamlSequence

#: The longest static context libmodulemd accepts.
MAX_STATIC_CONTEXT_LENGTH = 13

_PACKAGER_REFUSED = (
    "name",
    "stream",
    "version",
    "context",
    "arch",
    "servicelevels",
    "xmd",
    "buildopts",
    "artifacts",
)
_NOT_IN_PACKAGER = "is not allowed in a modulemd-packager v2 document"
_CONTEXT_CHARACTERS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
)


@dataclass(frozen=True)
class BuildOpts:
    """``data.buildopts``: rpm macros and whitelist, and the module arches."""

    macros: str | None = None
    whitelist: tuple[str, ...] = ()
    arches: tuple[str, ...] = ()


def _read_buildopts(node: YamlNode, path: str, log: ProblemLog) -> BuildOpts | None:
    """Read ``data.buildopts``."""
    rpms_reader = record_of({"macros": read_str, "whitelist": read_str_list})
    readers = {"rpms": rpms_reader, "arches": read_str_list}
    values = read_record(node, path, log, readers)
    if values is None:
        return None
    rpms = values.get("rpms") or {}
    return BuildOpts(
        macros=rpms.get("macros"),
        whitelist=rpms.get("whitelist") or (),
        arches=values.get("arches") or (),
    )


def _read_xmd(node: YamlNode, path: str, log: ProblemLog) -> Any:
    """Read ``data.xmd`` as libmodulemd stores it (a GVariant).

    Every scalar is a string except ``TRUE``/``FALSE``, which are booleans.
    """
    if isinstance(node, YamlMapping):
        return {key.value: _read_xmd(value, path, log) for key, value in node.entries}
    if isinstance(node, YamlSequence):
        return [_read_xmd(item, path, log) for item in node.items]
    return {"TRUE": True, "FALSE": False}.get(node.value, node.value)


def _license_reader(packager: bool) -> FieldReader:
    """Make the ``data.license`` reader (no ``content`` for packager v2)."""
    readers: dict[str, FieldReader] = {"module": read_str_list}
    refused: dict[str, str] = {}
    if packager:
        refused["content"] = f"license.content {_NOT_IN_PACKAGER}"
    else:
        readers["content"] = read_str_list
    return record_of(readers, refused)


_RPM_NAMES = record_of({"rpms": read_str_list})
_REFERENCES = record_of(
    {key: read_str for key in ("community", "documentation", "tracker")}
)
_PROFILES = map_of(
    record_of({"description": read_str, "rpms": read_str_list, "default": read_bool})
)


def _build_system_readers(mdversion: int) -> dict[str, FieldReader]:
    """Readers for the keys a stream has but packager v2 leaves to the build."""
    return {
        "name": read_str,
        "stream": read_str,
        "version": read_uint64,
        "context": read_str,
        "arch": read_str,
        "servicelevels": read_servicelevels,
        "xmd": _read_xmd,
        "buildopts": _read_buildopts,
        "artifacts": artifacts_reader(mdversion),
    }


def data_readers(
    document: str, mdversion: int
) -> tuple[dict[str, FieldReader], dict[str, str]]:
    """Choose the ``data`` keys accepted for a document type and version.

    :return: key -> reader, and key -> message for keys refused outright.
    """
    packager = document == "modulemd-packager"
    readers: dict[str, FieldReader] = {
        "summary": read_str,
        "description": read_str,
        "license": _license_reader(packager),
        "references": _REFERENCES,
        "profiles": _PROFILES,
        "api": _RPM_NAMES,
        "filter": _RPM_NAMES,
        "components": read_components,
    }
    refused: dict[str, str] = {}
    if mdversion == 1:
        readers.update(dependencies=read_dependencies_v1, eol=read_date)
        refused["static_context"] = "static_context needs modulemd version 2"
    else:
        readers.update(
            dependencies=read_dependencies_v2,
            static_context=read_bool,
            demodularized=_RPM_NAMES,
        )
        refused["eol"] = "eol is a modulemd v1 key; v2 uses servicelevels"
    if packager:
        refused.update({key: f"{key} {_NOT_IN_PACKAGER}" for key in _PACKAGER_REFUSED})
        return readers, refused
    readers.update(_build_system_readers(mdversion))
    return readers, refused


def _check_mandatory(
    values: Mapping[str, Any], data: YamlMapping, log: ProblemLog
) -> None:
    """Check that summary, description and license.module are given."""
    for key in ("summary", "description"):
        if key not in values:
            log.add(f"data.{key}", data.location, f"the module {key} is missing")
    licenses = values.get("license", {})
    modules = () if licenses is None else licenses.get("module", ())
    if licenses is not None and modules is not None and not modules:
        location = (data.get("license") or data).location
        log.add("data.license.module", location, "the module license is missing")


def _check_static_context(
    values: Mapping[str, Any], data: YamlMapping, log: ProblemLog
) -> None:
    """Check a static context: 1-13 characters of ``[A-Za-z0-9_]``."""
    context = values.get("context")
    if values.get("static_context") is not True or context is None:
        return
    node = data.get("context")
    location = node.location if node is not None else data.location
    if not context:
        message = "a static context cannot be empty"
    elif len(context) > MAX_STATIC_CONTEXT_LENGTH:
        message = (
            f"the static context {context!r} is longer than"
            f" {MAX_STATIC_CONTEXT_LENGTH} characters"
        )
    elif not set(context) <= _CONTEXT_CHARACTERS:
        message = f"the static context {context!r} may only contain [A-Za-z0-9_]"
    else:
        return
    log.add("data.context", location, message)


def _build(
    envelope: Envelope, text: str, values: Mapping[str, Any], components: Components
) -> ModuleStreamDocument:
    """Fill the domain dataclass from the validated values."""
    buildopts = values.get("buildopts") or BuildOpts()
    return ModuleStreamDocument(
        document=envelope.document,
        mdversion=envelope.mdversion,
        text=text,
        summary=values["summary"],
        description=values["description"],
        module_licenses=values["license"]["module"],
        name=values.get("name"),
        stream=values.get("stream"),
        version=values.get("version") or None,
        context=values.get("context"),
        static_context=bool(values.get("static_context")),
        dependencies=values.get("dependencies") or (),
        rpm_components=components.rpms,
        module_components=components.modules,
        rpm_macros=buildopts.macros,
        rpm_whitelist=buildopts.whitelist,
        arches=buildopts.arches,
        xmd=values.get("xmd"),
    )


def read_stream(
    envelope: Envelope, text: str, log: ProblemLog
) -> ModuleStreamDocument | None:
    """Read and check the data section of a supported document.

    :return: the document, or None when any problem has been logged (here
        or before).
    """
    readers, refused = data_readers(envelope.document, envelope.mdversion)
    values = read_record(envelope.data, "data", log, readers, refused) or {}
    _check_mandatory(values, envelope.data, log)
    _check_static_context(values, envelope.data, log)
    components = values.get("components") or Components()
    buildopts = values.get("buildopts") or BuildOpts()
    # libmodulemd checks component arches against buildopts.arches in v2
    # (and packager v2) only; v1 takes any.
    module_arches = buildopts.arches if envelope.mdversion >= 2 else ()
    check_components(components, module_arches, log)
    if log:
        return None
    return _build(envelope, text, values, components)
