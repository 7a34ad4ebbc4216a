"""The HTTP API of the original contract: ``/rida/module-builds/`` and
``/health``, as a Klein app with injected state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from klein import Klein
from twisted.web.iweb import IRequest

from ridad import __version__
from ridad.api.auth import (
    Authenticator,
    Authorizer,
    NoAuthentication,
    require_identity,
)
from ridad.api.change_feed import ChangeFeed, serve_events
from ridad.api.documents import missing_document, parse_document_query
from ridad.api.dry_run import answer_dry_run, query_dry_run
from ridad.api.errors import install_error_handlers
from ridad.api.event_stream import last_event_id
from ridad.api.imports import ModuleImporter, parse_import
from ridad.api.inputs import (
    INT_MAX,
    decode_args,
    field_problem,
    install_converters,
    json_object_body,
    known_args,
    shown,
    whole_number,
)
from ridad.api.mbs_bodies import SubmitFields
from ridad.api.mbs_params import Problems
from ridad.api.multipart import form_fields, is_multipart
from ridad.api.openapi import RIDA_PATH, write_openapi
from ridad.api.responses import link_header, write_document, write_json
from ridad.api.state_change import change_state, requested_state
from ridad.api.submission import Submission, SubmissionVerifier
from ridad.api.submission_limits import submission_overrides
from ridad.api.submit_options import OPTION_FIELDS, parse_options
from ridad.api.webhooks import WebhookReceiver
from ridad.db.builds import BuildFilter, ModuleBuildStore
from ridad.domain.module_documents import document_filename
from ridad.domain.states import ModuleState
from ridad.domain.views import module_build_view
from ridad.errors import InvalidRequest, NotFound
from ridad.transitions import Transitions

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 1000
MAX_PAGE = INT_MAX
LIST_PARAMETERS = {"page", "per_page", "state", "name", "stream", "owner"}
SUBMIT_FIELDS = {
    "scmurl": str,
    "branch": str,
    "buildrequire_overrides": dict,
    "require_overrides": dict,
}
LIST_PATH = "/rida/module-builds/"
DOCUMENT_PATH = "/rida/module-builds/<number:module_build_id>/modulemd"
EVENTS_PATH = "/rida/module-builds/<number:module_build_id>/events"


class RidadApi:
    """Routes of the ridad API; collaborators are injected."""

    app = Klein()
    install_error_handlers(app)
    install_converters(app)

    def __init__(
        self,
        *,
        builds: ModuleBuildStore,
        submissions: SubmissionVerifier,
        transitions: Transitions,
        database_status: Callable[[], Awaitable[bool]],
        scheduler_status: Callable[[], str] = lambda: "n/a",
        authenticator: Authenticator | None = None,
        authorizer: Authorizer | None = None,
        public_url: Callable[[], str | None] = lambda: None,
        importer: ModuleImporter | None = None,
        feed: ChangeFeed | None = None,
        webhooks: WebhookReceiver | None = None,
    ) -> None:
        self._builds = builds
        self._feed = feed
        self._webhooks = webhooks
        self._importer = importer
        self._public_url = public_url
        self._submissions = submissions
        self._transitions = transitions
        self._database_status = database_status
        self._scheduler_status = scheduler_status
        self._authenticator = authenticator or NoAuthentication()
        self._authorizer = authorizer or Authorizer()

    @app.route("/health", methods=["GET"])
    async def health(self, request: IRequest) -> bytes:
        """``GET /health``: the database and scheduler status."""
        database_ok = await self._database_status()
        body = {
            "status": "ok" if database_ok else "unavailable",
            "database": "ok" if database_ok else "unreachable",
            "scheduler": self._scheduler_status(),
            "version": __version__,
        }
        headers = {} if database_ok else {b"Retry-After": b"5"}
        return write_json(
            request, body, status=200 if database_ok else 503, headers=headers
        )

    @app.route(RIDA_PATH, methods=["GET"])
    def openapi(self, request: IRequest) -> bytes:
        """``GET /rida/openapi.json``: the OpenAPI description of both APIs."""
        return write_openapi(request)

    @app.route("/rida/module-builds/", methods=["POST"], strict_slashes=False)
    @app.route("/rida/module-builds", methods=["POST"], strict_slashes=False)
    async def submit(self, request: IRequest) -> bytes:
        """``POST /rida/module-builds/``: verify and record a submission
        (``?dry_run=true``: verify it, record nothing, answer 200)."""
        identity = await require_identity(request, self._authenticator)
        self._authorizer.check_submit(identity)
        dry_run = query_dry_run(request.args)
        raw = request.content.read()
        fields = parse_seed_submission(
            form_fields(request, raw)
            if is_multipart(request)
            else json_object_body(raw)
        )
        submission = Submission.of(fields, identity.user)
        if dry_run or fields.options.dry_run:
            return await answer_dry_run(request, self._submissions, submission)
        recorded = await self._submissions.submit(submission)
        module_build_id = recorded[0][0]
        build, components = await self._builds.get_with_components(module_build_id)
        location = f"/rida/module-builds/{module_build_id}".encode("ascii")
        return write_json(
            request,
            {**module_build_view(build, components), "ids": [i for i, _ in recorded]},
            status=201,
            headers={b"Location": location},
        )

    @app.route("/rida/import-module/", methods=["POST"], strict_slashes=False)
    @app.route("/rida/import-module", methods=["POST"], strict_slashes=False)
    async def import_module(self, request: IRequest) -> bytes:
        """``POST /rida/import-module/``: record a module built elsewhere (a
        base module) as ``ready``: 201 when new, 200 when updated or
        unchanged (administrators of ``auth.import_allowed_*``)."""
        self._authorizer.check_import_enabled()
        identity = await require_identity(request, self._authenticator)
        self._authorizer.check_import(identity)
        fields = parse_import(request.content.read())
        if self._importer is None:
            raise InvalidRequest("this ridad has no module importer")
        outcome = await self._importer.import_module(fields, identity.user)
        build = outcome.build.build
        return write_json(
            request,
            module_build_view(build, []),
            status=201 if outcome.created else 200,
            headers={b"Location": f"/rida/module-builds/{build.id}".encode("ascii")},
        )

    @app.route("/rida/webhooks/<forge>", methods=["POST"])
    @app.route("/rida/webhooks/<forge>/", methods=["POST"])
    async def webhook(self, request: IRequest, forge: str) -> bytes:
        """``POST /rida/webhooks/<forge>``: a push delivery (build on push)."""
        if self._webhooks is None:
            raise NotFound("this ridad takes no webhook deliveries")
        return await self._webhooks.respond(forge, request)

    @app.route("/rida/module-builds/<number:module_build_id>", methods=["GET"])
    @app.route("/rida/module-builds/<number:module_build_id>/", methods=["GET"])
    async def show(self, request: IRequest, module_build_id: int) -> bytes:
        """``GET /rida/module-builds/N``: one build with its components."""
        return write_json(request, await self._builds.view(module_build_id))

    @app.route(EVENTS_PATH, methods=["GET"])
    async def build_events(self, request: IRequest, module_build_id: int) -> bytes:
        """``GET /rida/module-builds/N/events``: the build's changes as
        Server-Sent Events."""
        args = decode_args(request)
        after = last_event_id(request, known_args(args, {"last_event_id"}))
        await self._builds.get(module_build_id)
        return await serve_events(
            request, self._event_feed(), after=after, module_build_id=module_build_id
        )

    @app.route("/rida/events", methods=["GET"])
    async def events(self, request: IRequest) -> bytes:
        """``GET /rida/events[?name=N]``: every build's changes (of builds
        named N) as Server-Sent Events."""
        args = known_args(decode_args(request), {"last_event_id", "name"})
        after = last_event_id(request, args)
        names = args.get("name", [])
        if len(names) > 1:
            raise InvalidRequest(
                "give name once", details={"parameters": {"name": "give it once"}}
            )
        name = names[0] if names else None
        return await serve_events(request, self._event_feed(), after=after, name=name)

    def _event_feed(self) -> ChangeFeed:
        if self._feed is None:
            raise NotFound("this ridad serves no event streams")
        return self._feed

    @app.route(DOCUMENT_PATH, methods=["GET"])
    @app.route(DOCUMENT_PATH + "/", methods=["GET"])
    async def modulemd(self, request: IRequest, module_build_id: int) -> bytes:
        """``GET /rida/module-builds/N/modulemd[?arch=A]``: the final modulemd
        as imported into Koji, byte for byte: ``modulemd.txt``, or
        ``modulemd.<A>.txt``. One statement answers it or says why not."""
        arch = parse_document_query(decode_args(request))
        documents = await self._builds.documents(module_build_id, arch=arch)
        text = documents.texts.get(arch)
        if text is None:
            raise missing_document(documents, arch)
        return write_document(request, text, document_filename(arch))

    @app.route("/rida/module-builds/<number:module_build_id>", methods=["PATCH"])
    @app.route("/rida/module-builds/<number:module_build_id>/", methods=["PATCH"])
    async def cancel(self, request: IRequest, module_build_id: int) -> bytes:
        """``PATCH /rida/module-builds/N``: ``{"state": "failed"}`` cancels,
        ``{"state": "garbage"}`` retires (administrators)."""
        identity = await require_identity(request, self._authenticator)
        fields = parse_json_object(request.content.read(), {"state": str})
        state = requested_state(fields.get("state"))
        build = await self._builds.get(module_build_id)
        changed, _ = await change_state(
            self._transitions, self._authorizer, identity, build, state
        )
        view = module_build_view(changed.build, list(changed.components))
        return write_json(request, view)

    @app.route("/rida/module-builds/", methods=["GET"], strict_slashes=False)
    @app.route("/rida/module-builds", methods=["GET"], strict_slashes=False)
    async def list_builds(self, request: IRequest) -> bytes:
        """``GET /rida/module-builds/``: a page of builds, newest first."""
        args = decode_args(request)
        page, per_page, build_filter = parse_list_query(args)
        items, total = await self._builds.list_view(
            build_filter, page=page, per_page=per_page
        )
        headers = {
            b"X-Total-Count": str(total).encode("ascii"),
            b"Link": link_header(
                f"{self._public_url() or ''}{LIST_PATH}", args, page, per_page, total
            ),
        }
        return write_json(request, items, headers=headers)


def parse_json_object(raw: bytes, fields: dict[str, type]) -> dict[str, Any]:
    """Parse a JSON object body whose members are all in ``fields``.

    :raises InvalidRequest: listing every problem.
    """
    return checked_object(json_object_body(raw), fields)


def checked_object(
    value: dict[str, Any], fields: dict[str, type], more: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``value`` when its members are all in ``fields`` (or in ``more``,
    which the caller checks) and of their types.

    :raises InvalidRequest: listing every problem.
    """
    problems: dict[str, str] = {}
    for key, member in value.items():
        if key in more:
            continue
        expected = fields.get(key)
        problem = (
            "unknown field" if expected is None else field_problem(member, expected)
        )
        if problem:
            problems[shown(key)] = problem
    if problems:
        listing = ", ".join(f"{k}: {v}" for k, v in sorted(problems.items()))
        raise InvalidRequest(
            f"the body has bad fields ({listing})", details={"fields": problems}
        )
    return value


