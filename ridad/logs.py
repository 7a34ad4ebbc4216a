"""Log output for twistd (``--logger=ridad.logs.observer``) and the log
vocabulary.

Log events name their values in the format string and pass them as keywords,
so the JSON observer keeps them as fields. :data:`LOG_KEYS` is the one
vocabulary of those keys; ``tests/unit/test_logs.py`` checks that every key a
log event uses is listed there, and that nothing listed is unused.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from typing import Any

from twisted.logger import (
    FileLogObserver,
    ILogObserver,
    LogEvent,
    formatEvent,
    formatEventAsClassicLogText,
)
from twisted.python.failure import Failure

#: Every key a log event may use, with what its value is.
LOG_KEYS: dict[str, str] = {
    "account": "the operating-system account a child process runs as",
    "attempt": "how many times in a row something was tried",
    "claim": "the identity-provider claim a username was read from",
    "command": "a child process's program and arguments",
    "component": "a component's name within its module",
    "count": "how many items an event concerns",
    "data_dir": "the embedded PostgreSQL cluster's data directory",
    "delay_seconds": "how long until the next attempt",
    "delivery": "a forge's id of a webhook delivery",
    "destination": "a STOMP destination",
    "directory": "a directory on disk",
    "dsn": "a PostgreSQL DSN, its password stripped",
    "duration_seconds": "how long something took",
    "endpoint": "a Twisted endpoint description",
    "epoch": "the scheduler lease's epoch",
    "error": "a short description of what went wrong",
    "error_id": "the id of a 500 answer, also in its body",
    "forge": "a forge whose webhook deliveries ridad takes (github, gitlab, ...)",
    "holder": "who holds the scheduler lease (host:pid)",
    "kind": "which kind of thing an event concerns",
    "koji_build_id": "a Koji build id",
    "koji_session_id": "a Koji session id",
    "koji_tag": "a Koji tag's name",
    "koji_tags": "the names of Koji tags read together",
    "koji_target": "a Koji build target's name",
    "koji_task_id": "a Koji task id",
    "listen": "the API's listening endpoint",
    "method": "an HTTP or Koji method",
    "migration": "a schema migration's file name",
    "module_build_id": "a module build's id",
    "name": "the name of a loop, service or job",
    "operation": "what a request to Koji was for",
    "nvr": "a build's name-version-release",
    "path": "a URL path or a file path",
    "pid": "a process id",
    "principal": "an authenticated Kerberos or certificate principal",
    "realm": "a Kerberos realm",
    "reason": "why something happened, for a person",
    "reused_module_id": "the module build whose components a build reuses",
    "receipt": "a STOMP receipt id",
    "repository": "a git repository URL",
    "state": "a module or component state",
    "state_dir": "ridad's state directory",
    "status": "an HTTP status code",
    "subscription": "a STOMP subscription id",
    "timeout_seconds": "a time limit",
    "topic": "a bus topic",
    "version": "a version: of a schema, Koji or ridad",
}


#: The fields every JSON record has; an event's own key of the same name
#: (Twisted's legacy events carry ``time`` and ``message``) is left out.
RECORD_FIELDS = ("time", "level", "namespace", "message", "exception")


def observer() -> ILogObserver:
    """JSON lines on stdout in production, text on a terminal.

    ``RIDAD_LOG_FORMAT=json`` or ``text`` overrides the choice.
    """
    chosen = os.environ.get("RIDAD_LOG_FORMAT")
    if chosen is None:
        chosen = "text" if sys.stdout.isatty() else "json"
    if chosen == "json":
        return FileLogObserver(sys.stdout, lambda event: event_as_json(event) + "\n")
    return FileLogObserver(sys.stdout, formatEventAsClassicLogText)


def event_as_json(event: LogEvent) -> str:
    """One log event as one line of plain JSON (no newline at the end).

    The record holds ``time`` (ISO 8601, UTC), ``level``, ``namespace``, the
    formatted ``message`` and the event's own keys; a failure's exception is
    ``exception``: its ``type``, ``message`` and ``traceback``. A value JSON
    cannot hold is written as its ``str()``.
    """
    when = datetime.fromtimestamp(event.get("log_time", 0), tz=UTC)
    level = event.get("log_level")
    record: dict[str, Any] = {
        "time": when.isoformat(timespec="milliseconds"),
        "level": getattr(level, "name", None),
        "namespace": event.get("log_namespace"),
        "message": formatEvent(event),
    }
    failure = event.get("log_failure")
    if isinstance(failure, Failure):
        record["exception"] = exception_fields(failure)
    for key, value in event.items():
        if key.startswith("log_") or key in RECORD_FIELDS:
            continue
        if not isinstance(value, Failure):  # legacy events repeat log_failure
            record[key] = value
    try:
        return json.dumps(record, default=_as_text, ensure_ascii=False, skipkeys=True)
    except ValueError:  # a circular structure: every value as text instead
        plain = {key: _as_text(value) for key, value in record.items()}
        return json.dumps(plain, ensure_ascii=False)


def exception_fields(failure: Failure) -> dict[str, str]:
    """A failure's exception type (module-qualified), message and traceback."""
    kind = failure.type
    name = getattr(kind, "__qualname__", str(kind))
    module = getattr(kind, "__module__", "builtins")
    return {
        "type": name if module == "builtins" else f"{module}.{name}",
        "message": str(failure.value),
        "traceback": failure.getTraceback(),
    }


def _as_text(value: object) -> Any:
    if isinstance(value, str | int | float | bool | None):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
