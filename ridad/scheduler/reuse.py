"""Component reuse in the build driver: at the wait step the previous build
components are reused from is chosen and recorded (``reused_module_id``)
and module-build-macros is made, or the previous build's taken when every
component is reusable; in the build step each component that would be
submitted now and is reusable is recorded ``complete`` with the previous
build's NVR instead (``Transitions.record_reused``), untagged: the driver's
next tagging tags it into the new build's tags like a built one, so a crash
before or after that tagging replays it, and the batch waits for its repo
as if it had built. The rules are ``ridad.domain.reuse``."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from twisted.logger import Logger

from ridad.db.reuse import ReuseStore
from ridad.domain.builds import MACROS_BATCH, ComponentBuild, ModuleBuild, NewComponent
from ridad.domain.rebuild import ALL
from ridad.domain.reuse import ReuseSource, choose_source, reusable, reusable_macros
from ridad.domain.scheduling import MACROS_PACKAGE
from ridad.koji.hub import KojiHub
from ridad.transitions import Transitions


class ComponentReuse:
    """Chooses the build to reuse from and applies reuse to components."""

    log = Logger()

    def __init__(self, *, store: ReuseStore, transitions: Transitions) -> None:
        self._store = store
        self._transitions = transitions

    async def choose(self, build: ModuleBuild, epoch: int) -> ReuseSource | None:
        """At the wait step: the build ``build`` reuses from, with its
        components: the recorded one (named at submission, or chosen before
        a crash), else the one chosen now, recorded before anything is
        reused; None under ``all`` or when there is none."""
        if build.rebuild_strategy == ALL:
            return None
        if build.reused_module_id is not None:
            return await self.recorded(build)
        candidates = await self._store.candidates(build)
        base_ids = {
            int(info["module_build_id"])
            for b in [build, *candidates]
            for info in b.buildrequires.values()
            if info.get("base_module") and info.get("module_build_id")
        }
        bases = await self._store.builds(sorted(base_ids)) if candidates else {}
        chosen = choose_source(build, candidates, bases)
        if chosen is None:
            return None
        await self._transitions.record_reuse_source(build.id, chosen.id, epoch=epoch)
        self.log.info(
            "Module build {module_build_id} may reuse components of module build"
            " {reused_module_id}",
            module_build_id=build.id,
            reused_module_id=chosen.id,
        )
        return await self.recorded(build, chosen.id)

    async def recorded(
        self, build: ModuleBuild, source_id: int | None = None
    ) -> ReuseSource | None:
        """The recorded build to reuse from, with its components (None: none,
        or it is gone)."""
        found = source_id if source_id is not None else build.reused_module_id
        if found is None or build.rebuild_strategy == ALL:
            return None
        snapshot = await self._store.source(found)
        if snapshot is None:
            return None
        return ReuseSource(snapshot.build, snapshot.components)

    async def apply(
        self,
        build: ModuleBuild,
        components: Sequence[ComponentBuild],
        chosen: Sequence[ComponentBuild],
        epoch: int,
    ) -> list[ComponentBuild]:
        """Record the reusable ones of ``chosen`` (components about to be
        submitted) as reused; answer the others, still to be built."""
        if not chosen or build.reused_module_id is None:
            return list(chosen)
        found = reusable(build, components, await self.recorded(build))
        reused = {c.id: found[c.id] for c in chosen if c.id in found}
        if not reused:
            return list(chosen)
        await self._transitions.record_reused(build.id, reused, epoch=epoch)
        self.log.info(
            "Module build {module_build_id} reused {count} components of module"
            " build {reused_module_id}",
            module_build_id=build.id,
            count=len(reused),
            reused_module_id=build.reused_module_id,
        )
        return [c for c in chosen if c.id not in reused]


#: Builds module-build-macros for a build and its ``%dist`` (the SRPM).
MacrosBuilder = Callable[[ModuleBuild, str], Awaitable[Any]]


async def macros_component(
    *,
    koji: KojiHub,
    build_macros: MacrosBuilder,
    build: ModuleBuild,
    dist: str,
    components: Sequence[ComponentBuild],
    source: ReuseSource | None,
) -> NewComponent:
    """The module-build-macros component of ``build``: the previous build's
    source when every component is reusable (its NVR is then reused: no
    SRPM is made or uploaded), else an SRPM made and uploaded now."""
    previous = reusable_macros(build, components, source)
    if previous is not None:
        repository, uploaded = previous.repository, previous.source or ""
    else:
        srpm = await build_macros(build, dist)
        path = f"ridad/{build.id}-{uuid.uuid4().hex[:8]}"
        uploaded = await koji.upload(srpm.content, path=path, name=srpm.filename)
        repository = uploaded
    return NewComponent(
        name=MACROS_PACKAGE,
        package=MACROS_PACKAGE,
        repository=repository,
        ref="srpm",
        scm_commit="",
        batch=MACROS_BATCH,
        buildonly=True,
        source=uploaded,
    )
