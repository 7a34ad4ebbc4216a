"""What a module build's buildroot holds, as MBS prepares it: the tag
``extra``, the arches, the ``build``/``srpm-build`` groups, the package
lists with the whitelist, the blocked packages and the ``Conflicts:`` of
module-build-macros (docs/mbs-resolution.md section 7). Pure: the caller
brings the modulemd texts and the Koji facts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from ridad.errors import Unprocessable

__all__ = [
    "BASE_TAG_EXTRA",
    "BuildrootPlan",
    "arch_override",
    "base_module_tag",
    "conflicts_text",
    "disttag_marking",
    "filtered_lookups",
    "rpm_filter",
    "with_filtered_rpms",
    "mbs_options",
    "plan_arches",
    "profile_groups",
    "tag_extra",
]

#: MBS's ``KOJI_TAG_EXTRA_OPTS`` default, on both tags of a module.
BASE_TAG_EXTRA: Mapping[str, Any] = {
    "mock.package_manager": "dnf",
    "repo_include_all": True,
    "mock.new_chroot": 0,
    "mock.yum.module_hotfixes": 1,
}

#: The groups a -build tag has, and the profile each comes from.
GROUP_PROFILES = (("build", "buildroot"), ("srpm-build", "srpm-buildroot"))


@dataclass(frozen=True)
class BuildrootPlan:
    """What the environment step puts into Koji beyond tags and inheritance."""

    #: ``extra`` of both tags (the -build tag adds the rpm macros).
    extra: Mapping[str, Any] = field(default_factory=lambda: dict(BASE_TAG_EXTRA))
    #: Arches of both tags (None: ``koji.arches``).
    arches: tuple[str, ...] | None = None
    #: Packages of each group (module-build-macros is added once built).
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: ``buildopts.rpms.whitelist``: listed instead of the component names.
    whitelist: tuple[str, ...] = ()
    #: ``xmd.mbs_options.blocked_packages``: blocked in the -build tag.
    blocked: tuple[str, ...] = ()


def _document(modulemd: str) -> Mapping[str, Any]:
    try:
        loaded = yaml.safe_load(modulemd) if modulemd else None
    except yaml.YAMLError:
        return {}
    data = loaded.get("data") if isinstance(loaded, Mapping) else None
    return data if isinstance(data, Mapping) else {}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(v) for v in value if isinstance(v, str | int))


def mbs_options(modulemd: str) -> Mapping[str, Any]:
    """``data.xmd.mbs_options`` of a modulemd (empty when absent)."""
    return _mapping(_mapping(_document(modulemd).get("xmd")).get("mbs_options"))


def disttag_marking(modulemd: str) -> str | None:
    """``data.xmd.mbs.disttag_marking`` of a base module (None when absent):
    what MBS puts in ``%dist`` instead of the base module's stream."""
    marking = _mapping(_mapping(_document(modulemd).get("xmd")).get("mbs")).get(
        "disttag_marking"
    )
    return marking if isinstance(marking, str) and marking else None


def base_module_tag(buildrequires: Mapping[str, Any]) -> str | None:
    """The Koji tag of the first buildrequired base module (by name), whose
    arches narrow the build's; None when there is none."""
    for _, info in sorted(buildrequires.items()):
        info = _mapping(info)
        if info.get("base_module") and info.get("koji_tag"):
            return str(info["koji_tag"])
    return None


def rpm_filter(modulemd: str) -> tuple[str, ...]:
    """``data.filter.rpms`` of a modulemd: the binary RPM names it filters."""
    return _strings(_mapping(_document(modulemd).get("filter")).get("rpms"))


def filtered_lookups(
    buildrequires: Mapping[str, Any], modulemds: Mapping[str, str]
) -> dict[str, tuple[str, tuple[str, ...]]]:
    """What MBS's ``record_filtered_rpms`` asks Koji: for each buildrequired
    module that is not a base module, has a Koji tag and filters RPMs, its
    tag and the names it filters (by module name)."""
    wanted = {}
    for name, info in sorted(buildrequires.items()):
        info = _mapping(info)
        names = rpm_filter(modulemds.get(name, ""))
        if info.get("base_module") or not info.get("koji_tag") or not names:
            continue
        wanted[name] = (str(info["koji_tag"]), names)
    return wanted


def with_filtered_rpms(
    buildrequires: Mapping[str, Any],
    lookups: Mapping[str, tuple[str, tuple[str, ...]]],
    tagged: Mapping[str, Sequence[str]],
) -> dict[str, Any]:
    """``buildrequires`` with ``filtered_rpms`` recorded, as MBS does: the
    NVRs (``name-epoch:version-release``) of the RPMs in each looked-up
    module's tag (``tagged`` by module name) whose name that module filters;
    every other entry gets ``[]`` when it has none."""
    recorded: dict[str, Any] = {}
    for name, info in buildrequires.items():
        entry = dict(_mapping(info))
        if name in lookups:
            names = frozenset(lookups[name][1])
            entry["filtered_rpms"] = [
                nvr for nvr in tagged.get(name, ()) if nvr.rsplit("-", 2)[0] in names
            ]
        else:
            entry.setdefault("filtered_rpms", [])
        recorded[name] = entry
    return recorded


