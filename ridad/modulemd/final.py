"""The final modulemd of a built module: ``modulemd.txt`` and ``modulemd.<arch>.txt``.

A pure function of the build, its components and the RPMs Koji built for
them (``docs/modulemd.md``, "The final modulemd"). The documents are stream
v2 as libmodulemd writes them (``ridad.modulemd.emit``), the same bytes for
the same input.

Which RPMs are artifacts follows MBS's content generator:
- only RPMs of the module's own components (never module-build-macros);
- a binary RPM named in ``filter.rpms`` is left out; the RPM names of a
  ``buildonly`` component are added to ``filter.rpms`` first, as MBS does;
- a ``-debuginfo``/``-debugsource`` RPM stays only when the package it
  belongs to stays, or when no such package was built and another RPM of
  the same component stays;
- a source RPM stays when at least one binary RPM of its component stays;
- ``license.content`` is the set of the License headers of the binary RPMs
  that stay.

``modulemd.txt`` lists the artifacts of every architecture and keeps
``xmd.mbs``. ``modulemd.<arch>.txt`` lists the RPMs of that architecture,
``noarch`` and the sources, plus the 32-bit RPMs of a component whose
``multilib`` names the architecture (``i686`` in ``x86_64``, ``ppc`` in
``ppc64``, ``s390`` in ``s390x``); it sets ``arch``, and, as MBS's per-arch
files, leaves out ``xmd.mbs`` and the components' ``repository`` and ``cache``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

import yaml

from ridad.domain.builds import ComponentBuild, ModuleBuild
from ridad.domain.modulemd import RpmComponentSpec
from ridad.domain.scheduling import MACROS_PACKAGE
from ridad.errors import Unprocessable
from ridad.modulemd.emit import StreamV2, emit_stream_v2
from ridad.modulemd.mbs_xmd import mbs_xmd
from ridad.modulemd.source import read_source

#: The 32-bit architectures whose RPMs multilib brings into a 64-bit one.
MULTILIB_ARCHES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "x86_64": frozenset({"athlon", "i386", "i486", "i586", "i686"}),
        "ppc64": frozenset({"ppc"}),
        "s390x": frozenset({"s390"}),
    }
)
#: Koji tree arches whose package arch has another name (Pungi's table).
_YUM_ARCHES = {
    "i386": "i686",
    "sparc": "sparc64v",
    "arm": "armv7l",
    "armhfp": "armv7hnl",
}
DEBUG_SUFFIXES = ("-debuginfo", "-debugsource")
_NOT_ARCHES = ("noarch", "src")


@dataclass(frozen=True)
class BuiltRpm:
    """One RPM Koji built for a component (from listBuildRPMs / getRPMHeaders)."""

    name: str
    epoch: int | None
    version: str
    release: str
    arch: str  # "src" for the source RPM, "noarch", "x86_64", ...
    license: str | None  # the RPM's License header, None if unknown
    component: str  # the component (package) whose build produced it

    @property
    def nevra(self) -> str:
        """``name-epoch:version-release.arch``, epoch 0 when unset."""
        epoch = self.epoch or 0
        return f"{self.name}-{epoch}:{self.version}-{self.release}.{self.arch}"


@dataclass(frozen=True)
class FinalModulemd:
    """The final modulemd documents of one module build."""

    text: str  # modulemd.txt: the whole module, all arches
    per_arch: Mapping[str, str]  # arch -> modulemd.<arch>.txt
    artifacts: tuple[str, ...]  # the NEVRAs in `text`, sorted
    licenses: tuple[str, ...]  # license.content, sorted


@dataclass(frozen=True)
class _Selection:
    """The artifacts and content licenses of one document."""

    artifacts: tuple[str, ...]
    licenses: tuple[str, ...]


def _strip_debug(name: str) -> str | None:
    """The package a debug RPM belongs to, or None for another RPM."""
    for suffix in DEBUG_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return None


def _fits(rpm: BuiltRpm, arch: str | None, multilib: tuple[str, ...]) -> bool:
    """Whether a binary RPM belongs in the document of ``arch`` (None: all)."""
    if arch is None or rpm.arch in (arch, "noarch"):
        return True
    return rpm.arch in MULTILIB_ARCHES.get(arch, ()) and arch in multilib


def _select(
    rpms: Sequence[BuiltRpm],
    owners: Mapping[str, RpmComponentSpec],
    filters: frozenset[str],
    arch: str | None,
) -> _Selection:
    """Choose the artifacts of the document of ``arch`` (None: every arch).

    Debug RPMs are judged after every other RPM, as MBS does, since they
    follow the package they belong to.
    """
    binary_names = {rpm.name for rpm in rpms if rpm.arch != "src"}
    binaries = sorted(
        (rpm for rpm in rpms if rpm.arch != "src" and rpm.component in owners),
        key=lambda rpm: (_strip_debug(rpm.name) is not None, rpm.nevra),
    )
    kept_names: set[str] = set()
    kept_components: set[str] = set()
    artifacts: set[str] = set()
    licenses: set[str] = set()
    for rpm in binaries:
        spec = owners[rpm.component]
        if rpm.name in filters or not _fits(rpm, arch, spec.multilib):
            continue
        package = _strip_debug(rpm.name)
        if package is not None and not (
            package in kept_names
            or (package not in binary_names and spec.key in kept_components)
        ):
            continue
        kept_names.add(rpm.name)
        kept_components.add(spec.key)
        artifacts.add(rpm.nevra)
        if rpm.license:
            licenses.add(rpm.license)
    artifacts.update(
        rpm.nevra
        for rpm in rpms
        if rpm.arch == "src"
        and rpm.component in owners
        and owners[rpm.component].key in kept_components
    )
    return _Selection(tuple(sorted(artifacts)), tuple(sorted(licenses)))


def _built_specs(
    source: StreamV2, components: Sequence[ComponentBuild]
) -> tuple[RpmComponentSpec, ...]:
    """The rpm components with the repository and ref ridad built from."""
    builds = {c.name: c for c in components if c.name != MACROS_PACKAGE}
    specs = []
    for spec in source.rpm_components:
        built = builds.get(spec.key)
        if built is not None:
            spec = replace(spec, repository=built.repository, ref=built.ref)
        specs.append(spec)
    return tuple(specs)


def _owners(
    specs: Sequence[RpmComponentSpec], components: Sequence[ComponentBuild]
) -> dict[str, RpmComponentSpec]:
    """Each name a built RPM may give as its component -> the component.

    A component is known by its key and by its package name; the
    module-build-macros component owns nothing.
    """
    by_key = {spec.key: spec for spec in specs}
    owners: dict[str, RpmComponentSpec] = {}
    for component in components:
        spec = by_key.get(component.name)
        if spec is not None and component.name != MACROS_PACKAGE:
            owners[component.package] = spec
            owners[component.name] = spec
    return owners


def _filters(
    source: StreamV2, rpms: Sequence[BuiltRpm], owners: Mapping[str, RpmComponentSpec]
) -> tuple[str, ...]:
    """``filter.rpms``: the packager's, plus every RPM name of a buildonly component."""
    names = {
        rpm.name
        for rpm in rpms
        if rpm.component in owners and owners[rpm.component].buildonly
    }
    return tuple(sorted(set(source.filters) | names))


