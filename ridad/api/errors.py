"""The one mapping of errors to HTTP responses, registered on a Klein app.

Handlers are tried in definition order: the specific ones first,
``Exception`` last.
"""

from __future__ import annotations

import uuid

from klein import Klein
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.iweb import IRequest
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.exceptions import NotFound as RouteNotFound

from ridad.api.responses import write_error
from ridad.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    RidadError,
    Unauthorized,
    Unavailable,
    Unprocessable,
    UnsupportedMediaType,
)

STATUS_BY_ERROR: tuple[tuple[type[RidadError], int], ...] = (
    (InvalidRequest, 400),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PayloadTooLarge, 413),
    (UnsupportedMediaType, 415),
    (Unprocessable, 422),
    (Unavailable, 503),
)

log = Logger(namespace="ridad.api.errors")


def status_of(error: RidadError) -> int:
    """The HTTP status of one of our errors (500 when unmapped)."""
    for error_type, status in STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return 500


def log_unexpected(request: IRequest, failure: Failure) -> str:
    """Log an unexpected failure under a new error id; answer the id."""
    error_id = uuid.uuid4().hex
    log.failure(
        "Unexpected error {error_id} on {method} {path}",
        failure,
        error_id=error_id,
        method=request.method.decode("ascii", "replace"),
        path=request.path.decode("utf-8", "replace"),
    )
    return error_id


def unexpected_error(request: IRequest, failure: Failure) -> bytes:
    """Log an unexpected failure with an id and answer a generic 500."""
    error_id = log_unexpected(request, failure)
    return write_error(
        request,
        500,
        "An unexpected error occurred; the administrators can find it in"
        " the log by its error id",
        {"error_id": error_id},
    )


def install_error_handlers(app: Klein) -> None:
    """Register the error mapping on ``app``, a Klein app bound per instance.

    Klein calls each handler with the app's instance first.
    """

    @app.handle_errors(RidadError)
    def ridad_error(instance: object, request: IRequest, failure: Failure) -> bytes:
        error = failure.value
        assert isinstance(error, RidadError)
        status = status_of(error)
        if status == 500:
            return unexpected_error(request, failure)
        headers = {}
        details = dict(error.details)
        if isinstance(error, Unauthorized):
            challenge = details.pop("www_authenticate", None)
            if challenge:
                headers[b"WWW-Authenticate"] = challenge.encode("ascii")
        if isinstance(error, Unavailable):
            headers[b"Retry-After"] = str(error.retry_after_seconds).encode()
            log.warn("Answering 503: {reason}", reason=error.message)
        return write_error(request, status, error.message, details, headers)

    @app.handle_errors(RouteNotFound)
    def route_not_found(instance: object, request: IRequest, failure: Failure) -> bytes:
        path = request.path.decode("utf-8", "replace")
        return write_error(request, 404, f"No resource at {path}")

    @app.handle_errors(MethodNotAllowed)
    def method_not_implemented(
        instance: object, request: IRequest, failure: Failure
    ) -> bytes:
        method = request.method.decode("ascii", "replace")
        path = request.path.decode("utf-8", "replace")
        allowed = getattr(failure.value, "valid_methods", None) or []
        return write_error(
            request,
            501,
            f"{method} is not implemented for {path}",
            {"allowed_methods": sorted(allowed)} if allowed else None,
        )

    @app.handle_errors(HTTPException)
    def other_http_error(
        instance: object, request: IRequest, failure: Failure
    ) -> bytes:
        error = failure.value
        assert isinstance(error, HTTPException)
        code = error.code or 500
        return write_error(request, code, error.description or "Request refused")

    @app.handle_errors(Exception)
    def anything_else(instance: object, request: IRequest, failure: Failure) -> bytes:
        return unexpected_error(request, failure)
