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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from ridad.domain.modulemd import Dependencies, ModuleComponentSpec, RpmComponentSpec
from ridad.modulemd.stream import BuildOpts

_DOUBLE = '"'
_FOLDED = ">"


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


def looks_like_number(text: str) -> bool:
    """Whether libmodulemd 2.15 double-quotes ``text``: empty or number-like.

    Decimal digits with one optional point and, after a point, an exponent;
    ``0x`` hexadecimal, ``0o`` octal, ``.nan`` and ``[+-].inf``; an optional
    leading sign.

    :return: True for the strings YAML readers could take for numbers.
    """
    if text in ("", ".nan"):
        return True
    rest = text[1:] if text[0] in "+-" else text
    if rest == ".inf":
        return True
    digits = "0123456789"
    fractional = False
    if rest.startswith("."):
        fractional, rest = True, rest[1:]
    elif rest.startswith("0x"):
        digits, rest = "0123456789abcdefABCDEF", rest[2:]
    elif rest.startswith("0o"):
        digits, rest = "01234567", rest[2:]
    if not rest:
        return False
    if len(digits) != 10:
        return all(character in digits for character in rest)
    exponent = 0
    for character in rest:
        if character == "." and not fractional:
            fractional = True
        elif character in "eE" and fractional and not exponent:
            exponent = 1
        elif character in "+-" and exponent == 1:
            exponent = 2
        elif character not in digits:
            return False
    return True


class _Events:
    """The events of one document, with libmodulemd's emitting helpers."""

    def __init__(self) -> None:
        self.events: list[yaml.Event] = [
            yaml.StreamStartEvent(),
            yaml.DocumentStartEvent(explicit=True),
        ]

    def scalar(self, value: str, style: str | None = None) -> None:
        """A scalar in ``style`` (plain when None), never tagged."""
        self.events.append(
            yaml.ScalarEvent(None, None, (True, True), value, style=style)
        )

    def string(self, value: str) -> None:
        """A string, double-quoted when empty or number-like."""
        self.scalar(value, _DOUBLE if looks_like_number(value) else None)

    def start_mapping(self) -> None:
        """Open a block mapping."""
        self.events.append(yaml.MappingStartEvent(None, None, True, flow_style=False))

    def end_mapping(self) -> None:
        """Close the open mapping."""
        self.events.append(yaml.MappingEndEvent())

    def sequence(
        self, values: Iterable[str], *, flow: bool, quote: bool = True
    ) -> None:
        """A sequence of strings in the given order."""
        self.events.append(yaml.SequenceStartEvent(None, None, True, flow_style=flow))
        for value in values:
            self.string(value) if quote else self.scalar(value)
        self.events.append(yaml.SequenceEndEvent())

    def string_set(
        self, key: str, values: Iterable[str], *, flow: bool = False
    ) -> None:
        """``key:`` then the values, sorted and once each."""
        self.string(key)
        self.sequence(sorted(set(values)), flow=flow)

    def key_string(self, key: str, value: str | None) -> None:
        """``key: value`` when the value is set."""
        if value is not None:
            self.scalar(key)
            self.string(value)

    def key_true(self, key: str, value: bool) -> None:
        """``key: true`` when the value is true (false is never written)."""
        if value:
            self.scalar(key)
            self.scalar("true")

    def rpm_names(self, key: str, names: tuple[str, ...]) -> None:
        """``key: {rpms: [...]}`` when there are names (api, filter, ...)."""
        if names:
            self.scalar(key)
            self.start_mapping()
            self.string_set("rpms", names)
            self.end_mapping()

    def variant(self, value: Any) -> None:
        """An xmd value: sorted mappings, sequences, booleans, strings."""
        if isinstance(value, bool):
            self.scalar("TRUE" if value else "FALSE")
        elif isinstance(value, Mapping):
            self.start_mapping()
            for key in sorted(value):
                self.string(key)
                self.variant(value[key])
            self.end_mapping()
        elif isinstance(value, list | tuple):
            self.events.append(
                yaml.SequenceStartEvent(None, None, True, flow_style=False)
            )
            for item in value:
                self.variant(item)
            self.events.append(yaml.SequenceEndEvent())
        else:
            self.string(str(value))

    def text(self) -> str:
        """End the document and let libyaml write it."""
        self.events += [yaml.DocumentEndEvent(explicit=True), yaml.StreamEndEvent()]
        return yaml.emit(self.events, Dumper=yaml.CSafeDumper, allow_unicode=True)


def _emit_head(out: _Events, doc: StreamV2) -> None:
    """The envelope, identity, summary, description and service levels."""
    out.start_mapping()
    for key, value in (("document", "modulemd"), ("version", "2")):
        out.scalar(key)
        out.scalar(value)
    out.scalar("data")
    out.start_mapping()
    out.key_string("name", doc.name)
    out.scalar("stream")
    out.scalar(doc.stream, _DOUBLE)
    if doc.version:
        out.scalar("version")
        out.scalar(str(doc.version))
    out.key_string("context", doc.context)
    out.key_true("static_context", doc.static_context)
    out.key_string("arch", doc.arch)
    out.key_string("summary", doc.summary)
    out.scalar("description")
    out.scalar(doc.description, _FOLDED)
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


def _emit_license_and_xmd(out: _Events, doc: StreamV2) -> None:
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


def _emit_dependencies(out: _Events, doc: StreamV2) -> None:
    """``dependencies``: one block mapping per item, streams in flow lists."""
    if not doc.dependencies:
        return
    out.scalar("dependencies")
    out.events.append(yaml.SequenceStartEvent(None, None, True, flow_style=False))
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
    out.events.append(yaml.SequenceEndEvent())


def _emit_references_and_profiles(out: _Events, doc: StreamV2) -> None:
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


def _emit_buildopts(out: _Events, buildopts: BuildOpts | None) -> None:
    """``buildopts``: ``rpms`` (always, maybe empty), then ``arches``."""
    if buildopts is None:
        return
    out.scalar("buildopts")
    out.start_mapping()
    out.scalar("rpms")
    out.start_mapping()
    if buildopts.macros is not None:
        out.scalar("macros")
        out.scalar(buildopts.macros, _FOLDED)
    if buildopts.whitelist:
        out.scalar("whitelist")
        out.sequence(sorted(set(buildopts.whitelist)), flow=False)
    out.end_mapping()
    if buildopts.arches:
        out.scalar("arches")
        out.sequence(sorted(set(buildopts.arches)), flow=True)
    out.end_mapping()


def _emit_build_common(
    out: _Events, buildorder: int, buildafter: tuple[str, ...]
) -> None:
    """``buildorder`` when not 0, else ``buildafter`` (plain, sorted)."""
    if buildorder:
        out.scalar("buildorder")
        out.scalar(str(buildorder))
    elif buildafter:
        out.scalar("buildafter")
        out.sequence(sorted(set(buildafter)), flow=False, quote=False)


def _emit_rpm_component(out: _Events, rpm: RpmComponentSpec) -> None:
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


def _emit_module_component(out: _Events, module: ModuleComponentSpec) -> None:
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


def _emit_components_and_artifacts(out: _Events, doc: StreamV2) -> None:
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
    out = _Events()
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
