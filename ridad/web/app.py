"""The status page's routes, a Klein app served by the API's site
(``ridad.composition`` hands it the paths below): the list of builds at
``/``, a page per build at ``/builds/N``, the static files, and the badge of
each module stream at ``/rida/badges/NAME/STREAM.svg``. GETs only; errors
of the pages are HTML pages, those of the badge a grey badge."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlencode

from klein import Klein
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import IResource
from twisted.web.server import Request
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound as RouteNotFound

from ridad import __version__
from ridad.api.app import parse_list_query
from ridad.api.errors import log_unexpected, status_of
from ridad.api.inputs import decode_args
from ridad.api.responses import reason_phrase
from ridad.config.model import LiveConfig
from ridad.db.builds import ModuleBuildStore
from ridad.db.pool import Pool
from ridad.db.status_page import StatusPageStore
from ridad.domain.states import ModuleState
from ridad.errors import InvalidRequest, RidadError, Unavailable
from ridad.web.badge import state_badge
from ridad.web.model import KojiLinks, build_page
from ridad.web.render import Renderer

#: The path prefixes the site hands to this app (``/`` alone, not below).
PREFIXES = (b"/", b"/builds", b"/static", b"/rida/badges")
PER_PAGE = 50
SECURITY_HEADERS = {
    b"Content-Security-Policy": b"default-src 'none'; style-src 'self';"
    b" script-src 'self'; connect-src 'self'; img-src 'self';"
    b" base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    b"X-Content-Type-Options": b"nosniff",
    b"Referrer-Policy": b"same-origin",
}
BADGE_CACHE = b"max-age=60"
STATIC_CACHE = b"public, max-age=31536000, immutable"

log = Logger(namespace="ridad.web.app")


class StatusPages:
    """The status page; collaborators are injected."""

    app = Klein()

    def __init__(
        self,
        *,
        builds: ModuleBuildStore,
        pages: StatusPageStore,
        clock: Any,
        weburl: Callable[[], str | None] = lambda: None,
        public_url: Callable[[], str | None] = lambda: None,
        renderer: Renderer | None = None,
    ) -> None:
        self._builds = builds
        self._pages = pages
        self._clock = clock
        self._weburl = weburl
        self._public_url = public_url
        self._render = renderer or Renderer()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock.seconds(), UTC)

    def _html(
        self, request: Request, template: str, status: int = 200, **kw: Any
    ) -> bytes:
        request.setResponseCode(status, reason_phrase(status).encode("ascii"))
        request.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        request.setHeader(b"Cache-Control", b"no-cache")
        for name, value in SECURITY_HEADERS.items():
            request.setHeader(name, value)
        return self._render.page(template, version=__version__, **kw)

    @app.route("/", methods=["GET"])
    async def index(self, request: Request) -> bytes:
        """``GET /``: a page of builds, newest first, filtered by the query
        (``state``, repeatable; ``name``, ``stream``, ``owner``; ``page``)."""
        args = {k: v for k, v in _args(request).items() if any(v)}
        args = {k: [x for x in v if x] for k, v in args.items()}
        args.setdefault("per_page", [str(PER_PAGE)])
        page, per_page, build_filter = parse_list_query(args)
        builds, total = await self._builds.list_page(
            build_filter, page=page, per_page=per_page
        )
        last = max(1, -(-total // per_page))

        def page_url(number: int) -> str:
            query = {k: v for k, v in args.items() if k != "page"}
            if query.get("per_page") == [str(PER_PAGE)]:
                del query["per_page"]
            return "/?" + urlencode({**query, "page": [str(number)]}, doseq=True)

        events = "/rida/events"
        if build_filter.name is not None:
            events += "?" + urlencode({"name": build_filter.name})
        return self._html(
            request,
            "list.html",
            builds=builds,
            total=total,
            page=page,
            last=last,
            prev_url=page_url(page - 1) if page > 1 else None,
            next_url=page_url(page + 1) if page < last else None,
            build_filter=build_filter,
            states=[s.label for s in ModuleState],
            chosen_states={s.label for s in build_filter.states},
            events_url=events,
        )

    @app.route("/builds/<int:module_build_id>", methods=["GET"])
    @app.route("/builds/<int:module_build_id>/", methods=["GET"])
    async def build(self, request: Request, module_build_id: int) -> bytes:
        """``GET /builds/N``: one build's page."""
        data = await self._pages.build_page(module_build_id)
        page = build_page(data, links=KojiLinks(self._weburl()), now=self._now())
        return self._html(
            request,
            "build.html",
            page=page,
            b=page.build,
            base_url=(self._public_url() or "").rstrip("/"),
            events_url=f"/rida/module-builds/{module_build_id}/events",
        )

    @app.route("/rida/badges/<name>/<stream>.svg", methods=["GET"])
    async def badge(self, request: Request, name: str, stream: str) -> bytes:
        """``GET /rida/badges/NAME/STREAM.svg``: the state of the stream's
        newest build (not scratch), as a badge; 404 with an ``unknown``
        badge when the stream has no build."""
        label = _args(request).get("label", ["module"])[0]
        build = await self._pages.newest_build(name, stream)
        status = 200 if build is not None else 404
        request.setResponseCode(status, reason_phrase(status).encode("ascii"))
        request.setHeader(b"Content-Type", b"image/svg+xml; charset=utf-8")
        request.setHeader(b"Cache-Control", BADGE_CACHE)
        request.setHeader(b"X-Content-Type-Options", b"nosniff")
        state = build.state.label if build is not None else None
        return self._render.badge(state_badge(state, label))

    @app.route("/static/<name>", methods=["GET"])
    def static(self, request: Request, name: str) -> bytes:
        """``GET /static/NAME``: a stylesheet or script; cached for a year
        when asked for by its hash (``?v=``), else revalidated."""
        found = self._render.static.get(name)
        if found is None:
            raise RouteNotFound()
        asked = _args(request).get("v", [None])[0]
        request.setHeader(b"Content-Type", found.media_type)
        request.setHeader(
            b"Cache-Control", STATIC_CACHE if asked == found.digest else b"no-cache"
        )
        request.setHeader(b"ETag", f'"{found.digest}"'.encode("ascii"))
        request.setHeader(b"X-Content-Type-Options", b"nosniff")
        return found.body

    @app.handle_errors(RidadError)
    def ridad_error(self, request: Request, failure: Failure) -> bytes:
        """Our errors as HTML pages (a 500 logged with an id)."""
        error = failure.value
        assert isinstance(error, RidadError)
        status = status_of(error)
        if status == 500:
            return self.unexpected(request, failure)
        if isinstance(error, Unavailable):
            request.setHeader(b"Retry-After", str(error.retry_after_seconds).encode())
        problems = (error.details or {}).get("parameters", {})
        if isinstance(error, InvalidRequest) and problems:
            message = "The query has problems: " + "; ".join(
                f"{k}: {v}" for k, v in sorted(problems.items())
            )
        else:
            message = error.message
        return self._error(request, status, message)

    @app.handle_errors(RouteNotFound)
    def not_found(self, request: Request, failure: Failure) -> bytes:
        """An unknown page: 404."""
        path = request.path.decode("utf-8", "replace")
        return self._error(request, 404, f"There is no page at {path}.")

    @app.handle_errors(MethodNotAllowed)
    def not_allowed(self, request: Request, failure: Failure) -> bytes:
        """A page asked for with another method than GET or HEAD: 405."""
        request.setHeader(b"Allow", b"GET, HEAD")
        method = request.method.decode("ascii", "replace")
        return self._error(request, 405, f"The status page answers GET, not {method}.")

    @app.handle_errors(Exception)
    def unexpected(self, request: Request, failure: Failure) -> bytes:
        """Anything else: 500, logged with an id the page shows."""
        error_id = log_unexpected(request, failure)
        return self._error(
            request,
            500,
            "An unexpected error occurred; the administrators can find it in"
            f" the log by its error id {error_id}.",
        )

    def _error(self, request: Request, status: int, message: str) -> bytes:
        return self._html(
            request,
            "error.html",
            status=status,
            code=status,
            title=reason_phrase(status),
            message=message,
        )


def status_page_routes(
    pool: Pool, builds: ModuleBuildStore, config: LiveConfig, clock: Any
) -> dict[bytes, IResource]:
    """The status page's resource under each of its path prefixes, for the
    API site's ``by_prefix``; ``koji.weburl`` and ``api.public_url`` are read
    from the configuration in force at each request."""

    def weburl() -> str | None:
        koji = config.current.koji
        return koji.weburl if koji is not None else None

    pages = StatusPages(
        builds=builds,
        pages=StatusPageStore(pool=pool),
        clock=clock,
        weburl=weburl,
        public_url=lambda: config.current.api.public_url,
    )
    resource = cast(IResource, pages.app.resource())
    return dict.fromkeys(PREFIXES, resource)


def _args(request: Request) -> dict[str, list[str]]:
    """The query as text (``ridad.api.inputs.decode_args``)."""
    return decode_args(cast(Any, request))
