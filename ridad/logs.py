"""Log output for twistd (``--logger=ridad.logs.observer``) and the log
vocabulary.

Log events name their values in the format string and pass them as keywords,
so a JSON observer keeps them as fields. :data:`LOG_KEYS` is the one
vocabulary of those keys; ``tests/unit/test_logs.py`` checks that every key a
log event uses is listed there, and that nothing listed is unused.
"""

from __future__ import annotations

import os
import sys

from twisted.logger import (
    FileLogObserver,
    ILogObserver,
    formatEventAsClassicLogText,
    jsonFileLogObserver,
)

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
    "destination": "a STOMP destination",
    "directory": "a directory on disk",
    "dsn": "a PostgreSQL DSN, its password stripped",
    "duration_seconds": "how long something took",
    "endpoint": "a Twisted endpoint description",
    "epoch": "the scheduler lease's epoch",
    "error": "a short description of what went wrong",
    "error_id": "the id of a 500 answer, also in its body",
    "holder": "who holds the scheduler lease (host:pid)",
    "kind": "which kind of thing an event concerns",
    "koji_session_id": "a Koji session id",
    "koji_tag": "a Koji tag's name",
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
    "port": "a TCP port",
    "principal": "an authenticated Kerberos or certificate principal",
    "realm": "a Kerberos realm",
    "reason": "why something happened, for a person",
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


def observer() -> ILogObserver:
    """JSON lines on stdout in production, text on a terminal.

    ``RIDAD_LOG_FORMAT=json`` or ``text`` overrides the choice.
    """
    chosen = os.environ.get("RIDAD_LOG_FORMAT")
    if chosen is None:
        chosen = "text" if sys.stdout.isatty() else "json"
    if chosen == "json":
        return jsonFileLogObserver(sys.stdout)
    return FileLogObserver(sys.stdout, formatEventAsClassicLogText)
