"""The walker of a parsed ``ridad.yaml`` and the checks of single values.

A ``Reader`` collects every problem with its key path; each ``check_*``
function returns the problem with a value, or None when it is acceptable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit


class Reader:
    """Walks a parsed YAML mapping and collects every problem."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def section(self, data: Any, path: str, known: set[str]) -> Mapping[str, Any]:
        """The mapping ``data`` at ``path``; unknown keys are problems."""
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.problems.append(f"{path}: must be a mapping")
            return {}
        for key in data:
            if key not in known:
                where = f"{path}.{key}" if path else str(key)
                self.problems.append(f"{where}: unknown setting")
        return data

    def value(
        self,
        data: Mapping[str, Any],
        path: str,
        key: str,
        default: Any,
        check: Callable[[Any], str | None],
    ) -> Any:
        """The value of ``key`` in ``data``, or ``default`` if absent or bad."""
        if key not in data:
            return default
        problem = check(data[key])
        if problem:
            self.problems.append(f"{path}{key}: {problem}")
            return default
        return data[key]


def check_string(value: Any) -> str | None:
    """A problem unless ``value`` is a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        return "must be a non-empty string"
    return None


def check_strings(value: Any) -> str | None:
    """A problem unless ``value`` is a list of non-empty strings."""
    if not isinstance(value, list) or not all(
        isinstance(v, str) and v.strip() for v in value
    ):
        return "must be a list of non-empty strings"
    return None


def check_positive_int(value: Any) -> str | None:
    """A problem unless ``value`` is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return "must be a positive integer"
    return None


def check_positive_number(value: Any) -> str | None:
    """A problem unless ``value`` is a positive number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return "must be a positive number"
    return None


def check_non_negative_number(value: Any) -> str | None:
    """A problem unless ``value`` is a number, zero or more."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return "must be a number, zero or more"
    return None


def check_boolean(value: Any) -> str | None:
    """A problem unless ``value`` is true or false."""
    return None if isinstance(value, bool) else "must be true or false"


def check_string_map(value: Any) -> str | None:
    """A problem unless ``value`` maps strings to non-empty strings."""
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and k and v for k, v in value.items()
    ):
        return "must map strings to non-empty strings"
    return None


def check_groups(value: Any) -> str | None:
    """A problem unless ``value`` maps group names to package lists."""
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and check_strings(v) is None for k, v in value.items()
    ):
        return "must map group names to lists of package names"
    return None


def check_http_url(value: Any) -> str | None:
    """A problem unless ``value`` is an http:// or https:// URL."""
    if check_string(value) is not None:
        return "must be a non-empty string"
    try:
        parts = urlsplit(value)
    except ValueError:  # such as an unclosed [IPv6 address
        return "must be an http:// or https:// URL"
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "must be an http:// or https:// URL"
    return None


def check_public_url(value: Any) -> str | None:
    """A problem unless ``value`` is an absolute http(s) base URL: a host,
    maybe a port and a path; no user, query or fragment."""
    problem = check_http_url(value)
    if problem is not None:
        return problem
    if not value.isascii() or any(c.isspace() or not c.isprintable() for c in value):
        return "must be ASCII without spaces or control characters"
    parts = urlsplit(value)
    if "@" in parts.netloc or "?" in value or "#" in value:
        return "must be a base URL (https://host[:port][/path]) without user, query or fragment"
    try:
        port = parts.port
    except ValueError:
        port = 0
    if not parts.hostname or port == 0:
        return "must name a host and, if any, a port from 1 to 65535"
    return None


def check_user_groups(value: Any) -> str | None:
    """A problem unless ``value`` maps user names to group lists."""
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k and check_strings(v) is None for k, v in value.items()
    ):
        return "must map user names to lists of group names"
    return None


def check_principal(value: Any) -> str | None:
    """A problem unless ``value`` is a service principal."""
    if check_string(value) is not None:
        return "must be a non-empty string"
    service, _, realm = value.partition("@")
    if not service or not realm or "/" not in service:
        return "must be a service principal such as HTTP/host.example.org@REALM"
    return None
