"""Tagging the components a build completed into its tags."""

from __future__ import annotations

from ridad.domain.builds import ComponentBuild, ModuleBuild
from ridad.domain.states import ComponentState
from ridad.koji.hub import KojiHub
from ridad.scheduler.environment import BuildEnvironment, environment_of
from ridad.transitions import Transitions


async def tag_completed(
    environment: BuildEnvironment,
    koji: KojiHub,
    transitions: Transitions,
    build: ModuleBuild,
    components: list[ComponentBuild],
    epoch: int,
) -> bool:
    """Tag the complete, untagged components of ``build`` (both tags, the
    build tag alone for buildonly ones); True if there were any."""
    env = environment_of(build)
    todo = [
        c for c in components if c.state is ComponentState.COMPLETE and not c.tagged
    ]
    if not todo:
        return False
    pairs = []
    for c in todo:
        assert c.nvr is not None
        pairs.append((env.build_tag, c.nvr))
        if not c.buildonly:
            pairs.append((env.koji_tag, c.nvr))
    await environment.before_tagging(build, todo)
    event = await koji.tag_builds(pairs)
    await environment.after_tagging(build, todo)
    await transitions.record_tagged(
        build.id, [c.id for c in todo], event.id, epoch=epoch
    )
    return True
