"""The build environment of a module in Koji: tags, inheritance, groups,
package lists and the build target.

Every step first reads what exists and only creates what is missing, so
running it again after a crash creates nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from twisted.logger import Logger

from ridad.config.model import KojiConfig
from ridad.db.builds import SchedulingStore
from ridad.domain.buildroot import (
    BuildrootPlan,
    base_module_tag,
    disttag_marking,
    filtered_lookups,
    mbs_options,
    plan_arches,
    profile_groups,
    rpm_whitelist,
    tag_extra,
    with_filtered_rpms,
)
from ridad.domain.builds import ComponentBuild, ModuleBuild
from ridad.domain.scheduling import (
    MACROS_PACKAGE,
    build_tag_name,
    koji_tag_name,
    metadata_only,
)
from ridad.errors import KojiError, Unprocessable
from ridad.koji.environment_ops import EnvironmentSpec
from ridad.koji.hub import KojiHub
from ridad.scheduler.macros import module_dist

GROUPS = ("build", "srpm-build")


@dataclass(frozen=True)
class Environment:
    """Names of a module build's Koji objects."""

    koji_tag: str
    build_tag: str
    target: str


def environment_of(build: ModuleBuild) -> Environment:
    """The Koji tag, -build tag and target of a module build."""
    tag = build.koji_tag or koji_tag_name(
        build.name,
        build.stream,
        build.version,
        build.context,
        scratch=build.scratch,
        scratch_id=build.id,
    )
    return Environment(koji_tag=tag, build_tag=build_tag_name(tag), target=tag)


class BuildEnvironment:
    """Prepares (idempotently) what a module build needs in Koji."""

    log = Logger()

    def __init__(self, *, koji: KojiHub, config: KojiConfig) -> None:
        self._koji = koji
        self._config = config
        self._owner: str | None = config.package_owner

    async def plan(
        self, build: ModuleBuild, buildrequired_modulemds: Sequence[str]
    ) -> BuildrootPlan:
        """What the buildroot of ``build`` holds: MBS's tag extra, the arches
        (narrowed to the base module's Koji tag), the groups from the
        buildrequired modules' profiles, the whitelist and blocked packages.

        :raises Unprocessable: no arch is left.
        :raises KojiFault: the base module's tag cannot be read.
        """
        options = mbs_options(build.modulemd)
        base_tag = base_module_tag(build.buildrequires)
        base_arches = (await self._koji.tag_arches([base_tag]))[0] if base_tag else None
        blocked = options.get("blocked_packages")
        return BuildrootPlan(
            extra=tag_extra(options),
            arches=plan_arches(build.arches or (), base_arches, self._config.arches),
            groups=profile_groups(
                buildrequired_modulemds, dict(self._config.build_groups)
            ),
            whitelist=rpm_whitelist(build.modulemd),
            blocked=tuple(str(b) for b in blocked) if isinstance(blocked, list) else (),
        )

    async def filtered_rpms(
        self, build: ModuleBuild, modulemds: Mapping[str, str]
    ) -> dict[str, Any]:
        """``build.buildrequires`` with each entry's ``filtered_rpms``: the
        RPMs of the buildrequired module's tag it filters (one multicall for
        every module that filters any), so module-build-macros conflicts
        with them.

        :raises KojiFault: a buildrequired module's tag cannot be read.
        """
        lookups = filtered_lookups(build.buildrequires, modulemds)
        names = list(lookups)
        tagged = await self._koji.tagged_rpm_nvrs([lookups[n][0] for n in names])
        return with_filtered_rpms(
            build.buildrequires, lookups, dict(zip(names, tagged, strict=True))
        )

    async def prepare(
        self,
        build: ModuleBuild,
        components: Sequence[ComponentBuild],
        dist: str,
        plan: BuildrootPlan,
    ) -> Environment:
        """Create what is missing of the environment; return its names.

        :raises KojiFault: Koji refused a step (its text says which).
        :raises KojiUnavailable: Koji stayed unreachable.
        """
        env = environment_of(build)
        spec = EnvironmentSpec(
            koji_tag=env.koji_tag,
            build_tag=env.build_tag,
            target=env.target,
            koji_tag_extra=dict(plan.extra),
            build_tag_extra={
                **plan.extra,
                "rpm.macro.dist": dist,
                "rpm.macro.modularitylabel": build.nsvc,
            },
            arches=plan.arches or self._config.arches,
            perm=self._config.tag_permission,
            parents=_parents(build),
            groups={g: tuple(plan.groups.get(g, ())) for g in GROUPS},
            **_package_lists(env, components, plan),
            owner=self._owner,
        )
        self._owner = await self._koji.ensure_environment(spec) or self._owner
        return env

    async def before_tagging(
        self, build: ModuleBuild, built: Sequence[ComponentBuild]
    ) -> None:
        """Unblock in the -build tag the ``blocked_packages`` just built in
        the module, so they can be tagged there (MBS's ``unblock_artifacts``).
        Idempotent: run again after a crash, it changes nothing twice."""
        names = {c.package for c in built}
        blocked = mbs_options(build.modulemd).get("blocked_packages")
        if isinstance(blocked, list):
            unblock = [str(b) for b in blocked if str(b) in names]
            await self._koji.block_packages(
                environment_of(build).build_tag, unblock, block=False
            )

    async def after_tagging(
        self, build: ModuleBuild, tagged: Sequence[ComponentBuild]
    ) -> None:
        """Put module-build-macros into the groups once it is built and
        tagged (MBS's order: no buildroot names a package that is missing).
        Idempotent: run again after a crash, it changes nothing twice."""
        env = environment_of(build)
        if not any(c.package == MACROS_PACKAGE for c in tagged):
            return
        # groupPackageListAdd of a package already in the group changes
        # nothing (docs/koji.md §9): one request, no read before it.
        await self._koji.add_to_groups(
            env.build_tag, [], [(group, MACROS_PACKAGE) for group in GROUPS]
        )


