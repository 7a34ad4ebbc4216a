"""What the simulated builder does for a ``build`` task, step by step.

Like kojid: find the target, wait until its build tag has a READY repo
(``ridad.kojisim.buildroot``: arches with ``arch_override``, groups and
blocked packages are kept by task), read the NVR from the source, check the
destination tag's package list (unless ``skip_tag`` or ``scratch``), create
the BUILDING build (refusing an NVR that exists), "build" for
``build_seconds``, then mark the build COMPLETE with the RPMs its SPEC makes
(L{ridad.kojisim.rpms}), tag it into the destination tag (unless
``skip_tag``) and close the task with a None result. A package
in ``fail_buildroot_packages`` fails before building, one in
``fail_packages`` after; either leaves its logs in the task's output
(``build_logs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import koji
from twisted.internet.defer import CancelledError

from ridad.kojisim.build_logs import BUILD, BUILDROOT, MOCK_FAILURE, BuildJob
from ridad.kojisim.buildroot import build_arches, mock_config, ready_repo
from ridad.kojisim.context import Call
from ridad.kojisim.inheritance import build_config, package_list
from ridad.kojisim.lookup import find_target
from ridad.kojisim.rpms import record_build_rpms
from ridad.kojisim.sources import Source, SourceInspector, parse_source
from ridad.kojisim.specs import BuildSpec, default_spec
from ridad.kojisim.state import Build
from ridad.kojisim.tagging import tag_build
from ridad.kojisim.tasks import close_task
from ridad.kojisim.views import decoded_request, tag_view

if TYPE_CHECKING:
    from ridad.kojisim.builder import Builder

__all__ = ["MOCK_FAILURE", "BuildRun"]

BUILD_STATES = koji.BUILD_STATES


@dataclass(frozen=True)
class BuildPlan:
    """What a build task was asked to do, resolved against the hub."""

    src: str
    source: Source
    build_tag_id: int
    dest_tag_id: int
    dist: str
    opts: dict[str, Any]
    owner: int
    arches: str | None = None

    @property
    def tags_result(self) -> bool:
        """Whether the build goes into the destination tag."""
        return not (self.opts.get("skip_tag") or self.opts.get("scratch"))


class BuildRun:
    """One ``build`` task run by the builder."""

    def __init__(
        self, builder: Builder, inspector: SourceInspector, task_id: int
    ) -> None:
        """Prepare to run task ``task_id``."""
        self._builder = builder
        self._inspector = inspector
        self._task_id = task_id

    async def execute(self) -> None:
        """Run the build to its end.

        :raises koji.GenericError: the build fails (the builder fails the task).
        """
        plan = self._builder.transact(self._plan)
        while self._builder.wait_for_repo and not self._builder.transact(
            lambda call: self._has_repo(call, plan)
        ):
            self._builder.repo_waits.add(self._task_id)
            try:
                await self._builder.sleep(self._builder.repo_poll_seconds)
            finally:
                self._builder.repo_waits.discard(self._task_id)
        nvr = default_spec(await self._inspector.nvr(plan.source, plan.dist))
        build_id = self._builder.transact(lambda call: self._start(call, plan, nvr))
        self._builder.transact(lambda call: self._install_buildroot(call, plan, nvr))
        await self._builder.sleep(self._builder.build_seconds)
        self._builder.transact(lambda call: self._finish(call, plan, nvr, build_id))
        self._builder.transact(lambda call: self._close(call, plan, build_id))

    def _open_task(self, call: Call) -> Any:
        """The task, which must still be OPEN (else the run was canceled)."""
        task = call.state.tasks[self._task_id]
        if task.state != koji.TASK_STATES["OPEN"]:
            raise CancelledError()
        return task

    def _has_repo(self, call: Call, plan: BuildPlan) -> bool:
        """Whether the build tag has a READY repo (kojid waits until it has)."""
        self._open_task(call)
        return ready_repo(call.state, plan.build_tag_id) is not None

    def _plan(self, call: Call) -> BuildPlan:
        """Read the request and resolve its target and source.

        :raises koji.GenericError: no such target; a bad source.
        """
        task = self._open_task(call)
        src, target, opts = (list(decoded_request(task)) + [None, None, None])[:3]
        found = find_target(call.state, target)
        if found is None:
            raise koji.GenericError(f"No such build target: {target}")
        if not isinstance(src, str):
            raise koji.BuildError(f"Invalid source specification: {src}")
        build_tag = call.state.tags[found.build_tag]
        config = build_config(call.state, build_tag, tag_view(call.state, build_tag))
        opts = opts if isinstance(opts, dict) else {}
        return BuildPlan(
            src=src,
            source=parse_source(src),
            build_tag_id=found.build_tag,
            dest_tag_id=found.dest_tag,
            dist=str(config["extra"].get("rpm.macro.dist") or ""),
            opts=opts,
            owner=task.owner,
            arches=build_arches(config["arches"], opts.get("arch_override")),
        )

    def _start(self, call: Call, plan: BuildPlan, nvr: BuildSpec) -> int | None:
        """Check the package and create the BUILDING build (none for scratch).

        :raises koji.BuildError: the package is not listed, or blocked.
        :raises koji.ActionNotAllowed: an SRPM build by a non-admin.
        :raises koji.GenericError: the NVR exists already.
        """
        self._open_task(call)
        if plan.source.srpm_path is not None and "admin" not in call.state.perm_names(
            plan.owner
        ):
            raise koji.ActionNotAllowed(
                "policy violation (build_from_srpm): only admin can do this via default policy"
            )
        if plan.opts.get("scratch"):
            return None
        if plan.tags_result:
            _check_listed(call, plan.dest_tag_id, nvr.name)
        return _new_build(call, plan, nvr, self._task_id)

    def _install_buildroot(self, call: Call, plan: BuildPlan, nvr: BuildSpec) -> None:
        """Fail a package whose build dependencies cannot be installed.

        :raises koji.BuildError: the package is one of ``fail_buildroot_packages``.
        """
        self._open_task(call)
        repo = ready_repo(call.state, plan.build_tag_id)
        config = mock_config(call.state, plan.build_tag_id, repo, plan.arches)
        call.core.buildroots[self._task_id] = config
        if nvr.name in call.core.fail_buildroot_packages:
            raise self._failure(call, plan, nvr, BUILDROOT)

    def _finish(
        self, call: Call, plan: BuildPlan, nvr: BuildSpec, build_id: int | None
    ) -> None:
        """Mark the build COMPLETE with its RPMs, or fail it for a package set
        to fail.

        :raises koji.BuildError: the package is one of ``fail_packages``.
        """
        self._open_task(call)
        if nvr.name in call.core.fail_packages:
            raise self._failure(call, plan, nvr, BUILD)
        if build_id is not None:
            build = call.state.builds[build_id]
            build.state, build.completion_ts = BUILD_STATES["COMPLETE"], call.now()
            record_build_rpms(call, build, nvr, plan.arches)
            call.changed()

    def _failure(
        self, call: Call, plan: BuildPlan, nvr: BuildSpec, kind: str
    ) -> koji.BuildError:
        """Write the logs of a failed build into the task's output; answer
        the error that fails the task."""
        job = BuildJob(
            task_id=self._task_id,
            nvr=nvr,
            source=plan.source,
            build_tag=call.state.tags[plan.build_tag_id].name,
            dist=plan.dist,
        )
        failed = self._builder.outputs.failed(job, kind)
        call.core.task_output.write_all(self._task_id, failed.files, call.now())
        return koji.BuildError(failed.fault)

    def _close(self, call: Call, plan: BuildPlan, build_id: int | None) -> None:
        """Tag the build into the destination tag (unless skip_tag); close the task.

        :raises koji.GenericError: tagging failed.
        """
        task = self._open_task(call)
        if build_id is not None and plan.tags_result:
            dest = call.state.live_tag(plan.dest_tag_id)
            if dest is None:
                raise koji.GenericError(f"No such tagInfo: {plan.dest_tag_id}")
            tag_build(call, dest, call.state.builds[build_id], plan.owner)
        close_task(call, task, None)


def _check_listed(call: Call, dest_tag_id: int, name: str) -> None:
    """Refuse a package not (or blocked) in the destination tag's list.

    :raises koji.BuildError: not listed, or blocked.
    """
    dest = call.state.tags[dest_tag_id]
    pkg_id = call.state.package_id(name)
    entry = (
        package_list(call.state, dest.id).get(pkg_id) if pkg_id is not None else None
    )
    if entry is None:
        raise koji.BuildError(f"package {name} not in list for tag {dest.name}")
    if entry["blocked"]:
        raise koji.BuildError(f"package {name} is blocked for tag {dest.name}")


def _refuse_duplicate(old: Build, data: dict[str, Any]) -> None:
    """Refuse an NVR a COMPLETE or BUILDING build has (FAILED ones are reused).

    :raises koji.GenericError: the NVR is taken.
    """
    if old.state == BUILD_STATES["COMPLETE"]:
        raise koji.GenericError(
            f"Build already exists (id={old.id}, state=COMPLETE): {data!r}"
        )
    if old.state == BUILD_STATES["BUILDING"]:
        raise koji.GenericError(f"Build already in progress (task {old.task_id})")


def _new_build(call: Call, plan: BuildPlan, nvr: BuildSpec, task_id: int) -> int:
    """Create the BUILDING build, reusing the id of a FAILED or CANCELED one.

    :raises koji.GenericError: a COMPLETE (or BUILDING) build has this NVR.
    """
    state = call.state
    old = state.build_by_nvr(nvr.name, nvr.version, nvr.release)
    data = {
        "name": nvr.name,
        "version": nvr.version,
        "release": nvr.release,
        "epoch": nvr.epoch,
        "task_id": task_id,
        "owner": plan.owner,
    }
    if old is not None:
        _refuse_duplicate(old, data)
    pkg_id = state.package_id(nvr.name)
    if pkg_id is None:
        pkg_id = state.next_id("package")
        state.packages[pkg_id] = nvr.name
    build = Build(
        id=old.id if old is not None else state.next_id("build"),
        package_id=pkg_id,
        version=nvr.version,
        release=nvr.release,
        epoch=nvr.epoch,
        state=BUILD_STATES["BUILDING"],
        task_id=task_id,
        owner_id=plan.owner,
        create_event=call.event(),
        start_ts=call.now(),
        completion_ts=None,
        source=nvr.source or plan.src,
        extra={"source": {"original_url": plan.src}},
    )
    state.builds[build.id] = build
    state.build_btypes.pop(build.id, None)
    return build.id
