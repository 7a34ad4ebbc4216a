"""Pure rules of component reuse (MBS's ``rebuild_strategy``): which previous
build of a module components may be reused from, and which components of a
new build may take that build's NVRs instead of being built in Koji.

The previous build (``choose_source``) is the submitter's
``reuse_components_from``, else the newest ``ready`` build of the same name
and stream, neither scratch nor imported, with the same ``build_context``;
failing that, one with the same ``build_context_no_bms`` built against a
compatible base module (same base module name, and the same stream, or a
shared virtual stream and a stream version not newer). MBS recomputes the
build context with each compatible base stream; the context without base
modules plus that check is ridad's equivalent. Under ``changed-and-after``
only builds whose own strategy was ``all`` or ``changed-and-after``
qualify.

A component is reused (``reusable``) when the strategy is not ``all`` and
the previous build has a ``complete`` component of that name with an NVR,
the same commit and the same arches, and the new one is not built from an
uploaded SRPM (a scratch build's ``srpms``); under ``changed-and-after`` also the
same batch, the same ``buildopts.rpms.macros`` and the same (package,
commit, arches) in every earlier batch but module-build-macros'.
module-build-macros is reused only when every other component is, and the
macros are the same under either strategy (MBS reuses it under
``only-changed`` with changed macros too; ridad makes it again then).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ridad.domain.builds import MACROS_BATCH, ComponentBuild, ModuleBuild
from ridad.domain.rebuild import ALL, CHANGED_AND_AFTER
from ridad.domain.states import ComponentState, ModuleState

#: The strategies a previous build may have had to be reused from under
#: ``changed-and-after`` (one built more liberally may hold components
#: that should have been rebuilt).
STRICT_SOURCES = (ALL, CHANGED_AND_AFTER)

Fingerprint = tuple[str, str, frozenset[str] | None]


@dataclass(frozen=True)
class ReuseSource:
    """The previous build components are reused from, with its components."""

    build: ModuleBuild
    components: tuple[ComponentBuild, ...]


def qualifies(build: ModuleBuild, previous: ModuleBuild) -> bool:
    """Whether ``previous`` may be chosen (not named) as ``build``'s source."""
    return (
        previous.id != build.id
        and previous.name == build.name
        and previous.stream == build.stream
        and previous.state is ModuleState.READY
        and not previous.scratch
        and not previous.imported
        and (
            build.rebuild_strategy != CHANGED_AND_AFTER
            or previous.rebuild_strategy in STRICT_SOURCES
        )
    )


def _base(build: ModuleBuild) -> tuple[str, str, int | None] | None:
    for name, info in sorted(build.buildrequires.items()):
        if info.get("base_module"):
            found = info.get("module_build_id")
            return name, str(info.get("stream")), int(found) if found else None
    return None


def base_compatible(
    build: ModuleBuild, previous: ModuleBuild, bases: Mapping[int, ModuleBuild]
) -> bool:
    """Whether ``previous`` was built against a base module compatible with
    ``build``'s: the same name, and the same stream, or (both base builds
    in ``bases``) a shared virtual stream and a stream version not newer."""
    mine, theirs = _base(build), _base(previous)
    if mine is None or theirs is None or mine[0] != theirs[0]:
        return False
    if mine[1] == theirs[1]:
        return True
    new_base = bases.get(mine[2]) if mine[2] is not None else None
    old_base = bases.get(theirs[2]) if theirs[2] is not None else None
    if new_base is None or old_base is None:
        return False
    if not set(new_base.virtual_streams) & set(old_base.virtual_streams):
        return False
    top, version = new_base.stream_version, old_base.stream_version
    return top is None or version is None or version <= top


def choose_source(
    build: ModuleBuild,
    candidates: Sequence[ModuleBuild],
    bases: Mapping[int, ModuleBuild],
) -> ModuleBuild | None:
    """The build to reuse from among ``candidates`` (newest first): the
    first of the same build context, else the first of the same context
    without base modules on a compatible base module; None under ``all``."""
    if build.rebuild_strategy == ALL:
        return None
    usable = [p for p in candidates if qualifies(build, p)]
    for previous in usable:
        if previous.build_context == build.build_context:
            return previous
    if build.build_context_no_bms is None:
        return None
    for previous in usable:
        if previous.build_context_no_bms == build.build_context_no_bms and (
            base_compatible(build, previous, bases)
        ):
            return previous
    return None


def _arches(component: ComponentBuild) -> frozenset[str] | None:
    return frozenset(component.arches) if component.arches is not None else None


def _fingerprints(
    components: Sequence[ComponentBuild], batch: int
) -> frozenset[Fingerprint]:
    return frozenset(
        (c.package, c.scm_commit, _arches(c)) for c in components if c.batch == batch
    )


def _reusable_one(
    build: ModuleBuild,
    components: Sequence[ComponentBuild],
    component: ComponentBuild,
    source: ReuseSource,
) -> ComponentBuild | None:
    previous = next((p for p in source.components if p.name == component.name), None)
    if (
        previous is None
        or (component.source is not None and component.source in build.srpms)
        or previous.state is not ComponentState.COMPLETE
        or previous.nvr is None
        or previous.scm_commit != component.scm_commit
        or _arches(previous) != _arches(component)
    ):
        return None
    if build.rebuild_strategy != CHANGED_AND_AFTER:
        return previous
    if previous.batch != component.batch or (
        (build.rpm_macros or None) != (source.build.rpm_macros or None)
    ):
        return None
    for batch in range(MACROS_BATCH + 1, component.batch):
        if _fingerprints(components, batch) != _fingerprints(source.components, batch):
            return None
    return previous


def reusable(
    build: ModuleBuild,
    components: Sequence[ComponentBuild],
    source: ReuseSource | None,
) -> dict[int, ComponentBuild]:
    """The components of ``build`` that may take a previous build's NVR:
    component id → the previous build's component (module-build-macros only
    when every other component is reusable and the macros are the same)."""
    if source is None or build.rebuild_strategy == ALL:
        return {}
    found: dict[int, ComponentBuild] = {}
    ordinary = [c for c in components if c.batch != MACROS_BATCH]
    for component in ordinary:
        previous = _reusable_one(build, components, component, source)
        if previous is not None:
            found[component.id] = previous
    macros = reusable_macros(build, components, source)
    if macros is not None:
        for component in components:
            if component.batch == MACROS_BATCH:
                found[component.id] = macros
    return found


def reusable_macros(
    build: ModuleBuild,
    components: Sequence[ComponentBuild],
    source: ReuseSource | None,
) -> ComponentBuild | None:
    """The previous build's module-build-macros, when ``build`` may take it:
    every component (but the macros) is reusable and the macros are the
    same; None otherwise (and for a build without components)."""
    if source is None or build.rebuild_strategy == ALL:
        return None
    ordinary = [c for c in components if c.batch != MACROS_BATCH]
    if not ordinary or (build.rpm_macros or None) != (source.build.rpm_macros or None):
        return None
    if any(_reusable_one(build, components, c, source) is None for c in ordinary):
        return None
    return next(
        (
            p
            for p in source.components
            if p.batch == MACROS_BATCH
            and p.state is ComponentState.COMPLETE
            and p.nvr is not None
        ),
        None,
    )
