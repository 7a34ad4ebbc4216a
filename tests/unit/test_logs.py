"""Every structured key a log event uses is in the documented vocabulary."""

from __future__ import annotations

import ast
import string
from pathlib import Path

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
