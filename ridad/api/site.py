"""The web site around the Klein app: body size limit, maintenance mode, the
refusal of cross-site writes (``ridad.api.writeguard``) and JSON errors for
what Klein answers in plain text."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import unquote_to_bytes

from twisted.web.resource import IResource, Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

from ridad.api.errors import status_of
from ridad.api.responses import write_error
from ridad.api.writeguard import check_write
from ridad.config.model import LiveConfig
from ridad.errors import ClientError, MaintenanceMode

HEALTH_PATH = b"/health"


class BoundedRequest(Request):
    """A request that stops storing its body once it passes the limit."""

    body_too_large = False
    _body_bytes = 0

    def _limit(self) -> int:
        site = getattr(self.channel, "site", None)
        limit: Callable[[], int] | None = getattr(site, "max_body_bytes", None)
        return limit() if limit else 2**63

    def gotLength(self, length: int | None) -> None:
        """Refuse at once a declared length over the limit."""
        if length is not None and length > self._limit():
            self.body_too_large = True
            length = 0
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        """Store a body chunk unless the body is over the limit."""
        if self.body_too_large:
            return
        self._body_bytes += len(data)
        if self._body_bytes > self._limit():
            self.body_too_large = True
            self.content.seek(0)
            self.content.truncate()
            return
        super().handleContentChunk(data)


class GuardResource(Resource):
    """Checks what must hold before any route runs."""

    isLeaf = True

    def __init__(self, *, wrapped: IResource, config: LiveConfig) -> None:
        super().__init__()
        self._wrapped = wrapped
        self._config = config

    def render(self, request: Request) -> bytes | int:
        """Answer 413, 400, 415, 403 or 503 in JSON, else hand the request on."""
        api = self._config.current.api
        if getattr(request, "body_too_large", False):
            limit = api.max_body_bytes
            return write_error(request, 413, f"the request body is over {limit} bytes")
        try:
            unquote_to_bytes(request.path).decode("utf-8")
        except UnicodeDecodeError:
            return write_error(request, 400, "the URL path is not valid UTF-8")
        try:
            check_write(request, api.allowed_origins)
        except ClientError as e:
            return write_error(request, status_of(e), e.message, e.details)
        if api.maintenance and request.path != HEALTH_PATH:
            error = MaintenanceMode("ridad is in maintenance mode; retry later")
            return write_error(
                request,
                503,
                error.message,
                headers={
                    b"Retry-After": str(error.retry_after_seconds).encode("ascii")
                },
            )
        result: bytes | int = self._wrapped.render(request)
        return result if result is not None else NOT_DONE_YET


class ApiSite(Site):
    """A ``Site`` whose requests enforce the configured body size limit."""

    requestFactory = BoundedRequest

    def __init__(self, resource: IResource, *, config: LiveConfig) -> None:
        super().__init__(resource)
        self._config = config

    def max_body_bytes(self) -> int:
        """The body size limit in force."""
        return self._config.current.api.max_body_bytes


class PrefixDispatch(Resource):
    """Hands each request to the resource serving its path prefix."""

    isLeaf = True

    def __init__(
        self, *, default: IResource, by_prefix: Mapping[bytes, IResource]
    ) -> None:
        super().__init__()
        self._default = default
        self._by_prefix = dict(by_prefix)

    def render(self, request: Request) -> bytes | int:
        """Render with the resource whose prefix (a whole segment) matches."""
        for prefix, resource in self._by_prefix.items():
            if request.path == prefix or request.path.startswith(prefix + b"/"):
                return resource.render(request)
        return self._default.render(request)


def make_site(
    *,
    api_resource: IResource,
    config: LiveConfig,
    by_prefix: Mapping[bytes, IResource] | None = None,
) -> ApiSite:
    """The site serving the API; paths under a ``by_prefix`` key (such as
    ``/module-build-service``) go to that resource instead."""
    wrapped = api_resource
    if by_prefix:
        wrapped = PrefixDispatch(default=api_resource, by_prefix=by_prefix)
    return ApiSite(GuardResource(wrapped=wrapped, config=config), config=config)
