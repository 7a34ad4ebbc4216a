"""Write a modulemd stream v2 document the way libmodulemd 2.15 writes it.

The text is made from YAML events fed to libyaml's emitter (PyYAML's
``CSafeDumper``), the emitter libmodulemd itself drives, with the events
libmodulemd sends: the same key order, block or flow style for each list,
folded ``description`` and ``macros``, a double-quoted ``stream``, sets
sorted and deduplicated, ``xmd`` keys sorted, ``TRUE``/``FALSE`` for xmd
booleans, and strings that are empty or look like a number double-quoted
(libmodulemd 2.15's rule; 2.14 writes those plain). The same value always
gives the same text, byte for byte.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ridad.domain.modulemd import Dependencies, ModuleComponentSpec, RpmComponentSpec
from ridad.modulemd.events import DOUBLE, FOLDED, EventWriter
from ridad.modulemd.stream import BuildOpts


@dataclass(frozen=True)
class Profile:
    """One entry of ``data.profiles``."""

    description: str | None = None
    rpms: tuple[str, ...] = ()
    default: bool = False


@dataclass(frozen=True)
class StreamV2:
    """Everything a stream v2 document holds, as libmodulemd keeps it.

    ``xmd`` is None when the document has none; ``buildopts`` is None when
    the document has no ``buildopts`` section. ``servicelevels`` maps each
    name to its end of life (None when it has none).
    """

    name: str
    stream: str
    version: int
    context: str
    summary: str
    description: str
    module_licenses: tuple[str, ...]
    static_context: bool = False
    arch: str | None = None
    servicelevels: Mapping[str, datetime.date | None] = field(default_factory=dict)
    content_licenses: tuple[str, ...] = ()
    xmd: Any = None
    dependencies: tuple[Dependencies, ...] = ()
    references: Mapping[str, str] = field(default_factory=dict)
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    api: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()
    demodularized: tuple[str, ...] = ()
    buildopts: BuildOpts | None = None
    rpm_components: tuple[RpmComponentSpec, ...] = ()
    module_components: tuple[ModuleComponentSpec, ...] = ()
    artifacts: tuple[str, ...] = ()


def _emit_head(out: EventWriter, doc: StreamV2) -> None:
    """The envelope, identity, summary, description and service levels."""
    out.start_mapping()
    for key, value in (("document", "modulemd"), ("version", "2")):
        out.scalar(key)
        out.scalar(value)
    out.scalar("data")
    out.start_mapping()
    out.key_string("name", doc.name)
    out.scalar("stream")
    out.scalar(doc.stream, DOUBLE)
    if doc.version:
        out.scalar("version")
        out.scalar(str(doc.version))
    out.key_string("context", doc.context)
    out.key_true("static_context", doc.static_context)
    out.key_string("arch", doc.arch)
    out.key_string("summary", doc.summary)
    out.scalar("description")
    out.scalar(doc.description, FOLDED)
    if doc.servicelevels:
        out.scalar("servicelevels")
        out.start_mapping()
        for name in sorted(doc.servicelevels):
            out.string(name)
            out.start_mapping()
            eol = doc.servicelevels[name]
            if eol is not None:
                out.scalar("eol")
                out.scalar(eol.isoformat())
            out.end_mapping()
        out.end_mapping()


def _emit_license_and_xmd(out: EventWriter, doc: StreamV2) -> None:
    """``license`` (module, then content when any) and ``xmd``."""
    out.scalar("license")
    out.start_mapping()
    out.string_set("module", doc.module_licenses)
    if doc.content_licenses:
        out.string_set("content", doc.content_licenses)
    out.end_mapping()
    if doc.xmd is not None:
        out.scalar("xmd")
        out.variant(doc.xmd)


def _emit_dependencies(out: EventWriter, doc: StreamV2) -> None:
    """``dependencies``: one block mapping per item, streams in flow lists."""
    if not doc.dependencies:
        return
    out.scalar("dependencies")
    out.start_sequence()
    for item in doc.dependencies:
        out.start_mapping()
        for key, modules in (
            ("buildrequires", item.buildrequires),
            ("requires", item.requires),
        ):
            if modules:
                out.scalar(key)
                out.start_mapping()
                for module in sorted(modules):
                    out.string_set(module, modules[module], flow=True)
                out.end_mapping()
        out.end_mapping()
    out.end_sequence()


def _emit_references_and_profiles(out: EventWriter, doc: StreamV2) -> None:
    """``references`` and ``profiles``."""
    if any(doc.references.get(k) is not None for k in _REFERENCE_KEYS):
        out.scalar("references")
        out.start_mapping()
        for key in _REFERENCE_KEYS:
            out.key_string(key, doc.references.get(key))
        out.end_mapping()
    if not doc.profiles:
        return
    out.scalar("profiles")
    out.start_mapping()
    for name in sorted(doc.profiles):
        profile = doc.profiles[name]
        out.string(name)
        out.start_mapping()
        out.key_string("description", profile.description)
        if profile.rpms:
            out.scalar("rpms")
            out.sequence(sorted(set(profile.rpms)), flow=False)
        out.key_true("default", profile.default)
        out.end_mapping()
    out.end_mapping()


_REFERENCE_KEYS = ("community", "documentation", "tracker")


def _emit_buildopts(out: EventWriter, buildopts: BuildOpts | None) -> None:
    """``buildopts``: ``rpms`` (always, maybe empty), then ``arches``."""
    if buildopts is None:
        return
    out.scalar("buildopts")
    out.start_mapping()
    out.scalar("rpms")
    out.start_mapping()
    if buildopts.macros is not None:
        out.scalar("macros")
        out.scalar(buildopts.macros, FOLDED)
    if buildopts.whitelist:
        out.scalar("whitelist")
        out.sequence(sorted(set(buildopts.whitelist)), flow=False)
    out.end_mapping()
    if buildopts.arches:
        out.scalar("arches")
        out.sequence(sorted(set(buildopts.arches)), flow=True)
    out.end_mapping()


def _emit_build_common(
    out: EventWriter, buildorder: int, buildafter: tuple[str, ...]
) -> None:
    """``buildorder`` when not 0, else ``buildafter`` (plain, sorted)."""
    if buildorder:
        out.scalar("buildorder")
        out.scalar(str(buildorder))
    elif buildafter:
        out.scalar("buildafter")
        out.sequence(sorted(set(buildafter)), flow=False, quote=False)


def _emit_rpm_component(out: EventWriter, rpm: RpmComponentSpec) -> None:
    """One ``components.rpms`` entry."""
    out.string(rpm.key)
    out.start_mapping()
    out.key_string("rationale", rpm.rationale)
    for key, value in (
        ("name", rpm.name),
        ("repository", rpm.repository),
        ("cache", rpm.cache),
        ("ref", rpm.ref),
    ):
        out.key_string(key, value)
    out.key_true("buildroot", rpm.buildroot)
    out.key_true("srpm-buildroot", rpm.srpm_buildroot)
    _emit_build_common(out, rpm.buildorder, rpm.buildafter)
    out.key_true("buildonly", rpm.buildonly)
    for key, arches in (("arches", rpm.arches), ("multilib", rpm.multilib)):
        if arches:
            out.scalar(key)
            out.sequence(sorted(set(arches)), flow=True)
    out.end_mapping()


def _emit_module_component(out: EventWriter, module: ModuleComponentSpec) -> None:
    """One ``components.modules`` entry."""
    out.string(module.key)
    out.start_mapping()
    for key, value in (
        ("rationale", module.rationale),
        ("repository", module.repository),
        ("ref", module.ref),
    ):
        out.key_string(key, value)
    _emit_build_common(out, module.buildorder, ())
    out.end_mapping()


def _emit_components_and_artifacts(out: EventWriter, doc: StreamV2) -> None:
    """``components`` (rpms, then modules) and ``artifacts.rpms``."""
    if doc.rpm_components or doc.module_components:
        out.scalar("components")
        out.start_mapping()
        for key, entries, emit in (
            ("rpms", doc.rpm_components, _emit_rpm_component),
            ("modules", doc.module_components, _emit_module_component),
        ):
            if entries:
                out.scalar(key)
                out.start_mapping()
                for entry in sorted(entries, key=lambda e: e.key):
                    emit(out, entry)  # type: ignore[operator]
                out.end_mapping()
        out.end_mapping()
    if doc.artifacts:
        out.scalar("artifacts")
        out.start_mapping()
        out.string_set("rpms", doc.artifacts)
        out.end_mapping()


def emit_stream_v2(doc: StreamV2) -> str:
    """Write ``doc`` as libmodulemd 2.15 writes a stream v2 document.

    :return: the YAML text, from ``---`` to ``...``.
    """
    out = EventWriter()
    _emit_head(out, doc)
    _emit_license_and_xmd(out, doc)
    _emit_dependencies(out, doc)
    _emit_references_and_profiles(out, doc)
    out.rpm_names("api", doc.api)
    out.rpm_names("filter", doc.filters)
    out.rpm_names("demodularized", doc.demodularized)
    _emit_buildopts(out, doc.buildopts)
    _emit_components_and_artifacts(out, doc)
    out.end_mapping()
    out.end_mapping()
    return out.text()
