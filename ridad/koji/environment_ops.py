"""A module build's whole Koji environment in two requests: one read
multicall of everything that exists, then one write multicall of
everything missing (tags, inheritance, groups, package lists, blocks, the
target), in dependency order.

A multicall runs its calls in order, each in its own savepoint, so the
``setInheritanceData`` of a tag created two calls before finds it; later
calls name the tags, so no read-back is needed between them. A lost write
answer is reconciled (``ridad.koji.reconcile``) by the same read multicall:
only what is still missing is sent again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ridad.domain.koji import InheritanceLink
from ridad.errors import KojiError, KojiFault
from ridad.koji.client import KojiClient
from ridad.koji.reconcile import write_multicall
from ridad.koji.tags import checked
from ridad.koji.wire import KojiCall

__all__ = ["EnvironmentOperations", "EnvironmentSpec", "EnvironmentState"]

#: Calls for which "already exists" means done (a lost answer's resend).
_CREATES = frozenset({"createTag", "createBuildTarget"})


@dataclass(frozen=True)
class EnvironmentSpec:
    """What a module build's environment must hold."""

    koji_tag: str
    build_tag: str
    target: str
    koji_tag_extra: Mapping[str, Any]
    build_tag_extra: Mapping[str, Any]
    arches: Sequence[str]
    perm: str | None
    #: The -build tag's parents, highest priority first.
    parents: Sequence[str]
    #: Each group of the -build tag, with its packages (groups in order).
    groups: Mapping[str, Sequence[str]]
    #: The packages to list, by tag.
    packages: Mapping[str, Sequence[str]]
    #: The packages to block in the -build tag.
    blocked: Sequence[str] = ()
    #: Owner of new package-list entries; None: the logged-in user.
    owner: str | None = None


@dataclass(frozen=True)
class EnvironmentState:
    """What exists of an environment (one read multicall)."""

    tags: frozenset[str]
    target: bool
    parent_ids: tuple[int, ...]
    links: frozenset[InheritanceLink]
    groups: Mapping[str, frozenset[str]]
    listed: Mapping[str, frozenset[str]]
    blocked: frozenset[str]
    user: str | None = field(default=None)


def _reads(spec: EnvironmentSpec) -> list[KojiCall]:
    build = spec.build_tag
    calls = [
        KojiCall("getTag", (spec.koji_tag,)),
        KojiCall("getTag", (build,)),
        KojiCall("getBuildTarget", (spec.target,)),
        *(KojiCall("getTag", (p,), {"strict": True}) for p in spec.parents),
        KojiCall("getInheritanceData", (build,)),
        KojiCall("getTagGroups", (build,), {"inherit": False}),
        KojiCall("listPackages", (), {"tagID": spec.koji_tag}),
        KojiCall("listPackages", (), {"tagID": build}),
        KojiCall("listPackages", (), {"tagID": build, "inherited": True}),
    ]
    if spec.owner is None:
        calls.append(KojiCall("getLoggedInUser"))
    return calls


def _or_empty(answer: Any, exists: bool, what: str) -> Any:
    """The answer of a read on a tag; a fault is empty when the tag is
    missing (Koji refuses reads on an unknown tag).

    :raises KojiFault: a read on an existing tag was refused.
    """
    if isinstance(answer, KojiFault):
        if exists:
            checked([answer], what)
        return []
    return answer


def _state(spec: EnvironmentSpec, answers: Sequence[Any]) -> EnvironmentState:
    count = 3 + len(spec.parents)
    checked(answers[:count], "look up the module's tags and their parents")
    tags = frozenset(
        name
        for name, info in zip((spec.koji_tag, spec.build_tag), answers[:2], strict=True)
        if info is not None
    )
    has_build = spec.build_tag in tags
    links, groups, own, build_own, inherited = (
        _or_empty(answer, exists, f"read {tag}")
        for answer, exists, tag in zip(
            answers[count : count + 5],
            (has_build, has_build, spec.koji_tag in tags, has_build, has_build),
            (spec.build_tag, spec.build_tag, spec.koji_tag, *[spec.build_tag] * 2),
            strict=True,
        )
    )
    user = answers[count + 5] if spec.owner is None else None
    if isinstance(user, KojiFault):
        checked([user], "read the logged-in user")
    return EnvironmentState(
        tags=tags,
        target=answers[2] is not None,
        parent_ids=tuple(int(info["id"]) for info in answers[3:count]),
        links=frozenset(
            InheritanceLink(link["parent_id"], link["priority"]) for link in links
        ),
        groups={
            g["name"]: frozenset(p["package"] for p in g.get("packagelist", []))
            for g in groups
        },
        listed={
            spec.koji_tag: frozenset(e["package_name"] for e in own),
            # Koji adds no entry over an inherited one that it would not
            # change: a package inherited unblocked counts as listed.
            spec.build_tag: frozenset(e["package_name"] for e in build_own)
            | frozenset(e["package_name"] for e in inherited if not e.get("blocked")),
        },
        blocked=frozenset(e["package_name"] for e in inherited if e.get("blocked")),
        user=str(user["name"]) if isinstance(user, Mapping) else None,
    )


