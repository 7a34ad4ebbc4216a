"""Pure rules of a module build's life after it was built: which states a
build can stick in, when it has made no progress, what a stuck build's
reason says, and which builds may be retired."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ridad.domain.builds import BuildSnapshot, ComponentBuild, ModuleBuild
from ridad.domain.states import ComponentState, ModuleState
from ridad.errors import InvalidRequest

#: The states the scheduler moves a build out of by itself: a build that
#: stays in one of them without progress is stuck. (``done`` waits for
#: gating, which may rightly take long.)
STUCK_STATES = (ModuleState.INIT, ModuleState.WAIT, ModuleState.BUILD)
#: The states after building, in which the build target is no longer needed.
ENDED_STATES = (
    ModuleState.DONE,
    ModuleState.READY,
    ModuleState.FAILED,
    ModuleState.GARBAGE,
)
#: What an administrator may retire (move to ``garbage``) through the API.
RETIRABLE = (ModuleState.READY, ModuleState.FAILED)


def last_progress(build: ModuleBuild, components: Sequence[ComponentBuild]) -> datetime:
    """When the build or one of its components last changed state."""
    return max([build.time_modified, *(c.time_modified for c in components)])


def check_stalled(snapshot: BuildSnapshot, since: datetime) -> None:
    """Check that the build made no progress since ``since``.

    :raises InvalidRequest: when it did (it is not stuck after all).
    """
    if last_progress(snapshot.build, snapshot.components) >= since:
        raise InvalidRequest(
            f"Module build {snapshot.build.id} made progress after"
            f" {since:%Y-%m-%d %H:%M:%S}"
        )


def stuck_reason(
    build: ModuleBuild, components: Sequence[ComponentBuild], days: float
) -> str:
    """Why a stuck build fails: how long, and where it stopped (state,
    batch, the components building with their Koji tasks, a pending repo)."""
    where = [f"in state {build.state.label}"]
    batch = current_batch(components)
    if batch is not None:
        where.append(f"batch {batch}")
    building = [c for c in components if c.state is ComponentState.BUILDING]
    if building:
        where.append(
            "building "
            + ", ".join(
                f"{c.name} (task {c.task_id})" if c.task_id else c.name
                for c in building
            )
        )
    elif build.state is ModuleState.BUILD:
        where.append("nothing building")
    if build.repo_task_id is not None:
        where.append(f"waiting for newRepo task {build.repo_task_id}")
    return f"No progress for {days:g} days: the build stopped " + ", ".join(where)


def current_batch(components: Sequence[ComponentBuild]) -> int | None:
    """The lowest batch with a component not complete (None: there is none)."""
    batches = [c.batch for c in components if c.state is not ComponentState.COMPLETE]
    return min(batches, default=None)


def garbage_reason(days: float) -> str:
    """The reason of a failed build collected after ``days``."""
    return f"Garbage collected: the build failed more than {days:g} days ago"