def _xmd(
    source: StreamV2, build: ModuleBuild, components: Sequence[ComponentBuild]
) -> dict[str, Any]:
    """The packager's xmd with ``mbs`` written by the build system."""
    xmd = dict(source.xmd) if isinstance(source.xmd, Mapping) else {}
    xmd["mbs"] = mbs_xmd(build, components)
    return xmd


def _arch_document(whole: StreamV2, selection: _Selection, arch: str) -> StreamV2:
    """The document of one architecture, made from the whole module's."""
    xmd = {key: value for key, value in whole.xmd.items() if key != "mbs"}
    specs = tuple(
        replace(spec, repository=None, cache=None) for spec in whole.rpm_components
    )
    return replace(
        whole,
        arch=_YUM_ARCHES.get(arch, arch),
        xmd=xmd,
        rpm_components=specs,
        artifacts=selection.artifacts,
        content_licenses=selection.licenses,
    )


def final_modulemd(
    *,
    build: ModuleBuild,
    components: Sequence[ComponentBuild],
    rpms: Sequence[BuiltRpm],
    arches: Sequence[str],
) -> FinalModulemd:
    """Write the final modulemd of a built module, whole and per architecture.

    :param build: the module build; its ``modulemd`` is the submitted text.
    :param components: its component builds, module-build-macros included.
    :param rpms: every RPM Koji built for those components.
    :param arches: the architectures to write a document for (the module
        tag's); ``noarch`` and ``src`` are not architectures and are skipped.
    :return: the documents, the whole module's artifacts and licenses.
    :raises Unprocessable: when the submitted modulemd is not valid.
    """
    source = read_source(build.modulemd)
    specs = _built_specs(source, components)
    owners = _owners(specs, components)
    filters = _filters(source, rpms, owners)
    frozen_filters = frozenset(filters)
    whole_selection = _select(rpms, owners, frozen_filters, None)
    whole = replace(
        source,
        name=build.name,
        stream=build.stream,
        version=build.version,
        context=build.context,
        xmd=_xmd(source, build, components),
        filters=filters,
        rpm_components=specs,
        artifacts=whole_selection.artifacts,
        content_licenses=whole_selection.licenses,
    )
    per_arch = {
        arch: emit_stream_v2(
            _arch_document(whole, _select(rpms, owners, frozen_filters, arch), arch)
        )
        for arch in sorted(set(arches))
        if arch not in _NOT_ARCHES
    }
    return FinalModulemd(
        text=emit_stream_v2(whole),
        per_arch=MappingProxyType(per_arch),
        artifacts=whole_selection.artifacts,
        licenses=whole_selection.licenses,
    )


def document_artifacts(text: str) -> tuple[str, ...]:
    """The NEVRAs a final modulemd document lists in ``artifacts.rpms``
    (read with libyaml: documents of big modules list thousands).

    :raises Unprocessable: when the text is no modulemd document.
    """
    try:
        document = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as e:
        raise Unprocessable(f"The document is not YAML: {e}") from None
    data = document.get("data") if isinstance(document, dict) else None
    artifacts = data.get("artifacts") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(artifacts or {}, dict):
        raise Unprocessable("The document has no modulemd data with artifacts")
    return tuple(str(nevra) for nevra in (artifacts or {}).get("rpms") or ())