def _link(parent_id: int, priority: int) -> dict[str, Any]:
    return {
        "parent_id": parent_id,
        "priority": priority,
        "maxdepth": None,
        "intransitive": False,
        "noconfig": False,
        "pkg_filter": "",
    }


def _tag_writes(spec: EnvironmentSpec, state: EnvironmentState) -> list[KojiCall]:
    common: dict[str, Any] = {"arches": " ".join(spec.arches)}
    if spec.perm:
        common["perm"] = spec.perm
    calls = [
        KojiCall("createTag", (name,), {**common, "extra": dict(extra)})
        for name, extra in (
            (spec.koji_tag, spec.koji_tag_extra),
            (spec.build_tag, spec.build_tag_extra),
        )
        if name not in state.tags
    ]
    links = [(pid, index * 10) for index, pid in enumerate(state.parent_ids)]
    if state.links != {InheritanceLink(p, prio) for p, prio in links}:
        data = [_link(p, prio) for p, prio in links]
        calls.append(
            KojiCall("setInheritanceData", (spec.build_tag, data), {"clear": True})
        )
    return calls


def _writes(spec: EnvironmentSpec, state: EnvironmentState) -> list[KojiCall]:
    """Every call still to make, in dependency order.

    :raises KojiError: packages must be listed and nobody owns them.
    """
    build = spec.build_tag
    calls = _tag_writes(spec, state)
    calls += [
        KojiCall("groupListAdd", (build, group))
        for group in spec.groups
        if group not in state.groups
    ]
    calls += [
        KojiCall("groupPackageListAdd", (build, group, package))
        for group, packages in spec.groups.items()
        for package in packages
        if package not in state.groups.get(group, frozenset())
    ]
    adds = [
        (tag, name)
        for tag, names in spec.packages.items()
        for name in names
        if name not in state.listed.get(tag, frozenset())
    ]
    owner = spec.owner or state.user
    if adds and not owner:
        raise KojiError("ridad is not logged in to Koji (koji.auth)")
    calls += [
        KojiCall("packageListAdd", (tag, name), {"owner": owner}) for tag, name in adds
    ]
    calls += [
        KojiCall("packageListBlock", (build, name))
        for name in spec.blocked
        if name not in state.blocked
    ]
    if not state.target:
        calls.append(KojiCall("createBuildTarget", (spec.target, build, spec.koji_tag)))
    return calls


class EnvironmentOperations:
    """The environment as one read and (when anything is missing) one write."""

    _client: KojiClient

    async def environment_state(self, spec: EnvironmentSpec) -> EnvironmentState:
        """What exists of ``spec``'s environment, in one multicall.

        :raises KojiFault: a parent does not exist, or Koji refused a read.
        """
        return _state(spec, await self._client.multicall(_reads(spec)))

    async def ensure_environment(self, spec: EnvironmentSpec) -> str | None:
        """Create what is missing of ``spec``'s environment (nothing twice,
        also after a lost answer); answer the package owner used.

        :raises KojiFault: Koji refused a step (its text says which).
        :raises KojiError: packages must be listed and ridad is anonymous.
        :raises KojiUnavailable: Koji stayed unreachable.
        """
        state = await self.environment_state(spec)
        calls = _writes(spec, state)

        async def remaining() -> list[KojiCall]:
            return _writes(spec, await self.environment_state(spec))

        if calls:
            answered = await write_multicall(
                self._client, calls, remaining, what="the module's environment"
            )
            for call, answer in answered:
                what = f"{call.method} {call.args[0]}"
                checked([answer], what, exists_ok=call.method in _CREATES)
        return spec.owner or state.user
