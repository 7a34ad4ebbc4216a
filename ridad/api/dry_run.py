"""A dry run of a submission (``?dry_run=true``, or ``"dry_run": true`` in
the body, on ``POST /rida/module-builds/`` and MBS's ``module-builds/``):
how it is asked for, and the answer that says what a real submission would
build.

The checks are the submission's own (``SubmissionVerifier.dry_run``); only
the answer differs: 200, no ``Location``, ``{"dry_run": true,
"module_builds": [...]}`` with each MSE sibling as it would be recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from twisted.logger import Logger
from twisted.web.iweb import IRequest

from ridad.api.responses import write_json
from ridad.api.submission import Submission, SubmissionVerifier
from ridad.db.submission_plan import PlannedBuild
from ridad.domain.builds import NewComponent
from ridad.errors import InvalidRequest

log = Logger()

KEY = "dry_run"
#: What the answer shows of each ``xmd.mbs.buildrequires`` entry.
BUILDREQUIRE_KEYS = ("stream", "version", "context", "module_build_id")
_TRUE = ("true", "1")
_FALSE = ("false", "0")


def query_dry_run(args: Mapping[bytes, Sequence[bytes]]) -> bool:
    """Whether the query asks for a dry run (``dry_run=true`` or ``1``;
    ``false`` or ``0``; any case). Only this parameter is read: other
    parameters of a submission's URL are ignored, as they always were.

    :raises InvalidRequest: another value, or two different ones.
    """
    values = {
        v.decode("utf-8", "replace").strip().lower() for v in args.get(b"dry_run", ())
    }
    if not values:
        return False
    if len(values) == 1 and values <= {*_TRUE, *_FALSE}:
        return values.pop() in _TRUE
    raise InvalidRequest(
        "bad query (dry_run: must be true or false, given once)",
        details={"parameters": {KEY: "must be true or false, given once"}},
    )


async def answer_dry_run(
    request: IRequest, submissions: SubmissionVerifier, submission: Submission
) -> bytes:
    """Check ``submission`` as a real one and answer 200 with what it would
    build; a refusal raises what the real one would (the same 4xx)."""
    planned = await submissions.dry_run(submission)
    log.info(
        "A dry run answered: {count} module builds would be recorded",
        count=sum(1 for p in planned if p.starts),
    )
    return write_json(request, dry_run_view(planned))


def dry_run_view(planned: Sequence[PlannedBuild]) -> dict[str, Any]:
    """The answer of a dry run that would be accepted."""
    return {KEY: True, "module_builds": [_build_view(p) for p in planned]}


def _build_view(planned: PlannedBuild) -> dict[str, Any]:
    new, existing = planned.new, planned.existing
    return {
        "action": planned.action.value,
        "id": existing.build.id if existing else None,
        "state": existing.build.state.label if existing else None,
        "name": new.name,
        "stream": new.stream,
        "version": str(new.version),
        "context": new.context,
        "nsvc": new.nsvc,
        "owner": new.owner,
        "scmurl": new.scmurl,
        "scm_commit": new.scm_commit,
        "branch": new.branch,
        "scratch": new.scratch,
        "rebuild_strategy": new.rebuild_strategy,
        "reused_module_id": new.reused_module_id,
        "srpms": list(new.srpms),
        "arches": list(new.arches) if new.arches is not None else None,
        "buildrequires": {k: _buildrequire(v) for k, v in new.buildrequires.items()},
        "requires": {k: list(v) for k, v in new.requires.items()},
        "components": [
            _component_view(c)
            for c in sorted(new.components, key=lambda c: (c.batch, c.name))
        ],
    }


def _buildrequire(info: Mapping[str, Any]) -> dict[str, Any]:
    """The build a buildrequired module resolved to (its stream, version,
    context and id: null for a base module known only from Koji)."""
    return {key: info.get(key) for key in BUILDREQUIRE_KEYS}


def _component_view(component: NewComponent) -> dict[str, Any]:
    return {
        "name": component.name,
        "package": component.package,
        "repository": component.repository,
        "ref": component.ref,
        "commit": component.scm_commit,
        "batch": component.batch,
        "buildorder": component.buildorder,
        "buildafter": list(component.buildafter),
        "buildonly": component.buildonly,
        "arches": list(component.arches) if component.arches is not None else None,
    }
