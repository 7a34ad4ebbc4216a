"""Koji's tags, targets, inheritance, groups and package lists as typed
operations (the part of ``KojiHub`` that builds a module's environment).

Each method is one request to the hub; "already exists" counts as done
where creating is meant to be idempotent. A write whose answer was lost is
reconciled (``ridad.koji.reconcile``): its method reads back what exists and
sends again only the calls whose effect is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ridad.domain.koji import InheritanceLink, KojiRefusal, KojiTag, KojiTarget
from ridad.errors import KojiError, KojiFault
from ridad.koji.client import KojiClient
from ridad.koji.reconcile import write_multicall
from ridad.koji.wire import KojiCall

__all__ = ["TagOperations", "checked", "refusal_of"]


def refusal_of(fault: KojiFault) -> KojiRefusal:
    """The domain value of one refused call."""
    return KojiRefusal(fault.message, fault.fault_code, fault.fault_name)


def checked(answers: Sequence[Any], what: str, *, exists_ok: bool = False) -> None:
    """Raise the first refusal among ``answers`` as 'Koji refused to <what>'.

    :raises KojiFault: for a refused call (unless it only found that the
        object exists already and ``exists_ok``).
    """
    for answer in answers:
        if isinstance(answer, KojiFault):
            if exists_ok and "already exists" in answer.message:
                continue
            raise KojiFault(
                f"Koji refused to {what}: {answer.message}",
                fault_code=answer.fault_code,
                fault_name=answer.fault_name,
            )


def _tag(info: Any) -> KojiTag | None:
    if info is None:
        return None
    if not isinstance(info, Mapping) or type(info.get("id")) is not int:
        raise KojiError(f"Malformed Koji tag info: {info!r:.100}")
    return KojiTag(id=info["id"], name=str(info["name"]))


def _target(info: Any) -> KojiTarget | None:
    if info is None:
        return None
    try:
        return KojiTarget(
            name=str(info["name"]),
            build_tag=str(info["build_tag_name"]),
            dest_tag=str(info["dest_tag_name"]),
        )
    except (KeyError, TypeError):
        raise KojiError(f"Malformed Koji target info: {info!r:.100}") from None


def _in_groups(call: KojiCall, present: Mapping[str, frozenset[str]]) -> bool:
    """Whether a ``groupListAdd`` or ``groupPackageListAdd`` is in effect."""
    group = call.args[1]
    if call.method == "groupListAdd":
        return group in present
    return call.args[2] in present.get(group, frozenset())


class TagOperations:
    """Tag, target, inheritance, group and package-list operations."""

    _client: KojiClient

    async def find_tags_and_target(
        self, tags: Sequence[str], target: str
    ) -> tuple[list[KojiTag | None], KojiTarget | None]:
        """Look up tags (None: missing) and a target (None: missing) at once.

        :raises KojiFault: when Koji refused a lookup.
        """
        answers = await self._client.multicall(
            [KojiCall("getTag", (name,)) for name in tags]
            + [KojiCall("getBuildTarget", (target,))]
        )
        checked(answers, "look up the module's tags")
        return [_tag(a) for a in answers[:-1]], _target(answers[-1])

    async def create_tags(
        self,
        tags: Sequence[tuple[str, Mapping[str, Any]]],
        *,
        arches: Sequence[str],
        perm: str | None,
    ) -> list[KojiTag]:
        """Create each ``(name, extra)`` tag (existing ones are fine), in one
        multicall, then read them all back in another.

        :raises KojiFault: when Koji refused to create or read one.
        """
        common: dict[str, Any] = {"arches": " ".join(arches)}
        if perm:
            common["perm"] = perm
        calls = [
            KojiCall("createTag", (name,), {**common, "extra": dict(extra)})
            for name, extra in tags
        ]

        async def remaining() -> list[KojiCall]:
            found = await self._client.multicall(
                [KojiCall("getTag", c.args) for c in calls]
            )
            checked(found, "look up the module's tags")
            return [c for c, info in zip(calls, found, strict=True) if info is None]

        created = await write_multicall(
            self._client, calls, remaining, what="the creation of the module's tags"
        )
        checked([a for _, a in created], "create the module's tags", exists_ok=True)
        found = await self._client.multicall(
            [KojiCall("getTag", (name,), {"strict": True}) for name, _ in tags]
        )
        checked(found, "read the module's tags back")
        return [t for t in map(_tag, found) if t is not None]

    async def parents_and_inheritance(
        self, parents: Sequence[str], tag: str
    ) -> tuple[list[KojiTag], set[InheritanceLink]]:
        """The ``parents`` tags (which must exist) and ``tag``'s current links.

        :raises KojiFault: when a parent does not exist (or Koji refused).
        """
        answers = await self._client.multicall(
            [KojiCall("getTag", (p,), {"strict": True}) for p in parents]
            + [KojiCall("getInheritanceData", (tag,))]
        )
        checked(answers, f"look up the parents of {tag}")
        found = [t for t in map(_tag, answers[:-1]) if t is not None]
        links = {
            InheritanceLink(link["parent_id"], link["priority"]) for link in answers[-1]
        }
        return found, links

    async def set_inheritance(
        self, tag_id: int, tag: str, links: Sequence[InheritanceLink]
    ) -> None:
        """Replace the parents of tag ``tag_id`` (named ``tag``) by ``links``.

        :raises KojiFault: when Koji refused.
        """
        data = [
            {
                "parent_id": link.parent_id,
                "priority": link.priority,
                "maxdepth": None,
                "intransitive": False,
                "noconfig": False,
                "pkg_filter": "",
            }
            for link in links
        ]
        call = KojiCall("setInheritanceData", (tag_id, data), {"clear": True})

        async def remaining() -> list[KojiCall]:
            _, current = await self.parents_and_inheritance([], tag)
            return [] if current == set(links) else [call]

        answers = await write_multicall(
            self._client, [call], remaining, what=f"the inheritance of {tag}"
        )
        checked([a for _, a in answers], f"set the inheritance of {tag}")

    async def tag_groups(self, tag: str) -> dict[str, frozenset[str]]:
        """The groups of ``tag`` itself (not inherited), with their packages.

        :raises KojiFault: when Koji refused.
        """
        answers = await self._client.multicall(
            [KojiCall("getTagGroups", (tag,), {"inherit": False})]
        )
        checked(answers, f"read the groups of {tag}")
        return {
            g["name"]: frozenset(p["package"] for p in g.get("packagelist", []))
            for g in answers[0]
        }

    async def add_to_groups(
        self, tag: str, groups: Sequence[str], packages: Sequence[tuple[str, str]]
    ) -> None:
        """Create ``groups`` in ``tag``, then add each ``(group, package)``.

        :raises KojiFault: when Koji refused one.
        """
        calls = [KojiCall("groupListAdd", (tag, group)) for group in groups]
        calls += [
            KojiCall("groupPackageListAdd", (tag, group, package))
            for group, package in packages
        ]

        async def remaining() -> list[KojiCall]:
            present = await self.tag_groups(tag)
            return [c for c in calls if not _in_groups(c, present)]

        if calls:
            answers = await write_multicall(
                self._client, calls, remaining, what=f"the groups of {tag}"
            )
            checked([a for _, a in answers], f"fill the groups of {tag}")

    async def package_lists(self, tags: Sequence[str]) -> list[frozenset[str]]:
        """The package names listed in each tag, in one multicall.

        :raises KojiFault: when Koji refused.
        """
        answers = await self._client.multicall(
            [KojiCall("listPackages", (), {"tagID": tag}) for tag in tags]
        )
        checked(answers, "read the package lists")
        return [frozenset(e["package_name"] for e in entries) for entries in answers]

    async def add_packages(
        self, entries: Sequence[tuple[str, str]], *, owner: str
    ) -> None:
        """List each ``(tag, package)`` in its tag, owned by ``owner``.

        :raises KojiFault: when Koji refused one.
        """
        calls = [
            KojiCall("packageListAdd", (tag, name), {"owner": owner})
            for tag, name in entries
        ]

        async def remaining() -> list[KojiCall]:
            tags = list(dict.fromkeys(tag for tag, _ in entries))
            listed = dict(zip(tags, await self.package_lists(tags), strict=True))
            return [c for c in calls if c.args[1] not in listed[c.args[0]]]

        if calls:
            answers = await write_multicall(
                self._client, calls, remaining, what="the package lists"
            )
            checked([a for _, a in answers], "add the packages to the tags")

    async def create_target(self, name: str, build_tag: str, dest_tag: str) -> None:
        """Create a build target (an existing one is fine).

        :raises KojiFault: when Koji refused.
        """
        call = KojiCall("createBuildTarget", (name, build_tag, dest_tag))

        async def remaining() -> list[KojiCall]:
            _, target = await self.find_tags_and_target([], name)
            return [] if target is not None else [call]

        answers = await write_multicall(
            self._client, [call], remaining, what=f"the build target {name}"
        )
        checked(
            [a for _, a in answers], f"create the build target {name}", exists_ok=True
        )

    async def tag_arches(self, tags: Sequence[str]) -> list[tuple[str, ...] | None]:
        """The arches of each tag (None: the tag sets none), in one multicall.

        :raises KojiFault: when a tag does not exist (or Koji refused).
        """
        answers = await self._client.multicall(
            [KojiCall("getTag", (name,), {"strict": True}) for name in tags]
        )
        checked(answers, "read the arches of the base module's Koji tag")
        return [
            tuple(str(info.get("arches") or "").split()) or None for info in answers
        ]

    async def tagged_rpm_nvrs(self, tags: Sequence[str]) -> list[tuple[str, ...]]:
        """The NVRs (``name-epoch:version-release``, epoch 0 when none) of
        the RPMs of the latest builds tagged in each tag, in one multicall:
        MBS's ``get_built_rpms_in_module_build``.

        :raises KojiFault: when a tag does not exist (or Koji refused).
        """
        if not tags:
            return []
        answers = await self._client.multicall(
            [KojiCall("listTaggedRPMS", (tag,), {"latest": True}) for tag in tags]
        )
        checked(answers, "list the RPMs of a buildrequired module's Koji tag")
        return [tuple(sorted({_nvr(rpm) for rpm in answer[0]})) for answer in answers]

    async def blocked_packages(self, tag: str) -> frozenset[str]:
        """The package names blocked in ``tag`` (inherited entries included).

        :raises KojiFault: when Koji refused.
        """
        answers = await self._client.multicall(
            [KojiCall("listPackages", (), {"tagID": tag, "inherited": True})]
        )
        checked(answers, f"read the package list of {tag}")
        return frozenset(e["package_name"] for e in answers[0] if e.get("blocked"))

    async def block_packages(
        self, tag: str, names: Sequence[str], *, block: bool = True
    ) -> None:
        """Block (or unblock) each listed package ``names`` in ``tag``; those
        already so are left alone.

        :raises KojiFault: when Koji refused one.
        """
        method = "packageListBlock" if block else "packageListUnblock"

        async def remaining() -> list[KojiCall]:
            blocked = await self.blocked_packages(tag)
            return [
                KojiCall(method, (tag, name))
                for name in names
                if (name in blocked) != block
            ]

        calls = await remaining() if names else []
        if calls:
            answers = await write_multicall(
                self._client, calls, remaining, what=f"the blocked packages of {tag}"
            )
            checked([a for _, a in answers], f"{method} in {tag}")


def _nvr(rpm: Mapping[str, Any]) -> str:
    """``name-epoch:version-release`` of an RPM, as kobo's ``make_nvr``
    with ``force_epoch``."""
    epoch = rpm.get("epoch") or 0
    return f"{rpm['name']}-{epoch}:{rpm['version']}-{rpm['release']}"
