"""Submission intents left by a crash: a component noted as submitted
without a task is adopted (Koji has its task) or forgotten (submitted
again)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from twisted.logger import Logger

from ridad.domain.builds import ComponentBuild, ModuleBuild
from ridad.domain.states import ComponentState
from ridad.koji.hub import KojiHub
from ridad.scheduler.environment import environment_of
from ridad.transitions import Transitions

LOOKUP_SLACK_SECONDS = 300
log = Logger()


async def recover_intents(
    koji: KojiHub,
    transitions: Transitions,
    build: ModuleBuild,
    components: Sequence[ComponentBuild],
    epoch: int,
) -> bool:
    """Adopt or forget builds submitted before a crash; True if any."""
    pending = [
        c
        for c in components
        if c.state is ComponentState.WAITING
        and c.submitted_at is not None
        and c.task_id is None
    ]
    if not pending:
        return False
    target = environment_of(build).target
    since = min(c.submitted_at for c in pending if c.submitted_at) - timedelta(
        seconds=LOOKUP_SLACK_SECONDS
    )
    found = await koji.find_build_tasks(since, target)
    adopted: dict[int, int | str] = {}
    for c in pending:
        task = found.get(c.source or "")
        if task is None:
            log.info(
                "No Koji task for {component} of module build {module_build_id};"
                " it will be submitted again",
                component=c.name,
                module_build_id=build.id,
            )
            await transitions.forget_submission_intent(c, epoch=epoch)
            continue
        log.info(
            "Adopting Koji task {koji_task_id} of {component}",
            koji_task_id=task.id,
            component=c.name,
        )
        adopted[c.id] = task.id
    if adopted:
        await transitions.record_submissions(build.id, adopted, epoch=epoch)
    return True
