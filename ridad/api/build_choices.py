"""What a submission chose besides its modulemd, checked against the
configuration (``builds``) and the recorded builds: scratch or not, the
rebuild strategy, the build to reuse components from, and SRPMs.

Each refusal is MBS's: 403 for what the server does not allow (scratch
builds when ``builds.allow_scratch`` is false, SRPMs without scratch), 400
for what the request got wrong (a strategy not allowed, a reuse source
that is missing, not ready, a scratch build or another module's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ridad.api.submit_options import SubmitOptions
from ridad.config.model import BuildsConfig
from ridad.db.builds import ModuleBuildStore
from ridad.domain.builds import ModuleBuild
from ridad.domain.rebuild import ALL
from ridad.domain.states import ModuleState
from ridad.errors import Forbidden, InvalidRequest, NotFound

REUSE_KEY = "reuse_components_from"


@dataclass(frozen=True)
class BuildChoices:
    """The choices recorded on each build of one submission."""

    scratch: bool
    rebuild_strategy: str
    #: The build the submitter named to reuse components from (its id).
    reused_module_id: int | None
    srpms: tuple[str, ...]


def scratch_choices(config: BuildsConfig, options: SubmitOptions) -> None:
    """Check the scratch flag and SRPMs against the configuration.

    :raises Forbidden: scratch builds are off, or SRPMs without scratch.
    """
    if options.scratch and not config.allow_scratch:
        raise Forbidden(
            "Scratch builds are not enabled on this server (builds.allow_scratch)"
        )
    if options.srpms and not options.scratch:
        raise Forbidden("srpms may only be specified for scratch builds")


def check_branch(config: BuildsConfig, scratch: bool, branch: str | None) -> None:
    """:raises InvalidRequest: a branch of ``builds.scratch_branches`` without
    scratch."""
    if scratch or branch is None:
        return
    for pattern in config.scratch_branches:
        if re.search(pattern, branch):
            raise InvalidRequest(
                f"Only scratch module builds can be built from branch {branch}"
                f" (it matches builds.scratch_branches {pattern!r}); submit it"
                " with scratch: true"
            )


def rebuild_strategy(config: BuildsConfig, options: SubmitOptions) -> str:
    """The submission's strategy, or the server's default.

    :raises InvalidRequest: a strategy the server does not allow, or
        ``reuse_components_from`` with ``all``.
    """
    strategy = options.rebuild_strategy or config.rebuild_strategy_default
    if strategy not in config.rebuild_strategies_allowed:
        raise InvalidRequest(
            f'The rebuild method of "{strategy}" is not allowed. Choose from:'
            f" {', '.join(config.rebuild_strategies_allowed)}.",
            details={"parameters": {"rebuild_strategy": "not allowed"}},
        )
    if strategy == ALL and options.reuse_components_from is not None:
        raise InvalidRequest(
            f'You cannot specify the parameter "{REUSE_KEY}" when the'
            ' "rebuild_strategy" parameter is set to "all"'
        )
    return strategy


async def reuse_source(
    builds: ModuleBuildStore, options: SubmitOptions, name: str
) -> int | None:
    """The id of the build named in ``reuse_components_from``, checked.

    :raises InvalidRequest: it does not exist, is not ready, is a scratch
        build, or is a build of another module.
    """
    reference = options.reuse_components_from
    if reference is None:
        return None
    source = await _find(builds, reference)
    if source is None:
        raise InvalidRequest(
            f'The module in the parameter "{REUSE_KEY}" could not be found',
            details={"parameters": {REUSE_KEY: str(reference)}},
        )
    problem = None
    if source.state is not ModuleState.READY:
        problem = "must be in the ready state"
    elif source.scratch:
        problem = "must not be a scratch build"
    elif source.name != name:
        problem = f"must be a build of {name}, not of {source.name}"
    if problem:
        raise InvalidRequest(
            f'The module in the parameter "{REUSE_KEY}" ({source.nsvc}, id'
            f" {source.id}, {source.state.label}) {problem}",
            details={"parameters": {REUSE_KEY: str(reference)}},
        )
    return source.id


async def _find(builds: ModuleBuildStore, reference: int | str) -> ModuleBuild | None:
    if isinstance(reference, int):
        try:
            return await builds.get(reference)
        except NotFound:
            return None
    name, stream, version, context = reference.split(":")
    if not (version.isascii() and version.isdigit()) or len(version) > 20:
        return None
    return await builds.find_nsvc(name, stream, int(version), context)
