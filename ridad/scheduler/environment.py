"""The build environment of a module in Koji: tags, inheritance, groups,
package lists and the build target.

Every step first reads what exists and only creates what is missing, so
running it again after a crash creates nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twisted.logger import Logger

from ridad.config.model import KojiConfig
from ridad.domain.builds import ComponentBuild, ModuleBuild
from ridad.domain.koji import InheritanceLink, KojiTarget
from ridad.domain.scheduling import MACROS_PACKAGE, build_tag_name, koji_tag_name
from ridad.errors import KojiError
from ridad.koji.hub import KojiHub

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
        build.name, build.stream, build.version, build.context
    )
    return Environment(koji_tag=tag, build_tag=build_tag_name(tag), target=tag)


class BuildEnvironment:
    """Prepares (idempotently) what a module build needs in Koji."""

    log = Logger()

    def __init__(self, *, koji: KojiHub, config: KojiConfig) -> None:
        self._koji = koji
        self._config = config
        self._owner: str | None = config.package_owner

    async def prepare(
        self, build: ModuleBuild, components: Sequence[ComponentBuild], dist: str
    ) -> Environment:
        """Create what is missing of the environment; return its names.

        :raises KojiFault: Koji refused a step (its text says which).
        :raises KojiUnavailable: Koji stayed unreachable.
        """
        env = environment_of(build)
        build_tag_id, target = await self._tags(build, env, dist)
        await self._inheritance(build, env, build_tag_id)
        await self._groups(env)
        await self._packages(env, components)
        if target is None:
            await self._koji.create_target(env.target, env.build_tag, env.koji_tag)
        return env

    async def _tags(
        self, build: ModuleBuild, env: Environment, dist: str
    ) -> tuple[int, KojiTarget | None]:
        """Create the tags that are missing; answer the -build tag's id."""
        (koji_tag, build_tag), target = await self._koji.find_tags_and_target(
            [env.koji_tag, env.build_tag], env.target
        )
        extra = {
            "rpm.macro.dist": dist,
            "rpm.macro.modularitylabel": build.nsvc,
        }
        missing = [
            (name, tag_extra)
            for name, found, tag_extra in (
                (env.koji_tag, koji_tag, {}),
                (env.build_tag, build_tag, extra),
            )
            if found is None
        ]
        if missing:
            created = await self._koji.create_tags(
                missing,
                arches=self._config.arches,
                perm=self._config.tag_permission,
            )
            build_tag = next((t for t in created if t.name == env.build_tag), build_tag)
        assert build_tag is not None
        return build_tag.id, target

    async def _inheritance(
        self, build: ModuleBuild, env: Environment, build_tag_id: int
    ) -> None:
        parents = []
        for name, info in sorted(build.buildrequires.items()):
            parent = info.get("koji_tag")
            if not parent:
                raise KojiError(
                    f"buildrequired module {name}:{info.get('stream')} has no Koji tag"
                )
            parents.append((0 if info.get("base_module") else 10, parent))
        parents.sort()
        tags, current = await self._koji.parents_and_inheritance(
            [p for _, p in parents], env.build_tag
        )
        desired = [
            InheritanceLink(parent_id=tag.id, priority=index * 10)
            for index, tag in enumerate(tags)
        ]
        if current != set(desired):
            await self._koji.set_inheritance(build_tag_id, env.build_tag, desired)

    async def _groups(self, env: Environment) -> None:
        present = await self._koji.tag_groups(env.build_tag)
        wanted = dict(self._config.build_groups)
        groups = [group for group in GROUPS if group not in present]
        packages = []
        for group in GROUPS:
            names = list(wanted.get(group, ())) + [MACROS_PACKAGE]
            for package in dict.fromkeys(names):
                if package not in present.get(group, frozenset()):
                    packages.append((group, package))
        await self._koji.add_to_groups(env.build_tag, groups, packages)

    async def _packages(
        self, env: Environment, components: Sequence[ComponentBuild]
    ) -> None:
        owner = await self._package_owner()
        names = dict.fromkeys([MACROS_PACKAGE] + [c.package for c in components])
        tags = [env.koji_tag, env.build_tag]
        listed = await self._koji.package_lists(tags)
        await self._koji.add_packages(
            [
                (tag, name)
                for tag, have in zip(tags, listed, strict=True)
                for name in names
                if name not in have
            ],
            owner=owner,
        )

    async def _package_owner(self) -> str:
        if self._owner is None:
            user = await self._koji.logged_in_user()
            if not user:
                raise KojiError("ridad is not logged in to Koji (koji.auth)")
            self._owner = user
        return self._owner