def rpm_whitelist(modulemd: str) -> tuple[str, ...]:
    """``data.buildopts.rpms.whitelist`` of a modulemd."""
    buildopts = _mapping(_document(modulemd).get("buildopts"))
    return _strings(_mapping(buildopts.get("rpms")).get("whitelist"))


def tag_extra(options: Mapping[str, Any]) -> dict[str, Any]:
    """MBS's tag ``extra``; ``repo_include_all`` and ``module_hotfixes`` of
    ``xmd.mbs_options`` override the defaults when given."""
    extra = dict(BASE_TAG_EXTRA)
    if isinstance(options.get("repo_include_all"), bool):
        extra["repo_include_all"] = options["repo_include_all"]
    if isinstance(options.get("module_hotfixes"), bool):
        extra["mock.yum.module_hotfixes"] = int(options["module_hotfixes"])
    return extra


def plan_arches(
    module_arches: Sequence[str],
    base_arches: Sequence[str] | None,
    koji_arches: Sequence[str] | None,
) -> tuple[str, ...] | None:
    """``koji.arches`` narrowed to ``buildopts.arches`` (when given) and to
    the base module tag's arches (when known), in ``koji.arches`` order
    (None without Koji).

    :raises Unprocessable: no arch is left.
    """
    if koji_arches is None:
        return None
    arches = [a for a in koji_arches if not module_arches or a in module_arches]
    if base_arches:
        arches = [a for a in arches if a in base_arches]
    if not arches:
        raise Unprocessable(
            "no arch left to build for: buildopts.arches"
            f" {list(module_arches) or 'any'}, the base module's Koji tag"
            f" {list(base_arches or ()) or 'any'}, ridad's koji.arches"
            f" {list(koji_arches)}; list arches in buildopts.arches that all"
            " of them have"
        )
    return tuple(arches)


def arch_override(
    component_arches: Sequence[str] | None, module_arches: Sequence[str]
) -> str | None:
    """The ``arch_override`` build option of a component restricted by its
    own ``arches`` (Koji's CLI form, space separated); None: not restricted.

    :raises Unprocessable: none of its arches is one of the module's.
    """
    if not component_arches:
        return None
    kept = [a for a in module_arches if a in component_arches]
    if not kept:
        raise Unprocessable(
            f"the component's arches {list(component_arches)} leave none of"
            f" the module's arches {list(module_arches)}"
        )
    return None if kept == list(module_arches) else " ".join(kept)


def profile_groups(
    modulemds: Iterable[str], base: Mapping[str, Sequence[str]]
) -> dict[str, tuple[str, ...]]:
    """The ``build`` and ``srpm-build`` groups: ``base`` (``koji.build_groups``)
    then the ``buildroot`` and ``srpm-buildroot`` profiles of the
    buildrequired modules (MBS's ``resolve_profiles``), sorted after ``base``."""
    extra: dict[str, set[str]] = {group: set() for group, _ in GROUP_PROFILES}
    for text in modulemds:
        profiles = _mapping(_document(text).get("profiles"))
        for group, profile in GROUP_PROFILES:
            extra[group].update(_strings(_mapping(profiles.get(profile)).get("rpms")))
    return {
        group: tuple(dict.fromkeys([*base.get(group, ()), *sorted(extra[group])]))
        for group, _ in GROUP_PROFILES
    }


#: What an NVR or a module name may hold to be written into the spec:
#: nothing rpmbuild would expand (``%``) or split (whitespace) on ridad's host.
_SAFE = re.compile(r"[A-Za-z0-9._+~^:-]+")


def _conflict(nvr: str) -> str | None:
    """``name = E:V-R`` of ``name-[E:]V-R`` (epoch 0 when none); None for
    what is no NVR."""
    if not _SAFE.fullmatch(nvr):
        return None
    name_version, _, release = nvr.rpartition("-")
    name, _, version = name_version.rpartition("-")
    if not (name and version and release):
        return None
    epoch, colon, bare = version.partition(":")
    if not colon:
        epoch, bare = "0", version
    return f"{name} = {epoch}:{bare}-{release}"


def conflicts_text(buildrequires: Mapping[str, Any]) -> str:
    """The ``Conflicts:`` lines of module-build-macros for the RPMs the
    buildrequired modules filter, as MBS writes them ("" when none)."""
    lines: list[str] = []
    for name in sorted(buildrequires):
        info = _mapping(buildrequires[name])
        if not _SAFE.fullmatch(name):
            continue
        conflicts = [
            c for c in map(_conflict, _strings(info.get("filtered_rpms"))) if c
        ]
        if conflicts:
            lines.append(f"# Filtered rpms from {name} module:")
            lines.extend(f"Conflicts: {c}" for c in conflicts)
    return "\n".join(lines) + "\n" if lines else ""
