"""The MBS-compatible API: ``/module-build-service/1/`` and ``/2/``.

The same collaborators as ``/rida/`` (build store, submission verifier,
transitions, authentication), answering in the shapes of Fedora's Module
Build Service so that fedpkg/rpkg work against ridad unchanged. Both API
versions are served by the same handlers; they differ only in the answer of
a submission (v1: the build, v2: a list of builds) and in ``state_url``.
"""

from __future__ import annotations

from collections.abc import Callable

from klein import Klein
from twisted.web.iweb import IRequest

from ridad import __version__
from ridad.api.auth import (
    Authenticator,
    Authorizer,
    NoAuthentication,
    require_identity,
)
from ridad.api.documents import missing_document, parse_no_query
from ridad.api.dry_run import answer_dry_run, query_dry_run
from ridad.api.errors import install_error_handlers
from ridad.api.imports import (
    ModuleImporter,
    import_messages,
    mbs_import_view,
    parse_import,
)
from ridad.api.inputs import decode_args, install_converters
from ridad.api.mbs_bodies import (
    parse_state_change,
    parse_submission,
    submission_fields,
)
from ridad.api.mbs_params import (
    pagination_meta,
    parse_component_list,
    parse_item_detail,
    parse_module_list,
)
from ridad.api.multipart import form_fields, is_multipart
from ridad.api.openapi import MBS_PATH, write_openapi
from ridad.api.responses import write_json
from ridad.api.state_change import change_state
from ridad.api.submission import Submission, SubmissionVerifier
from ridad.config.model import BuildsConfig
from ridad.db.builds import ModuleBuildStore
from ridad.db.mbs_queries import MbsQueryStore
from ridad.domain.mbs_views import (
    MBS_PREFIX,
    Detail,
    mbs_component_build,
    mbs_module_build,
    module_build_url,
)
from ridad.domain.rebuild import strategies_view
from ridad.errors import InvalidRequest, NotFound
from ridad.transitions import Transitions

API_VERSIONS = (1, 2)
MAX_API_VERSION = max(API_VERSIONS)
ROOT = MBS_PREFIX + "/<number:api_version>"


def checked_version(api_version: int) -> int:
    """``api_version`` when ridad serves it.

    :raises NotFound: for any other version.
    """
    if api_version not in API_VERSIONS:
        raise NotFound(
            f"API version {api_version} does not exist; use"
            f" {MBS_PREFIX}/1/ or {MBS_PREFIX}/2/"
        )
    return api_version


def listing_url(public_url: str | None, api_version: int, listing: str) -> str:
    """The URL of a listing for MBS's paging links: the path alone, or
    under ``api.public_url`` when set. Never built from the request's
    ``Host`` header or path, which the client chooses."""
    return f"{public_url or ''}{MBS_PREFIX}/{api_version}/{listing}/"


