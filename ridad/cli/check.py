"""``rida check``: ``rida submit``'s submission as a dry run on a ridad, for
a module repository's CI: what would be built and exit 0, or the problems
and exit 1.

Only a ridad is sent a dry run. MBS knows no ``dry_run`` field: it refuses
a body holding one with a 400 ("The request contains unspecified
parameters"), and an MBS-like server that ignored the field would build.
So ``check`` first reads the server's description (``/rida/openapi.json``)
and sends nothing to a server whose MBS submission body has no ``dry_run``;
and an answer that is not a dry run's (a created build) is reported as one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from ridad.cli.client import MbsClient
from ridad.cli.exits import BUILD_FAILED, OK, CommandError, ServerError
from ridad.cli.submit_body import submission_body

if TYPE_CHECKING:
    from ridad.cli.commands import Invocation

#: The statuses of a submission the server refuses: what a real one would
#: get (a 401, a 404 or a 5xx says nothing about the module).
REFUSALS = frozenset(
    {
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.FORBIDDEN,
        HTTPStatus.CONFLICT,
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        HTTPStatus.UNPROCESSABLE_ENTITY,
    }
)


async def check(run: Invocation) -> int:
    """``rida check [SCMURL] [--file F] [--scratch] ...``: 0 when the server
    would accept the submission, 1 when it would refuse it."""
    body = {**submission_body(run.args, []), "dry_run": True}
    why_not = dry_run_missing(await _description(run.client))
    if why_not:
        raise CommandError(
            f"{run.client.server} cannot check a submission: {why_not}; rida"
            " check sent it nothing (only a ridad server has dry runs)"
        )
    try:
        answer = await run.client.request("POST", "module-builds/", body=body)
    except ServerError as exc:
        if exc.status not in REFUSALS:
            raise
        return _refused(run, exc)
    builds = planned_builds(answer)
    if run.args.json:
        run.print_json(answer)
    else:
        run.print(*plan_text(run.client.server, builds))
    return OK


async def _description(client: MbsClient) -> Any:
    """What ``<server>/rida/openapi.json`` answers; None when it is a 404."""
    try:
        return await client.request("GET", "/rida/openapi.json")
    except ServerError as exc:
        if exc.status == HTTPStatus.NOT_FOUND:
            return None
        raise


def dry_run_missing(description: Any) -> str | None:
    """Why a server with this OpenAPI description (None: it has none) takes
    no dry run in the MBS submission body; None when it does."""
    if not isinstance(description, Mapping):
        return "it serves no /rida/openapi.json, so it is no ridad (an MBS?)"
    fields: Any = description
    for key in ("components", "schemas", "MbsSubmission", "properties"):
        fields = fields.get(key) if isinstance(fields, Mapping) else None
    if not isinstance(fields, Mapping) or "dry_run" not in fields:
        info = description.get("info")
        version = info.get("version") if isinstance(info, Mapping) else None
        return f"this ridad ({version or 'an older version'}) is older than dry runs"
    return None


def planned_builds(answer: Any) -> list[dict[str, Any]]:
    """The builds of a dry run's answer.

    :raises ServerError: the answer is no dry run's, naming the builds
        when the server created some.
    """
    if isinstance(answer, dict) and answer.get("dry_run") is True:
        builds = answer.get("module_builds")
        if isinstance(builds, list) and all(isinstance(b, dict) for b in builds):
            return builds
    created = answer if isinstance(answer, list) else [answer]
    ids = [str(b["id"]) for b in created if isinstance(b, dict) and "id" in b]
    what = (
        f"it CREATED module build(s) {', '.join(ids)}: cancel them with"
        f" rida cancel {' '.join(ids)}"
        if ids
        else "its answer is no dry run's"
    )
    raise ServerError(
        f"the server ignored the dry run: {what}", status=None, transient=False
    )


def plan_text(server: str, builds: Sequence[Mapping[str, Any]]) -> list[str]:
    """What would be built, for a person."""
    lines = [f"{server} would accept the submission (nothing was recorded):"]
    for build in builds:
        lines.extend(_build_lines(build))
    return lines


def _build_lines(build: Mapping[str, Any]) -> list[str]:
    action = build.get("action")
    nsvc = build.get("nsvc", "?")
    kind = "scratch module build" if build.get("scratch") else "module build"
    if action == "keep":
        return [
            f"  keep {nsvc}: module build {build.get('id')} exists"
            f" ({build.get('state')}) and stays as it is"
        ]
    head = (
        f"  start over failed module build {build.get('id')}: {nsvc}"
        if action == "resubmit"
        else f"  create {kind} {nsvc}"
    )
    lines = [head]
    against = ", ".join(
        f"{name}:{info.get('stream')}"
        for name, info in sorted((build.get("buildrequires") or {}).items())
        if isinstance(info, Mapping)
    )
    if against:
        lines.append(f"    buildrequires {against}")
    batches: dict[Any, list[str]] = {}
    for c in build.get("components") or ():
        commit = str(c.get("commit") or "")[:12]
        source = f"{c.get('ref')} {commit}".strip()
        batches.setdefault(c.get("batch"), []).append(f"{c.get('name')} ({source})")
    for batch, names in batches.items():
        lines.append(f"    batch {batch}: {', '.join(names)}")
    if not batches:
        lines.append("    no components (metadata only)")
    return lines


def _refused(run: Invocation, exc: ServerError) -> int:
    """Report a refusal; the exit status of a submission that would be refused."""
    if run.args.json:
        run.print_json(
            {"status": exc.status, "message": exc.message, "details": exc.details}
        )
    run.err.write(f"rida: the submission would be refused: {exc.message}\n")
    for line in problem_lines(exc.details):
        run.err.write(f"  {line}\n")
    run.err.flush()
    return BUILD_FAILED


def problem_lines(details: Mapping[str, Any]) -> list[str]:
    """Each problem an error's ``details`` lists (modulemd problems,
    components, SRPMs, fields and parameters), one a line."""
    lines = []
    for problem in details.get("errors") or ():
        if isinstance(problem, Mapping):
            where = f"line {problem.get('line')} col {problem.get('column')}"
            path = f"{problem['path']}: " if problem.get("path") else ""
            lines.append(f"{where}: {path}{problem.get('message')}")
    for key in ("components", "srpms"):
        lines.extend(str(item) for item in details.get(key) or ())
    for key in ("fields", "parameters"):
        listed = details.get(key)
        if isinstance(listed, Mapping):
            lines.extend(f"{name}: {what}" for name, what in listed.items())
    return lines