def parse_seed_submission(body: dict[str, Any]) -> SubmitFields:
    """A ``POST /rida/module-builds/`` body (JSON, or a multipart form's
    fields): ``scmurl`` (unless ``modulemd`` gives the document), ``branch``,
    the overrides and the options.

    :raises InvalidRequest: listing every problem.
    """
    value = checked_object(body, SUBMIT_FIELDS, OPTION_FIELDS)
    problems = Problems()
    options = parse_options(value, problems)
    problems.raise_any("the submission has bad options")
    if "scmurl" not in value and options.modulemd is None:
        raise InvalidRequest(
            'the body must name the modulemd\'s location in "scmurl"'
            ' (or give the document in "modulemd")',
            details={"fields": {"scmurl": "missing"}},
        )
    return SubmitFields(
        scmurl=value.get("scmurl"),
        branch=value.get("branch"),
        overrides=submission_overrides(value),
        options=options,
    )


def parse_list_query(args: dict[str, list[str]]) -> tuple[int, int, BuildFilter]:
    """Parse the list query: page, per_page and the filters.

    :raises InvalidRequest: unknown parameters or bad values, all listed.
    """
    problems = {k: "unknown parameter" for k in args if k not in LIST_PARAMETERS}
    page = _positive(args, "page", 1, MAX_PAGE, problems)
    per_page = _positive(args, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE, problems)
    states = []
    for label in args.get("state", []):
        try:
            states.append(ModuleState.from_label(label))
        except ValueError:
            problems["state"] = "must be one of " + ", ".join(
                s.label for s in ModuleState
            )
    single = {}
    for key in ("name", "stream", "owner"):
        values = args.get(key, [])
        if len(values) > 1:
            problems[key] = "give it once"
        single[key] = values[0] if values else None
    if problems:
        listing = ", ".join(f"{k}: {v}" for k, v in sorted(problems.items()))
        raise InvalidRequest(f"bad query ({listing})", details={"parameters": problems})
    return page, per_page, BuildFilter(states=tuple(states), **single)


def _positive(
    args: dict[str, list[str]],
    key: str,
    default: int,
    maximum: int,
    problems: dict[str, str],
) -> int:
    values = args.get(key)
    if not values:
        return default
    if len(values) > 1:
        problems[key] = "must be a positive integer, given once"
        return default
    try:
        return whole_number(values[0], minimum=1, maximum=maximum)
    except ValueError as e:
        problems[key] = str(e)
        return default
