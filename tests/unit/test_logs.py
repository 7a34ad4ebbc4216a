"""Every structured key a log event uses is in the documented vocabulary,
and the JSON observer writes plain JSON lines."""

from __future__ import annotations

import ast
import io
import json
import string
import sys
from pathlib import Path
from typing import Any

import pytest
from twisted.logger import Logger, LogLevel
from twisted.python.failure import Failure
from twisted.web.test.requesthelper import DummyRequest

import ridad.api.errors
import ridad.logs

RIDAD = Path(ridad.logs.__file__).resolve().parent
LOG_METHODS = {"debug", "info", "warn", "error", "critical", "failure"}


def _format_keys(text: str) -> set[str]:
    keys = set()
    for _, field, _, _ in string.Formatter().parse(text):
        if field:
            keys.add(field.split(".")[0].split("[")[0])
    return keys


def _used_keys() -> dict[str, set[str]]:
    """Each key named in a log call's format string, with the modules using it."""
    used: dict[str, set[str]] = {}
    for path in sorted(RIDAD.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in LOG_METHODS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                continue
            for key in _format_keys(node.args[0].value):
                used.setdefault(key, set()).add(str(path.relative_to(RIDAD.parent)))
    return used


def test_every_log_key_is_documented_in_ridad_logs() -> None:
    """A key used in a log event appears in ridad.logs' list of keys."""
    documented = set(ridad.logs.LOG_KEYS)
    missing = {k: sorted(v) for k, v in _used_keys().items() if k not in documented}
    assert missing == {}


def test_the_documented_keys_are_all_used() -> None:
    """The list carries no key that no log event uses any more."""
    assert set(ridad.logs.LOG_KEYS) - set(_used_keys()) == set()


# The JSON observer


def _failure() -> Failure:
    try:
        raise ValueError("bad value 42")
    except ValueError:
        return Failure()


def test_json_records_are_plain_lines_of_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RIDAD_LOG_FORMAT=json: one JSON object per line, no record separator."""
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setenv("RIDAD_LOG_FORMAT", "json")
    log = Logger(namespace="ridad.test", observer=ridad.logs.observer())
    log.info(
        "Module build {module_build_id} moved to {state}",
        module_build_id=7,
        state="wait",
    )
    log.warn("Second {count}", count=2)  # noqa: G010
    text = out.getvalue()
    assert "\x1e" not in text
    lines = text.splitlines()
    assert len(lines) == 2 and text.endswith("\n")
    first = json.loads(lines[0])
    assert first["message"] == "Module build 7 moved to wait"
    assert (first["level"], first["namespace"]) == ("info", "ridad.test")
    assert (first["module_build_id"], first["state"]) == (7, "wait")
    assert first["time"].endswith("+00:00")
    assert not [key for key in first if key.startswith("log_")]
    assert json.loads(lines[1])["level"] == "warn"


def test_a_failure_carries_its_exception_type_message_and_traceback() -> None:
    """log.failure: the exception's type and message, not "unpersistable"."""
    events: list[dict[str, Any]] = []
    Logger(namespace="ridad.test", observer=events.append).failure(
        "Unexpected error {error_id}", _failure(), error_id="abc"
    )
    text = ridad.logs.event_as_json(events[0])
    assert "unpersistable" not in text
    record = json.loads(text)
    assert record["level"] == "critical"
    assert record["message"] == "Unexpected error abc"
    exception = record["exception"]
    assert (exception["type"], exception["message"]) == ("ValueError", "bad value 42")
    assert "Traceback" in exception["traceback"]
    assert "ValueError: bad value 42" in exception["traceback"]


def test_a_500_is_logged_with_its_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    """The event of an unexpected error names the exception and the error id."""
    events: list[dict[str, Any]] = []
    monkeypatch.setattr(ridad.api.errors.log, "observer", events.append)
    request = DummyRequest([b"rida", b"module-builds"])
    request.path = b"/rida/module-builds"
    body = json.loads(ridad.api.errors.unexpected_error(request, _failure()))
    error_id = body["details"]["error_id"]
    record = json.loads(ridad.logs.event_as_json(events[0]))
    assert record["error_id"] == error_id
    assert record["exception"]["type"] == "ValueError"
    assert record["exception"]["message"] == "bad value 42"


def test_values_json_cannot_hold_are_written_as_text() -> None:
    """A path, bytes or an object become strings; a legacy event's own
    ``time``, ``message`` and failure do not replace the record's fields."""
    event = {
        "log_format": "{path}",
        "log_time": 0.0,
        "log_level": LogLevel.error,
        "log_namespace": "log_legacy",
        "path": Path("/var/lib/ridad"),
        "raw": b"caf\xc3\xa9",
        "thing": object(),
        "time": 123.0,
        "message": ("legacy",),
        "failure": _failure(),
    }
    record = json.loads(ridad.logs.event_as_json(event))
    assert record["path"] == "/var/lib/ridad"
    assert record["raw"] == "café"
    assert record["thing"].startswith("<object object")
    assert (record["time"], record["message"]) == (
        "1970-01-01T00:00:00.000+00:00",
        "/var/lib/ridad",
    )
    assert "failure" not in record


def test_no_log_key_collides_with_a_record_field() -> None:
    """The record's own fields are never a log event key."""
    assert set(ridad.logs.RECORD_FIELDS) & set(ridad.logs.LOG_KEYS) == set()
