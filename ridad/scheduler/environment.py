"""The build environment of a module in Koji: tags, inheritance, groups,
package lists and the build target.

Every step first reads what exists and only creates what is missing, so
running it again after a crash creates nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from twisted.logger import Logger

from ridad.config.model import KojiConfig
from ridad.domain.builds import ComponentBuild, ModuleBuild
from ridad.domain.scheduling import MACROS_PACKAGE, build_tag_name, koji_tag_name
from ridad.errors import KojiError, KojiFault
from ridad.koji.client import KojiCall, KojiClient

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


def _check(results: Sequence[Any], what: str, *, exists_ok: bool = False) -> None:
    for result in results:
        if isinstance(result, KojiFault):
            if exists_ok and "already exists" in result.message:
                continue
            raise KojiFault(
                f"Koji refused to {what}: {result.message}",
                fault_code=result.fault_code,
                fault_name=result.fault_name,
            )


class BuildEnvironment:
    """Prepares (idempotently) what a module build needs in Koji."""

    log = Logger()

    def __init__(self, *, koji: KojiClient, config: KojiConfig) -> None:
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
        tags, target = await self._tags(build, env, dist)
        await self._inheritance(build, env, tags[env.build_tag])
        await self._groups(env)
        await self._packages(env, components)
        if target is None:
            _check(
                await self._koji.multicall(
                    [
                        KojiCall(
                            "createBuildTarget",
                            (env.target, env.build_tag, env.koji_tag),
                        )
                    ]
                ),
                f"create the build target {env.target}",
                exists_ok=True,
            )
        return env

    async def _tags(
        self, build: ModuleBuild, env: Environment, dist: str
    ) -> tuple[dict[str, int], Any]:
        found = await self._koji.multicall(
            [
                KojiCall("getTag", (env.koji_tag,)),
                KojiCall("getTag", (env.build_tag,)),
                KojiCall("getBuildTarget", (env.target,)),
            ]
        )
        _check(found, "look up the module's tags")
        common: dict[str, Any] = {"arches": " ".join(self._config.arches)}
        if self._config.tag_permission:
            common["perm"] = self._config.tag_permission
        extra = {
            "rpm.macro.dist": dist,
            "rpm.macro.modularitylabel": build.nsvc,
        }
        creates = []
        for name, info, tag_extra in (
            (env.koji_tag, found[0], {}),
            (env.build_tag, found[1], extra),
        ):
            if info is None:
                creates.append(
                    KojiCall("createTag", (name,), {**common, "extra": tag_extra})
                )
        if creates:
            _check(
                await self._koji.multicall(creates),
                "create the module's tags",
                exists_ok=True,
            )
            found = await self._koji.multicall(
                [
                    KojiCall("getTag", (env.koji_tag,), {"strict": True}),
                    KojiCall("getTag", (env.build_tag,), {"strict": True}),
                ]
            ) + [found[2]]
            _check(found, "read the module's tags back")
        return {env.koji_tag: found[0]["id"], env.build_tag: found[1]["id"]}, found[2]

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
        lookups = await self._koji.multicall(
            [KojiCall("getTag", (p,), {"strict": True}) for _, p in parents]
            + [KojiCall("getInheritanceData", (env.build_tag,))]
        )
        _check(lookups, f"look up the parents of {env.build_tag}")
        desired = [
            {
                "parent_id": tag["id"],
                "priority": index * 10,
                "maxdepth": None,
                "intransitive": False,
                "noconfig": False,
                "pkg_filter": "",
            }
            for index, tag in enumerate(lookups[:-1])
        ]
        current = {(link["parent_id"], link["priority"]) for link in lookups[-1]}
        if current != {(link["parent_id"], link["priority"]) for link in desired}:
            _check(
                await self._koji.multicall(
                    [
                        KojiCall(
                            "setInheritanceData",
                            (build_tag_id, desired),
                            {"clear": True},
                        )
                    ]
                ),
                f"set the inheritance of {env.build_tag}",
            )

    async def _groups(self, env: Environment) -> None:
        existing = await self._koji.multicall(
            [KojiCall("getTagGroups", (env.build_tag,), {"inherit": False})]
        )
        _check(existing, f"read the groups of {env.build_tag}")
        present = {
            g["name"]: {p["package"] for p in g.get("packagelist", [])}
            for g in existing[0]
        }
        wanted = dict(self._config.build_groups)
        calls = []
        for group in GROUPS:
            if group not in present:
                calls.append(KojiCall("groupListAdd", (env.build_tag, group)))
            packages = list(wanted.get(group, ())) + [MACROS_PACKAGE]
            for package in dict.fromkeys(packages):
                if package not in present.get(group, set()):
                    calls.append(
                        KojiCall("groupPackageListAdd", (env.build_tag, group, package))
                    )
        if calls:
            _check(
                await self._koji.multicall(calls), f"fill the groups of {env.build_tag}"
            )

    async def _packages(
        self, env: Environment, components: Sequence[ComponentBuild]
    ) -> None:
        owner = await self._package_owner()
        names = dict.fromkeys([MACROS_PACKAGE] + [c.package for c in components])
        listed = await self._koji.multicall(
            [
                KojiCall("listPackages", (), {"tagID": env.koji_tag}),
                KojiCall("listPackages", (), {"tagID": env.build_tag}),
            ]
        )
        _check(listed, "read the package lists")
        calls = []
        for tag, entries in ((env.koji_tag, listed[0]), (env.build_tag, listed[1])):
            have = {e["package_name"] for e in entries}
            calls += [
                KojiCall("packageListAdd", (tag, name), {"owner": owner})
                for name in names
                if name not in have
            ]
        if calls:
            _check(await self._koji.multicall(calls), "add the packages to the tags")

    async def _package_owner(self) -> str:
        if self._owner is None:
            user = await self._koji.call("getLoggedInUser")
            if not user:
                raise KojiError("ridad is not logged in to Koji (koji.auth)")
            self._owner = str(user["name"])
        return self._owner
