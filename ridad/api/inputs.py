"""What every request input must be before a route parses it further:
query arguments as text, whole numbers in range, ids in paths, JSON bodies
and user names.

PostgreSQL refuses a NUL in text and psycopg2 cannot encode a lone
surrogate; Python refuses ``int()`` of more than 4300 digits and recursion
deeper than its limit. Each of these is refused here with a 400 (a 401 for
a user name) that names the parameter or field, never a 500.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from klein import Klein
from twisted.web.iweb import IRequest
from werkzeug.routing import BaseConverter

from ridad.errors import InvalidRequest

#: JSON bodies may nest arrays and objects this deep at most.
MAX_JSON_DEPTH = 64
#: PostgreSQL ``integer``, ``bigint`` and ridad's unsigned 64-bit version.
INT_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1

_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPE = re.compile(r"\\.", re.DOTALL)
_STRING = re.compile(r'"[^"]*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}.__getitem__


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be used as text (a NUL or a lone surrogate), or None."""
    if "\x00" in text:
        return "must not contain NUL (U+0000)"
    if _SURROGATE.search(text):
        return "must not contain a lone surrogate (U+D800 to U+DFFF)"
    return None


def shown(text: str) -> str:
    """``text`` with every unprintable character written as an escape."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def whole_number(text: str, *, minimum: int, maximum: int) -> int:
    """``text`` as a number when it is ASCII digits between the bounds.

    Leading zeros are fine; the length is checked before ``int()``.

    :raises ValueError: with what is wrong, to report under the parameter.
    """
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"must be a whole number of at least {minimum} (digits 0-9)")
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(maximum)) or int(digits) > maximum:
        raise ValueError(f"must be at most {maximum}")
    value = int(digits)
    if value < minimum:
        raise ValueError(f"must be a whole number of at least {minimum}")
    return value


def decode_args(request: IRequest) -> dict[str, list[str]]:
    """The query arguments as text.

    :raises InvalidRequest: naming every parameter whose name or value is
        not UTF-8, holds a NUL or (never from UTF-8) a lone surrogate.
    """
    args: dict[str, list[str]] = {}
    problems: dict[str, str] = {}
    for raw_key, raw_values in (request.args or {}).items():
        key = raw_key.decode("utf-8", "replace")
        try:
            raw_key.decode("utf-8")
            values = [v.decode("utf-8") for v in raw_values]
        except UnicodeDecodeError:
            problems[shown(key)] = "must be UTF-8 text (percent-encoded UTF-8)"
            continue
        problem = text_problem(key) or next(
            filter(None, map(text_problem, values)), None
        )
        if problem:
            problems[shown(key)] = problem
            continue
        args[key] = values
    if problems:
        listing = "; ".join(f"{k}: {v}" for k, v in sorted(problems.items()))
        raise InvalidRequest(f"bad query ({listing})", details={"parameters": problems})
    return args


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``text`` opens more than ``limit`` arrays or objects at once.

    Brackets inside strings do not count. Linear in the text and without
    recursion: escapes and then strings are removed, and the running sum of
    the brackets left is taken. A body with at most ``limit`` brackets is
    never scanned.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", _ESCAPE.sub("", text)))
    return max(accumulate(map(_STEP, brackets)), default=0) > limit


def load_json(raw: bytes, *, what: str = "the body") -> Any:
    """Parse a JSON document of at most ``MAX_JSON_DEPTH`` levels.

    :raises ValueError: with what is wrong, when ``raw`` is not UTF-8, too
        deep or not JSON.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(
            f"{what} is not UTF-8 ({e.reason} at byte {e.start})"
        ) from None
    if json_too_deep(text):
        raise ValueError(
            f"{what} nests arrays or objects deeper than {MAX_JSON_DEPTH} levels"
        )
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(f"{what} nests arrays or objects too deeply") from None
    except ValueError as e:
        raise ValueError(f"{what} is not valid JSON ({e})") from None


def json_object_body(raw: bytes) -> dict[str, Any]:
    """A request body that must be a JSON object.

    :raises InvalidRequest: the body is not UTF-8, too deep, not JSON, or
        not an object.
    """
    try:
        value = load_json(raw)
    except ValueError as e:
        raise InvalidRequest(
            f"{e}; send a JSON object", details={"body": str(e)}
        ) from None
    if not isinstance(value, dict):
        raise InvalidRequest("the body must be a JSON object")
    return value


def field_problem(value: Any, expected: type) -> str | None:
    """Why a body member ``value`` is not a usable ``expected``, or None."""
    if not isinstance(value, expected):
        kind = {str: "a string", bool: "a boolean", dict: "an object"}[expected]
        return f"must be {kind}"
    return text_problem(value) if isinstance(value, str) else None


class NumberConverter(BaseConverter):
    """``<number:name>``: a path segment of ASCII digits, as an ``int``.

    werkzeug's ``int`` converter matches any Unicode digit (``１`` is 1);
    this one only 0-9, and at most 19 after leading zeros, so a number far
    beyond ``bigint`` never reaches ``int()``. A segment that does not match
    is no resource (404); the stores answer 404 for the 19-digit numbers
    above ``bigint``.
    """

    regex = "0*[0-9]{1,19}"
    weight = 50

    def to_python(self, value: str) -> int:
        """The segment as a number (``int()`` counts leading zeros too)."""
        return int(value.lstrip("0") or "0")

    def to_url(self, value: Any) -> str:
        """The number as a path segment."""
        return str(int(value))


def install_converters(app: Klein) -> None:
    """Register ``<number:...>`` on ``app``, before any route names it."""
    app.url_map.converters["number"] = NumberConverter


def known_args(args: dict[str, list[str]], known: set[str]) -> dict[str, list[str]]:
    """``args`` when every parameter is in ``known``.

    :raises InvalidRequest: naming the unknown ones.
    """
    unknown = {shown(k): "unknown parameter" for k in args if k not in known}
    if unknown:
        listing = ", ".join(sorted(unknown))
        raise InvalidRequest(
            f"unknown parameters: {listing}", details={"parameters": unknown}
        )
    return args
