"""Cleaning up after module builds as typed operations (the part of
``KojiHub`` the leader's sweeps use): reading and deleting build targets,
reading what tags hold and untagging builds.

Deleting a target that is gone already is not a fault on Koji 1.35 (it
answers nil, as for a target it deleted). A write whose answer was lost is
reconciled (``ridad.koji.reconcile``): the targets or tags are read back and
only what is still to do is sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ridad.domain.koji import KojiTarget
from ridad.errors import KojiError, KojiFault
from ridad.koji.client import KojiClient
from ridad.koji.reconcile import write_multicall
from ridad.koji.tags import _target, checked
from ridad.koji.wire import KojiCall

__all__ = ["CleanupOperations"]


def _nvrs(builds: Any) -> frozenset[str]:
    if not isinstance(builds, list):
        raise KojiError(f"Koji answered {builds!r:.100} where tagged builds belong")
    return frozenset(str(info["nvr"]) for info in builds)


class CleanupOperations:
    """Target and untagging operations, each one request to the hub."""

    _client: KojiClient

    async def build_targets(self, names: Sequence[str]) -> dict[str, KojiTarget | None]:
        """Each named target (None: there is none), in one multicall.

        :raises KojiFault: when Koji refused a lookup.
        :raises KojiUnavailable: Koji stayed unreachable.
        """
        if not names:
            return {}
        answers = await self._client.multicall(
            [KojiCall("getBuildTarget", (name,)) for name in names]
        )
        checked(answers, "look up the build targets")
        return {name: _target(a) for name, a in zip(names, answers, strict=True)}

    async def delete_targets(self, names: Sequence[str]) -> None:
        """Delete each named build target (its tags stay), in one multicall.

        After a lost answer the targets are read and only those still there
        are deleted again.

        :raises KojiFault: when Koji refused a deletion.
        :raises KojiUnavailable: Koji stayed unreachable.
        """
        calls = [KojiCall("deleteBuildTarget", (name,)) for name in names]

        async def remaining() -> list[KojiCall]:
            found = await self.build_targets(names)
            return [c for c in calls if found[c.args[0]] is not None]

        if calls:
            answers = await write_multicall(
                self._client, calls, remaining, what="the deletion of build targets"
            )
            checked([a for _, a in answers], "delete the build targets")

    async def tagged_nvrs(self, tags: Sequence[str]) -> dict[str, frozenset[str]]:
        """The NVRs of the builds in each tag itself (not inherited), in one
        multicall; a tag that does not exist holds none.

        :raises KojiFault: when Koji refused to list an existing tag.
        :raises KojiUnavailable: Koji stayed unreachable.
        """
        if not tags:
            return {}
        calls = []
        for tag in tags:
            calls += [KojiCall("getTag", (tag,)), KojiCall("listTagged", (tag,))]
        answers = await self._client.multicall(calls)
        found = {}
        for index, tag in enumerate(tags):
            info, builds = answers[2 * index], answers[2 * index + 1]
            checked([info], f"look up the tag {tag}")
            if info is None:
                found[tag] = frozenset()
                continue
            checked([builds], f"list the builds of {tag}")
            found[tag] = _nvrs(builds)
        return found

    async def untag_builds(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Untag each ``(tag, nvr)`` at once (``untagBuildBypass``), in one
        multicall; a build no longer in its tag counts as untagged.

        After a lost answer the tags are read and only the builds still in
        them are untagged again.

        :raises KojiFault: when Koji refused an untagging.
        :raises KojiUnavailable: Koji stayed unreachable.
        """
        calls = [KojiCall("untagBuildBypass", pair) for pair in pairs]

        async def remaining() -> list[KojiCall]:
            tags = list(dict.fromkeys(tag for tag, _ in pairs))
            present = await self.tagged_nvrs(tags)
            return [c for c in calls if c.args[1] in present[c.args[0]]]

        if not calls:
            return
        answers = await write_multicall(
            self._client, calls, remaining, what="the untagging of builds"
        )
        for call, answer in answers:
            if isinstance(answer, KojiFault) and "not in tag" not in answer.message:
                tag, nvr = call.args
                raise KojiFault(
                    f"Koji refused to untag {nvr} from {tag}: {answer.message}",
                    fault_code=answer.fault_code,
                    fault_name=answer.fault_name,
                )