def _parents(build: ModuleBuild) -> tuple[str, ...]:
    """The -build tag's parents: the buildrequired modules' tags, the base
    module's first.

    :raises KojiError: a buildrequired module has no Koji tag.
    """
    parents = []
    for name, info in sorted(build.buildrequires.items()):
        parent = info.get("koji_tag")
        if not parent:
            raise KojiError(
                f"buildrequired module {name}:{info.get('stream')} has no Koji tag"
            )
        parents.append((0 if info.get("base_module") else 10, parent))
    return tuple(p for _, p in sorted(parents))


def _package_lists(
    env: Environment, components: Sequence[ComponentBuild], plan: BuildrootPlan
) -> dict[str, Any]:
    """The packages to list (the whitelist instead of the component names
    when given; each built package is listed too, as MBS's ``build`` does;
    module-build-macros unless the build is metadata-only, which builds
    nothing) and those to block in the -build tag (``blocked_packages``
    not built yet)."""
    macros = [] if metadata_only(components) else [MACROS_PACKAGE]
    names = list(
        dict.fromkeys([*macros, *plan.whitelist, *(c.package for c in components)])
    )
    built = {c.package for c in components if c.tagged}
    blocked = tuple(b for b in plan.blocked if b not in built)
    return {
        "packages": {
            env.koji_tag: tuple(names),
            env.build_tag: tuple(dict.fromkeys([*names, *blocked])),
        },
        "blocked": blocked,
    }


async def buildrequired_modulemds(
    store: SchedulingStore, build: ModuleBuild
) -> dict[str, str]:
    """The modulemds of the buildrequired modules built or imported in ridad,
    by name (their ``buildroot`` and ``srpm-buildroot`` profiles fill the
    groups, their filters the ``filtered_rpms``).

    :raises Unprocessable: one of them is no longer in the database.
    """
    wanted = {
        name: int(info["module_build_id"])
        for name, info in build.buildrequires.items()
        if info.get("module_build_id") is not None
    }
    found = await store.modulemds(list(wanted.values()))
    missing = sorted(name for name, i in wanted.items() if i not in found)
    if missing:
        raise Unprocessable(
            f"buildrequired module {missing[0]} (module build"
            f" {wanted[missing[0]]}) was not found"
        )
    return {name: found[wanted[name]] for name in sorted(wanted)}


async def dist_of(store: SchedulingStore, build: ModuleBuild) -> str:
    """The ``%dist`` of ``build``'s RPMs, as MBS's ``get_rpm_release`` makes it.

    The index is the lowest id among the build and its MSE siblings (so
    siblings share it); the marking is the first buildrequired base
    module's ``disttag_marking``, else its stream.
    """
    index = await store.lowest_sibling_id(build)
    marking = build.base_stream
    base_id = next(
        (
            info.get("module_build_id")
            for info in build.buildrequires.values()
            if info.get("base_module")
        ),
        None,
    )
    if base_id is not None:
        found = await store.modulemds([int(base_id)])
        if int(base_id) in found:
            marking = disttag_marking(found[int(base_id)]) or marking
    return module_dist(
        build.name,
        build.stream,
        build.version,
        build.context,
        index,
        marking,
        scratch=build.scratch,
    )
