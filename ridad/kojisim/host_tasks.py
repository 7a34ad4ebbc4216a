"""The builder's short tasks: ``tagBuild`` and ``newRepo``.

Each runs in one transaction (as the host would with ``host.tagBuild`` or
``host.repoInit``/``repoDone``) and closes the task; a koji error rolls the
step back and the builder fails the task with it.
"""

from __future__ import annotations

import koji
from twisted.internet.defer import CancelledError

from ridad.kojisim.api_repos import make_repo
from ridad.kojisim.context import Call
from ridad.kojisim.lookup import find_build, find_tag
from ridad.kojisim.state import Task
from ridad.kojisim.tagging import tag_build, untag_build
from ridad.kojisim.tasks import close_task
from ridad.kojisim.views import decoded_request

__all__ = ["run_new_repo", "run_tag_build"]


def _open_task(call: Call, task_id: int) -> Task:
    """The task, which must still be OPEN (else the run was canceled)."""
    task = call.state.tasks[task_id]
    if task.state != koji.TASK_STATES["OPEN"]:
        raise CancelledError()
    return task


def run_tag_build(call: Call, task_id: int) -> None:
    """Tag the build (moving it from ``fromtag``, if given) and close the task.

    :raises koji.GenericError: the tag or build is gone, or tagging is refused.
    """
    task = _open_task(call, task_id)
    tag_id, build_id, force, fromtag_id = (list(decoded_request(task)) + [None] * 4)[:4]
    tag = find_tag(call.state, tag_id, strict=True)
    build = find_build(call.state, build_id, strict=True)
    assert tag is not None and build is not None
    if fromtag_id is not None:
        fromtag = find_tag(call.state, fromtag_id, strict=True)
        assert fromtag is not None
        untag_build(call, fromtag, build, task.owner, force=bool(force))
    tag_build(call, tag, build, task.owner, force=bool(force))
    close_task(call, task, None)


def run_new_repo(call: Call, task_id: int) -> None:
    """Make a READY repo of the tag and close the task with ``[repo_id, event_id]``.

    :raises koji.GenericError: the tag is gone.
    """
    task = _open_task(call, task_id)
    args, opts = koji.decode_args(*decoded_request(task))
    tag = find_tag(call.state, args[0] if args else None, strict=True)
    assert tag is not None
    repo = make_repo(call, tag, task.id, opts)
    close_task(call, task, [repo.id, repo.create_event])
