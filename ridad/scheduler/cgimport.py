"""The module itself, produced in Koji: once every component is complete and
tagged, the final modulemd is written and imported as a content generator's
build of type ``module`` (docs/data-flow.md §4, "The module's Koji build"),
then the build moves to ``done``.

Each step is recorded before or after Koji takes it (``cg_state``):
- none: gather the RPMs and licenses, write the final modulemd off the
  reactor thread, record it with the intent to reserve (``pending``);
- ``pending``: ``CGInitBuild``, record the reservation (``reserved``);
- ``reserved``: upload the documents and ridad's build log (and the
  metadata, when too big to send inline), ``CGImport``, record the build
  (``imported``);
- ``imported``: tag it into ``koji.cg_tag`` (when set), move to ``done``.
A step resumed in a later cycle (after a crash, a restart, or Koji being
away) looks the NVR up first and goes on from what Koji has, so Koji never
holds two builds of a module and nothing is imported twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from ridad import __version__
from ridad.config.model import KojiConfig
from ridad.db.cg import CgStore
from ridad.db.pool import Pool
from ridad.domain.builds import BuildSnapshot, ComponentBuild, ModuleBuild
from ridad.domain.module_import import (
    IMPORTED,
    PENDING,
    RESERVED,
    FinalDocument,
    build_log,
    final_documents,
    module_koji_nvr,
)
from ridad.domain.scheduling import MACROS_PACKAGE
from ridad.domain.states import ModuleState
from ridad.errors import KojiError, KojiFault, KojiUnavailable
from ridad.koji.cg_metadata import (
    INLINE_METADATA_BYTES,
    ImportSource,
    ModuleContent,
    import_metadata,
    metadata_argument,
)
from ridad.koji.hub import KojiHub
from ridad.modulemd.final import final_modulemd
from ridad.scheduler.cg_host import directory_suffix, host_info
from ridad.scheduler.environment import environment_of
from ridad.transitions import Transitions

__all__ = ["ModuleImporter", "make_importer"]

#: Runs a blocking callable off the reactor thread and gives its result.
RunBlocking = Callable[[Callable[[], Any]], Awaitable[Any]]


def make_importer(
    *,
    pool: Pool,
    koji: KojiHub,
    transitions: Transitions,
    config: KojiConfig,
    clock: IReactorTime,
    run_blocking: RunBlocking,
    inline_metadata_bytes: int = INLINE_METADATA_BYTES,
) -> ModuleImporter:
    """The importer of a configuration's builds, reading the pool; metadata
    whose JSON is over ``inline_metadata_bytes`` goes as an uploaded file."""
    return ModuleImporter(
        store=CgStore(pool=pool),
        koji=koji,
        transitions=transitions,
        config=config,
        clock=clock,
        run_blocking=run_blocking,
        inline_metadata_bytes=inline_metadata_bytes,
    )


class ModuleImporter:
    """Imports a built module into Koji and moves it to ``done``."""

    log = Logger()

    def __init__(
        self,
        *,
        store: CgStore,
        koji: KojiHub,
        transitions: Transitions,
        config: KojiConfig,
        clock: IReactorTime,
        run_blocking: RunBlocking,
        directory_suffix: Callable[[], str] = directory_suffix,
        inline_metadata_bytes: int = INLINE_METADATA_BYTES,
    ) -> None:
        self._store = store
        self._koji = koji
        self._transitions = transitions
        self._config = config
        self._clock = clock
        self._run_blocking = run_blocking
        self._directory_suffix = directory_suffix
        self._inline_metadata_bytes = inline_metadata_bytes
        self._owner: str | None = config.package_owner

    @property
    def generator(self) -> str:
        """The content generator ridad imports as."""
        return self._config.content_generator

    async def produce(
        self, build: ModuleBuild, components: Sequence[ComponentBuild], epoch: int
    ) -> BuildSnapshot | None:
        """Take the import as far as it goes; answer the build once it is
        ``done``, None while a step is left for the next cycle.

        :raises KojiFault: Koji refused (the build is to fail with it; a
            refused import was refunded first).
        :raises KojiUnavailable: Koji stayed unreachable (nothing fails).
        """
        if build.scratch:
            return await self._scratch_done(build, components, epoch)
        started = build.cg_state
        content = None
        if started is None:
            content = await self.module_content(build, components)
            written = await self._intend(build, components, content, epoch)
            if written is None:
                return None
            build = written
        if build.cg_state == PENDING:
            look_first = started == PENDING
            build = await self._reserve(build, look_first=look_first, epoch=epoch)
        if build.cg_state == RESERVED:
            look_first = started == RESERVED
            build = await self._import(build, components, content, look_first, epoch)
        if build.cg_state != IMPORTED:
            return None
        await self._tag(build)
        return await self._transitions.change_module_state(
            build.id, ModuleState.DONE, None, epoch=epoch
        )

    async def _scratch_done(
        self, build: ModuleBuild, components: Sequence[ComponentBuild], epoch: int
    ) -> BuildSnapshot:
        """A scratch build is not imported into Koji (as under MBS): its final
        modulemd is written for ridad's API only, then it is ``done`` (and
        stays so)."""
        if build.artifact_count is None:
            documents, count = await self._documents(
                build, components, await self.module_content(build, components)
            )
            await self._transitions.record_cg_intent(
                build.id, documents, count, epoch=epoch, importing=False
            )
        self.log.info(
            "Scratch module build {module_build_id} is built; scratch builds"
            " are not imported into Koji",
            module_build_id=build.id,
        )
        return await self._transitions.change_module_state(
            build.id, ModuleState.DONE, None, epoch=epoch
        )

    async def module_content(
        self, build: ModuleBuild, components: Sequence[ComponentBuild]
    ) -> ModuleContent:
        """What Koji has of the module: RPMs, licenses, its tag's arches."""
        builds = [
            (c.name, c.koji_build_id or c.nvr or "")
            for c in components
            if c.name != MACROS_PACKAGE
        ]
        tag = environment_of(build).koji_tag
        return await self._koji.module_content(builds, tag=tag, owner=build.owner)

    async def _documents(
        self,
        build: ModuleBuild,
        components: Sequence[ComponentBuild],
        content: ModuleContent,
    ) -> tuple[list[FinalDocument], int]:
        """The final modulemd documents (made off the reactor thread) and the
        number of artifacts they list."""
        rpms = [rpm.built for rpm in content.rpms]
        final = await self._run_blocking(
            lambda: final_modulemd(
                build=build, components=components, rpms=rpms, arches=content.arches
            )
        )
        return final_documents(final.text, final.per_arch), len(final.artifacts)

    async def _intend(
        self,
        build: ModuleBuild,
        components: Sequence[ComponentBuild],
        content: ModuleContent,
        epoch: int,
    ) -> ModuleBuild | None:
        """Write the final modulemd (off the reactor thread) with the intent
        to reserve; None when the build moved on meanwhile."""
        documents, count = await self._documents(build, components, content)
        written = await self._transitions.record_cg_intent(
            build.id, documents, count, epoch=epoch
        )
        if written.build.cg_state != PENDING:
            return None
        return written.build

    async def _reserve(
        self, build: ModuleBuild, *, look_first: bool, epoch: int
    ) -> ModuleBuild:
        """Reserve the module's Koji build: after a crash (``look_first``),
        or when Koji says the NVR is taken, look it up first; a COMPLETE one
        is the module imported, a BUILDING one a reservation whose token was
        lost, which is canceled before reserving again."""
        nvr = module_koji_nvr(build)
        for attempt in range(2):
            if look_first or attempt:
                found = await self._koji.find_build(nvr.nvr)
                if found is not None and found.state == "complete":
                    return await self._imported(build, found.id, epoch)
                if found is not None and found.state == "building":
                    self.log.info(
                        "Canceling Koji build {koji_build_id} ({nvr}), reserved"
                        " with a token that was lost",
                        koji_build_id=found.id,
                        nvr=nvr.nvr,
                    )
                    await self._koji.cancel_build(found.id)
            reservation = await self._koji.reserve_build(self.generator, nvr)
            if reservation is not None:
                written = await self._transitions.record_cg_reserved(
                    build.id, reservation, epoch=epoch
                )
                return written.build
        raise KojiError(
            f"Koji would not reserve {nvr.nvr}: it says the build exists, but"
            " it is neither complete nor a reservation ridad can cancel"
        )

    async def _import(
        self,
        build: ModuleBuild,
        components: Sequence[ComponentBuild],
        content: ModuleContent | None,
        look_first: bool,
        epoch: int,
    ) -> ModuleBuild:
        """Upload the documents and the build log, then ``CGImport`` with
        the reservation's token; a refused import is refunded. Resumed
        (``look_first``), a COMPLETE build is the module imported, and a
        reservation gone from Koji is made again."""
        nvr = module_koji_nvr(build)
        if look_first:
            found = await self._koji.find_build(nvr.nvr)
            if found is not None and found.state == "complete":
                return await self._imported(build, found.id, epoch)
            if found is None or found.state != "building":
                return await self._unreserved(build, epoch)
            if found.id != build.cg_build_id:
                await self._koji.cancel_build(found.id)
                return await self._unreserved(build, epoch)
        if content is None:
            content = await self.module_content(build, components)
        try:
            imported = await self._send(build, components, content)
        except KojiUnavailable:
            raise
        except KojiError:
            await self._refund(build, epoch)
            raise
        if imported is None:
            found = await self._koji.find_build(nvr.nvr)
            if found is None or found.state != "complete":
                if found is not None and found.state == "building":
                    await self._koji.cancel_build(found.id)
                return await self._unreserved(build, epoch)
            imported = found.id
        return await self._imported(build, imported, epoch)

    async def _send(
        self,
        build: ModuleBuild,
        components: Sequence[ComponentBuild],
        content: ModuleContent,
    ) -> int | None:
        """The uploads and ``CGImport``; the Koji build's id, or None when
        Koji's answer leaves it to a look-up. The build log (the whole
        trace as text), the metadata and its JSON are made off the reactor
        thread. Metadata too big for one hub
        request is uploaded last, into the same fresh directory as the
        outputs, so a resumed attempt uploads all of them again."""
        assert build.cg_build_id is not None and build.cg_token is not None
        nvr = module_koji_nvr(build)
        documents = await self._store.documents(build.id)
        trace = await self._store.trace(build.id)
        source = ImportSource(
            build=build,
            nvr=nvr,
            build_id=build.cg_build_id,
            documents=documents,
            log="",  # made off the reactor thread, with the metadata
            content=content,
            generator=self.generator,
            generator_version=__version__,
            host={},
            end_time=int(self._clock.seconds()),
        )

        def prepare() -> tuple[dict[str, Any] | str, list[tuple[str, bytes]]]:
            log = build_log(build, components, trace)
            made = import_metadata(replace(source, host=host_info(), log=log))
            return metadata_argument(*made, inline_bytes=self._inline_metadata_bytes)

        metadata, files = await self._run_blocking(prepare)
        directory = f"cg-import/{nvr.nvr}.{self._directory_suffix()}"
        await self._koji.upload_outputs(files, directory=directory)
        imported = await self._koji.import_build(
            self.generator, metadata, directory=directory, token=build.cg_token
        )
        return None if imported is None else imported.id

    async def _refund(self, build: ModuleBuild, epoch: int) -> None:
        """Give the reservation back after a refused import (the build then
        fails); a refused refund is only logged."""
        assert build.cg_build_id is not None and build.cg_token is not None
        try:
            await self._koji.refund_build(
                self.generator, build.cg_build_id, build.cg_token
            )
        except KojiFault as e:
            self.log.warn(
                "Koji refused to refund build {koji_build_id}: {reason}",
                koji_build_id=build.cg_build_id,
                reason=e.message,
            )
            return
        await self._unreserved(build, epoch)

    async def _unreserved(self, build: ModuleBuild, epoch: int) -> ModuleBuild:
        written = await self._transitions.record_cg_unreserved(build.id, epoch=epoch)
        return written.build

    async def _imported(
        self, build: ModuleBuild, koji_build_id: int, epoch: int
    ) -> ModuleBuild:
        self.log.info(
            "Module build {module_build_id} is Koji build {koji_build_id} ({nvr})",
            module_build_id=build.id,
            koji_build_id=koji_build_id,
            nvr=module_koji_nvr(build).nvr,
        )
        written = await self._transitions.record_cg_imported(
            build.id, koji_build_id, epoch=epoch
        )
        return written.build

    async def _tag(self, build: ModuleBuild) -> None:
        """Tag the module's Koji build into ``koji.cg_tag`` (MBS's
        ``KOJI_CG_TAG_BUILD``), listing its package there first; a build
        tagged already counts as tagged."""
        tag = self._config.cg_tag
        if tag is None:
            return
        await self._koji.add_packages(
            [(tag, build.name)], owner=await self._owner_name()
        )
        await self._koji.tag_builds([(tag, module_koji_nvr(build).nvr)])

    async def _owner_name(self) -> str:
        if self._owner is None:
            user = await self._koji.logged_in_user()
            if user is None:
                raise KojiError("Koji answers as anonymous; a package needs an owner")
            self._owner = user
        return self._owner
