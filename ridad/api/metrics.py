"""``GET /metrics``: ridad's metrics in Prometheus' text format.

The values that live in the database (builds by state, components in Koji,
the outbox) are read with one statement just before the text is made; a
read that fails or takes longer than ``READ_TIMEOUT_SECONDS`` leaves them
out (``ridad_database_up 0``) and the rest is answered all the same. The
text itself (some milliseconds of CPU for a busy registry) is made in
``run_blocking``, the reactor's thread pool. The resource serves the API port's
``/metrics`` (the site lets it through maintenance mode, and it asks for no
login, like ``/health``) or, with ``metrics.listen``, a port of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from klein.interfaces import IKleinRequest
from twisted.internet.defer import Deferred
from twisted.internet.defer import TimeoutError as DeferredTimeoutError
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request
from werkzeug.exceptions import HTTPException

from ridad.api.responses import write_error
from ridad.db.metrics_reads import MetricsStore
from ridad.errors import DatabaseUnavailable
from ridad.metrics.instruments import CONTENT_TYPE, DatabaseReadings, Metrics

__all__ = [
    "METRICS_PATH",
    "READ_TIMEOUT_SECONDS",
    "UNMATCHED",
    "MetricsResource",
    "route_template",
]

METRICS_PATH = b"/metrics"
#: The route of a request no route matched (or answered before routing).
UNMATCHED = "unmatched"
#: The longest a scrape waits for the database values.
READ_TIMEOUT_SECONDS = 5.0


class MetricsResource(Resource):
    """Answers ``GET /metrics`` (and ``HEAD``); 404 and 405 in JSON else."""

    isLeaf = True
    log = Logger()

    def __init__(
        self,
        *,
        metrics: Metrics,
        store: MetricsStore,
        clock: IReactorTime,
        run_blocking: Callable[[Callable[[], bytes]], Awaitable[Any]] | None = None,
    ) -> None:
        super().__init__()
        self._metrics = metrics
        self._store = store
        self._clock = clock
        self._run_blocking = run_blocking

    def render(self, request: Request) -> bytes | int:
        """Read the database values, then answer the text."""
        if request.path != METRICS_PATH:
            path = request.path.decode("utf-8", "replace")
            return write_error(request, 404, f"No resource at {path}")
        if request.method not in (b"GET", b"HEAD"):
            return write_error(
                request,
                405,
                "only GET and HEAD apply to /metrics",
                headers={b"Allow": b"GET, HEAD"},
            )
        gone: list[bool] = []
        request.notifyFinish().addErrback(lambda _: gone.append(True))
        answer = Deferred.fromCoroutine(self._answer(request, gone))
        answer.addErrback(lambda f: self.log.failure("Answering /metrics failed", f))
        return NOT_DONE_YET

    async def _answer(self, request: Request, gone: list[bool]) -> None:
        readings = await self._readings()
        body: bytes
        if self._run_blocking is None:
            body = self._metrics.exposition(readings)
        else:
            body = await self._run_blocking(lambda: self._metrics.exposition(readings))
        if gone:
            return
        request.setResponseCode(200)
        request.setHeader(b"Content-Type", CONTENT_TYPE.encode("ascii"))
        request.setHeader(b"Content-Length", b"%d" % len(body))
        request.write(body)
        request.finish()

    async def _readings(self) -> DatabaseReadings | None:
        """This scrape's database values, or None when they cannot be had."""
        now = datetime.fromtimestamp(self._clock.seconds(), tz=UTC)
        read = Deferred.fromCoroutine(self._store.readings(now))
        read.addTimeout(READ_TIMEOUT_SECONDS, self._clock)
        try:
            return await read
        except (DatabaseUnavailable, DeferredTimeoutError) as e:
            self.log.warn(
                "/metrics goes without the database values: {reason}",
                reason=getattr(e, "message", None) or "no answer in time",
            )
            return None


def route_template(request: Request) -> str:
    """The route that answered ``request``, as written in its Klein app
    (``/rida/module-builds/<number:module_build_id>``), ``/metrics``, or
    ``UNMATCHED``: a label of a small, fixed set, never the request's path."""
    if request.path == METRICS_PATH:
        return METRICS_PATH.decode()
    mapper = getattr(IKleinRequest(request, None), "mapper", None)
    if mapper is None:
        return UNMATCHED
    try:
        rule, _ = mapper.match(return_rule=True)
    except HTTPException:
        return UNMATCHED
    return str(rule.rule)
