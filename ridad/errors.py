"""The single exception hierarchy of ridad (docs/architecture.md).

Every layer raises these; ``ridad/api/errors.py`` maps them to HTTP status
codes. Lower-level exceptions (psycopg2, XML-RPC, git exit codes) are
translated into these at the boundary that knows the cause.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class RidadError(Exception):
    """Base class of every error ridad raises on purpose."""

    def __init__(
        self, message: str, *, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


class ClientError(RidadError):
    """The request cannot be served as it stands; the client must change it."""


class InvalidRequest(ClientError):
    """Malformed JSON, missing or unknown fields, unparseable values (400)."""


class Unauthorized(ClientError):
    """Missing or bad credentials (401)."""


class Forbidden(ClientError):
    """Outside the whitelist, or the user is not allowed (403)."""


class NotFound(ClientError):
    """Unknown id or URL (404)."""


class Conflict(ClientError):
    """That module build already exists and has not failed (409)."""

    @classmethod
    def build_exists(cls, *, nsvc: str, build_id: int, state: str) -> Conflict:
        """The refusal of a submission whose build exists and has not failed.

        :returns: the error, with the build's ``id`` and ``state`` in its details.
        """
        return cls(
            f"Module build {nsvc} already exists (id {build_id}, state {state});"
            " only a failed build may be submitted again",
            details={"id": build_id, "state": state},
        )


class PayloadTooLarge(ClientError):
    """The request body is over the configured limit (413)."""


class UnsupportedMediaType(ClientError):
    """A write whose Content-Type ridad does not read, such as a form's (415)."""


class Unprocessable(ClientError):
    """Invalid modulemd, or something it names cannot be retrieved (422)."""


class Unavailable(RidadError):
    """A dependency is down for now; retrying later may succeed (503)."""

    retry_after_seconds: int = 5


class DatabaseUnavailable(Unavailable):
    """PostgreSQL cannot be reached or lost the connection."""


class MaintenanceMode(Unavailable):
    """The operator switched maintenance mode on."""

    retry_after_seconds = 60


class BusUnavailable(Unavailable):
    """The message broker cannot be reached."""


class GreenwaveUnavailable(Unavailable):
    """Greenwave could not be asked, or gave no usable decision."""


class KojiError(RidadError):
    """Koji could not do what was asked."""


class KojiUnavailable(KojiError):
    """Transport trouble, HTTP 5xx or ServerOffline: retryable."""


class KojiFault(KojiError):
    """Koji refused the call with an XML-RPC fault."""

    def __init__(self, message: str, *, fault_code: int, fault_name: str) -> None:
        super().__init__(message, details={"fault_code": fault_code})
        self.fault_code = fault_code
        self.fault_name = fault_name


class KojiAnswerLost(KojiFault):
    """The answer of a request was lost and the hub refused its resend
    (RetryError 1009): the request ran, what it did must be read back."""

    def __init__(self, message: str) -> None:
        super().__init__(message, fault_code=1009, fault_name="RetryError")


class NotLeader(RidadError):
    """This process no longer holds the scheduler lease."""


class SchemaError(RidadError):
    """The database schema is newer than this code, or broken: not retryable."""


class ConfigError(RidadError):
    """The configuration has problems; ``messages`` lists every one of them."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)
