"""The web site around the Klein app: connection and body limits,
maintenance mode, the refusal of cross-site writes (``ridad.api.writeguard``),
and JSON errors for what Twisted and Klein would answer in plain text or with
an empty body.

``ApiSite`` builds an ``ApiChannel`` (``ridad/api/channel.py``) per
connection, up to ``api.max_connections`` open at once; a connection over
the cap is answered 503 and closed at once.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

from twisted.internet.interfaces import IAddress
from twisted.internet.protocol import Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web import http
from twisted.web.resource import IResource, Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

from ridad.api.channel import ApiChannel
from ridad.api.errors import status_of, unexpected_error
from ridad.api.metrics import METRICS_PATH, route_template
from ridad.api.responses import raw_error_response, write_error
from ridad.api.writeguard import check_write
from ridad.config.model import ApiConfig, LiveConfig
from ridad.errors import ClientError, MaintenanceMode
from ridad.metrics.instruments import Metrics

HEALTH_PATH = b"/health"
#: The methods counted by name in ``ridad_api_request_seconds`` (others: ``other``).
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
#: What maintenance mode lets through.
OPEN_IN_MAINTENANCE = (HEALTH_PATH, METRICS_PATH)
OVERLOADED_RETRY_AFTER_SECONDS = 5

log = Logger(namespace="ridad.api.site")


class ApiRequest(Request):
    """A request whose body stops at the limit and whose own failures
    (Twisted's, not a route's) are answered in JSON."""

    _body_bytes = 0
    _started: float | None = None

    def handleContentChunk(self, data: bytes) -> None:
        """Store a body chunk; past the limit, answer 413 and close."""
        self._body_bytes += len(data)
        limit: int = self.channel.site.api.max_body_bytes
        if self._body_bytes > limit:
            self.channel.refuse_body(limit)
            return
        super().handleContentChunk(data)

    def process(self) -> None:
        """Answer ``<method> *`` in JSON (405) but for ``OPTIONS *``."""
        self._started = self.channel.site.reactor.seconds()
        if self.path == b"*" and self.method != b"OPTIONS":
            self.site = self.channel.site
            method = self.method.decode("ascii", "replace")
            body = write_error(
                self,
                405,
                f"{method} * is not allowed; only OPTIONS applies to *",
                headers={b"Allow": b"OPTIONS"},
            )
            self._finish_with(body)
            return
        super().process()

    def finish(self) -> None:
        """Finish, and observe the request's latency."""
        site = self.channel.site if self.channel is not None else None
        super().finish()
        if isinstance(site, ApiSite) and self._started is not None:
            site.observe(self, site.reactor.seconds() - self._started)

    def processingFailed(self, reason: Failure) -> Failure:
        """An exception escaping the resources: a JSON 500 with an error id."""
        if self.startedWriting:  # too late for a status: log and cut the answer
            log.failure("Unexpected error while answering", reason)
            self.loseConnection()
            return reason
        self._finish_with(unexpected_error(self, reason))
        return reason

    def _finish_with(self, body: bytes) -> None:
        self.setHeader(b"Content-Length", b"%d" % len(body))
        self.write(body)
        self.finish()


class Overloaded(Protocol):
    """The answer to a connection over ``api.max_connections``: 503, closed."""

    def connectionMade(self) -> None:
        """Answer 503 with ``Retry-After`` without reading, and close."""
        assert self.transport is not None
        self.transport.write(
            raw_error_response(
                503,
                "ridad has too many open connections; retry later",
                {b"Retry-After": b"%d" % OVERLOADED_RETRY_AFTER_SECONDS},
            )
        )
        self.transport.loseConnection()