class MbsApi:
    """Routes of the MBS-compatible API; collaborators are injected."""

    app = Klein()
    install_error_handlers(app)
    install_converters(app)

    def __init__(
        self,
        *,
        builds: ModuleBuildStore,
        queries: MbsQueryStore,
        submissions: SubmissionVerifier,
        transitions: Transitions,
        authenticator: Authenticator | None = None,
        authorizer: Authorizer | None = None,
        public_url: Callable[[], str | None] = lambda: None,
        importer: ModuleImporter | None = None,
        cg_tag: Callable[[], str | None] = lambda: None,
        builds_config: Callable[[], BuildsConfig] = BuildsConfig,
    ) -> None:
        self._builds_config = builds_config
        self._builds = builds
        self._cg_tag = cg_tag
        self._importer = importer
        self._queries = queries
        self._public_url = public_url
        self._submissions = submissions
        self._transitions = transitions
        self._authenticator = authenticator or NoAuthentication()
        self._authorizer = authorizer or Authorizer()

    @app.route(MBS_PATH, methods=["GET"])
    def openapi(self, request: IRequest) -> bytes:
        """``GET /module-build-service/openapi.json``: the same description as
        ``/rida/openapi.json``."""
        return write_openapi(request)

    @app.route(ROOT + "/about/", methods=["GET"], strict_slashes=False)
    @app.route(ROOT + "/about", methods=["GET"], strict_slashes=False)
    def about(self, request: IRequest, api_version: int) -> bytes:
        """``GET about/``: ridad's version, the API version and auth method."""
        checked_version(api_version)
        body = {
            "version": __version__,
            "api_version": MAX_API_VERSION,
            "auth_method": self._authenticator.method,
        }
        return write_json(request, body)

    @app.route(ROOT + "/rebuild-strategies/", methods=["GET"], strict_slashes=False)
    @app.route(ROOT + "/rebuild-strategies", methods=["GET"], strict_slashes=False)
    def rebuild_strategies(self, request: IRequest, api_version: int) -> bytes:
        """``GET rebuild-strategies/``: the strategies, which a submission may
        name and which is the default (``builds.*``, read now: SIGHUP)."""
        checked_version(api_version)
        config = self._builds_config()
        view = strategies_view(
            config.rebuild_strategy_default, config.rebuild_strategies_allowed
        )
        return write_json(request, view)

    @app.route(ROOT + "/module-builds/", methods=["GET"], strict_slashes=False)
    @app.route(ROOT + "/module-builds", methods=["GET"], strict_slashes=False)
    async def list_module_builds(self, request: IRequest, api_version: int) -> bytes:
        """``GET module-builds/``: a page of module builds with MBS's ``meta``."""
        version = checked_version(api_version)
        args = decode_args(request)
        parsed = parse_module_list(args, cg_tag=self._cg_tag())
        page = await self._queries.module_builds(
            parsed.query,
            with_components=parsed.detail is not Detail.SHORT,
            with_final=parsed.detail is Detail.VERBOSE,
        )
        items = [
            mbs_module_build(
                build,
                page.components.get(build.id, []),
                detail=parsed.detail,
                api_version=version,
                trace=page.traces.get(build.id, ()),
                final_modulemd=page.final_modulemds.get(build.id),
                siblings=page.siblings.get(build.id, ()),
            )
            for build in page.builds
        ]
        base = listing_url(self._public_url(), version, "module-builds")
        meta = pagination_meta(base, args, parsed.query, page.total)
        return write_json(request, {"items": items, "meta": meta})

    @app.route(ROOT + "/module-builds/<number:module_build_id>", methods=["GET"])
    @app.route(ROOT + "/module-builds/<number:module_build_id>/", methods=["GET"])
    async def show_module_build(
        self, request: IRequest, api_version: int, module_build_id: int
    ) -> bytes:
        """``GET module-builds/N``: one module build (``verbose``, ``short``)."""
        version = checked_version(api_version)
        detail = parse_item_detail(decode_args(request))
        view = await self._module_view(module_build_id, detail, version)
        return write_json(request, view)

    @app.route(ROOT + "/module-builds/", methods=["POST"], strict_slashes=False)
    @app.route(ROOT + "/module-builds", methods=["POST"], strict_slashes=False)
    async def submit(self, request: IRequest, api_version: int) -> bytes:
        """``POST module-builds/``: submit as /rida/ does (``branch`` required).

        The body is JSON whatever the Content-Type says (fedpkg's Kerberos
        path sends none), or a multipart form with the modulemd as a ``yaml``
        file (only with an Authorization header: the site's write guard
        answers 415 to other forms). v1 answers the build, v2 a list;
        ``"dry_run": true`` (or ``?dry_run=true``) records nothing and
        answers 200 with what it would build, in both versions.
        """
        version = checked_version(api_version)
        identity = await require_identity(request, self._authenticator)
        self._authorizer.check_submit(identity)
        dry_run = query_dry_run(request.args)
        raw = request.content.read()
        fields = (
            submission_fields(form_fields(request, raw))
            if is_multipart(request)
            else parse_submission(raw)
        )
        submission = Submission.of(fields, identity.user)
        if dry_run or fields.options.dry_run:
            return await answer_dry_run(request, self._submissions, submission)
        recorded = await self._submissions.submit(submission)
        views = [
            await self._module_view(i, Detail.VERBOSE, version) for i, _ in recorded
        ]
        location = module_build_url(version, recorded[0][0]).encode("ascii")
        return write_json(
            request,
            views[0] if version == 1 else views,
            status=201,
            headers={b"Location": location},
        )

    @app.route(ROOT + "/import-module/", methods=["POST"], strict_slashes=False)
    @app.route(ROOT + "/import-module", methods=["POST"], strict_slashes=False)
    async def import_module(self, request: IRequest, api_version: int) -> bytes:
        """``POST import-module/``: MBS's import of a module built elsewhere
        (``scmurl``, or ridad's ``modulemd`` text): ``201 {"module": ...,
        "messages": [...]}``."""
        version = checked_version(api_version)
        self._authorizer.check_import_enabled()
        identity = await require_identity(request, self._authenticator)
        self._authorizer.check_import(identity)
        fields = parse_import(request.content.read())
        if self._importer is None:
            raise InvalidRequest("this ridad has no module importer")
        outcome = await self._importer.import_module(fields, identity.user)
        view = mbs_import_view(outcome.build.build, version)
        body = {"module": view, "messages": import_messages(outcome)}
        return write_json(request, body, status=201)

    @app.route(ROOT + "/module-builds/<number:module_build_id>", methods=["PATCH"])
    @app.route(ROOT + "/module-builds/<number:module_build_id>/", methods=["PATCH"])
    async def cancel(
        self, request: IRequest, api_version: int, module_build_id: int
    ) -> bytes:
        """``PATCH module-builds/N``: ``{"state": "failed"}`` cancels the build,
        ``{"state": "garbage"}`` retires it (administrators)."""
        version = checked_version(api_version)
        identity = await require_identity(request, self._authenticator)
        state = parse_state_change(request.content.read())
        build, final = await self._queries.module_build_with_final(module_build_id)
        changed, trace = await change_state(
            self._transitions, self._authorizer, identity, build, state
        )
        view = mbs_module_build(
            changed.build,
            list(changed.components),
            detail=Detail.VERBOSE,
            api_version=version,
            trace=trace,
            final_modulemd=final,
        )
        return write_json(request, view)

    @app.route(ROOT + "/component-builds/", methods=["GET"], strict_slashes=False)
    @app.route(ROOT + "/component-builds", methods=["GET"], strict_slashes=False)
    async def list_component_builds(self, request: IRequest, api_version: int) -> bytes:
        """``GET component-builds/``: a page of component builds with ``meta``."""
        version = checked_version(api_version)
        args = decode_args(request)
        parsed = parse_component_list(args)
        components, total = await self._queries.component_builds(parsed.query)
        traces = {}
        if parsed.detail is Detail.VERBOSE:
            traces = await self._queries.component_traces(components)
        items = [
            mbs_component_build(
                component,
                detail=parsed.detail,
                api_version=version,
                trace=traces.get(component.id, ()),
            )
            for component in components
        ]
        base = listing_url(self._public_url(), version, "component-builds")
        meta = pagination_meta(base, args, parsed.query, total)
        return write_json(request, {"items": items, "meta": meta})

    @app.route(ROOT + "/component-builds/<number:component_build_id>", methods=["GET"])
    @app.route(ROOT + "/component-builds/<number:component_build_id>/", methods=["GET"])
    async def show_component_build(
        self, request: IRequest, api_version: int, component_build_id: int
    ) -> bytes:
        """``GET component-builds/N``: one component build (``verbose``)."""
        version = checked_version(api_version)
        detail = parse_item_detail(decode_args(request))
        component = await self._queries.component_build(component_build_id)
        traces = {}
        if detail is Detail.VERBOSE:
            traces = await self._queries.component_traces([component])
        view = mbs_component_build(
            component,
            detail=detail,
            api_version=version,
            trace=traces.get(component.id, ()),
        )
        return write_json(request, view)

    @app.route(ROOT + "/final-modulemd/<number:module_build_id>", methods=["GET"])
    @app.route(ROOT + "/final-modulemd/<number:module_build_id>/", methods=["GET"])
    async def final_modulemd(
        self, request: IRequest, api_version: int, module_build_id: int
    ) -> bytes:
        """``GET final-modulemd/N``: as MBS, ``{arch: modulemd.<arch>.txt}``;
        ridad's are the documents imported into Koji, read in one statement."""
        checked_version(api_version)
        parse_no_query(decode_args(request))
        documents = await self._queries.arch_documents(module_build_id)
        if not documents.written:
            raise missing_document(documents, None)
        texts = {arch: documents.texts[arch] for arch in documents.arches}
        return write_json(request, texts)

    async def _module_view(
        self, module_build_id: int, detail: Detail, version: int
    ) -> dict[str, object]:
        verbose = detail is Detail.VERBOSE
        page = await self._queries.module_build(
            module_build_id,
            with_final=verbose,
            with_components=detail is not Detail.SHORT,
        )
        build = page.builds[0]
        return mbs_module_build(
            build,
            page.components[build.id],
            detail=detail,
            api_version=version,
            trace=page.traces.get(build.id, ()),
            final_modulemd=page.final_modulemds.get(build.id),
            siblings=page.siblings.get(build.id, ()),
        )