class GuardResource(Resource):
    """Checks what must hold before any route runs."""

    isLeaf = True

    def __init__(self, *, wrapped: IResource, config: LiveConfig) -> None:
        super().__init__()
        self._wrapped = wrapped
        self._config = config

    def render(self, request: Request) -> bytes | int:
        """Answer 400, 415, 403 or 503 in JSON, else hand the request on."""
        api = self._config.current.api
        try:
            unquote_to_bytes(request.path).decode("utf-8")
        except UnicodeDecodeError:
            return write_error(request, 400, "the URL path is not valid UTF-8")
        try:
            check_write(request, api.allowed_origins)
        except ClientError as e:
            return write_error(request, status_of(e), e.message, e.details)
        if api.maintenance and request.path not in OPEN_IN_MAINTENANCE:
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
    """A ``Site`` of ``ApiChannel`` connections and ``ApiRequest`` requests,
    with at most ``api.max_connections`` connections open."""

    protocol = ApiChannel  # type: ignore[assignment]
    requestFactory = ApiRequest

    def __init__(
        self,
        resource: IResource,
        *,
        config: LiveConfig,
        reactor: Any = None,
        metrics: Metrics | None = None,
    ) -> None:
        super().__init__(resource, reactor=reactor)
        self._config = config
        self._metrics = metrics or Metrics()
        self.open_connections = 0
        self._refusing = False
        self._random = random.Random()

    @property
    def api(self) -> ApiConfig:
        """The ``api`` settings in force (SIGHUP changes them)."""
        return self._config.current.api

    def buildProtocol(self, addr: IAddress | None) -> Any:
        """An ``ApiChannel``, or ``Overloaded`` when the cap is reached."""
        cap = self.api.max_connections
        if self.open_connections >= cap:
            if not self._refusing:
                self._refusing = True
                log.warn(
                    "{count} API connections are open, the cap"
                    " (api.max_connections); refusing new ones with 503",
                    count=self.open_connections,
                )
            overloaded = Overloaded()
            overloaded.factory = self  # type: ignore[assignment]
            return overloaded
        return super().buildProtocol(addr)

    def log(self, request: http.Request) -> None:
        """Write the request's access log line (``api.access_log``: compact,
        full or off), for the sampled fraction (``api.access_log_sample``)."""
        api = self.api
        if api.access_log == "off" or (
            api.access_log_sample < 1 and self._random.random() >= api.access_log_sample
        ):
            return
        if api.access_log == "full":
            super().log(request)
            return
        log_file = getattr(self, "logFile", None)
        if log_file is not None:
            log_file.write(self._compact_line(request) + "\n")

    def _compact_line(self, request: http.Request) -> str:
        started = getattr(request, "_started", None)
        clock: Any = self.reactor
        seconds = 0.0 if started is None else clock.seconds() - started
        method = request.method.decode("ascii", "replace")
        path = request.uri.decode("ascii", "replace").replace('"', "%22")
        return f'"{method} {path}" {request.code} {request.sentLength} {seconds:.4f}'

    def observe(self, request: Request, seconds: float) -> None:
        """Count a finished request by method, route template and status."""
        method = request.method.decode("ascii", "replace")
        method = method if method in METHODS else "other"
        status = str(request.code)
        route = route_template(request)
        self._metrics.api_seconds.labels(method, route, status).observe(seconds)

    def connection_opened(self) -> None:
        """A channel's connection opened."""
        self.open_connections += 1

    def connection_closed(self) -> None:
        """A channel's connection closed."""
        self.open_connections -= 1
        if self._refusing and self.open_connections < self.api.max_connections:
            self._refusing = False
            log.info(
                "API connections below the cap again ({count} open)",
                count=self.open_connections,
            )


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
    reactor: Any = None,
    metrics: Metrics | None = None,
) -> ApiSite:
    """The site serving the API; paths under a ``by_prefix`` key (such as
    ``/module-build-service``) go to that resource instead. ``reactor``
    (the global one if None) runs the connections' timers; each request's
    latency goes to ``metrics``."""
    wrapped = api_resource
    if by_prefix:
        wrapped = PrefixDispatch(default=api_resource, by_prefix=by_prefix)
    return ApiSite(
        GuardResource(wrapped=wrapped, config=config),
        config=config,
        reactor=reactor,
        metrics=metrics,
    )
