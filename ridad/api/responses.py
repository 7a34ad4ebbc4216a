"""JSON responses and error bodies shared by every route."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from twisted.web.http import RESPONSES
from twisted.web.iweb import IRequest

REASONS = {**{k: v.decode("ascii") for k, v in RESPONSES.items() if v}}
REASONS[422] = "Unprocessable Entity"
JSON_TYPE = b"application/json"
#: YAML's registered media type (RFC 9512). It has no charset parameter:
#: YAML is UTF-8 unless a byte order mark says otherwise.
YAML_TYPE = b"application/yaml"


def reason_phrase(status: int) -> str:
    """The HTTP reason phrase of ``status`` (Twisted lacks 422's)."""
    return REASONS.get(status, "Error")


def json_bytes(value: Any) -> bytes:
    """Serialise a JSON response body."""
    return json.dumps(value).encode("utf-8") + b"\n"


def write_json(
    request: IRequest,
    value: Any,
    *,
    status: int = 200,
    headers: Mapping[bytes, bytes] | None = None,
) -> bytes:
    """Set the status and JSON headers on ``request``; return the body."""
    request.setResponseCode(status, reason_phrase(status).encode("ascii"))
    request.setHeader(b"Content-Type", JSON_TYPE)
    for name, header_value in (headers or {}).items():
        request.setHeader(name, header_value)
    return json_bytes(value)


def write_document(request: IRequest, text: str, filename: str) -> bytes:
    """Answer ``request`` with a modulemd document as stored: 200, YAML, and
    the file name Koji has it under (``filename``: ASCII, checked by the
    caller) for clients that save it; return the UTF-8 bytes."""
    request.setResponseCode(200, b"OK")
    request.setHeader(b"Content-Type", YAML_TYPE)
    disposition = f'inline; filename="{filename}"'.encode("ascii")
    request.setHeader(b"Content-Disposition", disposition)
    return text.encode("utf-8")


def error_document(
    status: int, message: str, details: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The error body every non-2xx response carries."""
    body: dict[str, Any] = {
        "status": status,
        "error": reason_phrase(status),
        "message": message,
    }
    if details:
        body["details"] = dict(details)
    return body


def write_error(
    request: IRequest,
    status: int,
    message: str,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[bytes, bytes] | None = None,
) -> bytes:
    """Answer ``request`` with a JSON error; return the body."""
    return write_json(
        request,
        error_document(status, message, details),
        status=status,
        headers=headers,
    )


def raw_error_response(
    status: int,
    message: str,
    headers: Mapping[bytes, bytes] | None = None,
) -> bytes:
    """A whole HTTP/1.1 error response, for answers written straight to the
    connection (before or instead of a request): a JSON error body, its
    length, and ``Connection: close``."""
    body = json_bytes(error_document(status, message))
    lines = [
        f"HTTP/1.1 {status} {reason_phrase(status)}".encode("ascii"),
        b"Content-Type: " + JSON_TYPE,
        b"Content-Length: %d" % len(body),
        b"Connection: close",
    ]
    lines.extend(name + b": " + value for name, value in (headers or {}).items())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def link_header(
    base: str,
    args: dict[str, list[str]],
    page: int,
    per_page: int,
    total: int,
) -> bytes:
    """RFC 8288 ``Link`` header with first, prev, next and last pages of the
    listing at ``base`` (a path, or an absolute URL under ``api.public_url``;
    never the request's ``Host``)."""
    last = max(1, -(-total // per_page))

    def url(target: int) -> str:
        query = {k: v for k, v in args.items() if k not in ("page", "per_page")}
        query["page"] = [str(target)]
        query["per_page"] = [str(per_page)]
        return f"{base}?{urlencode(query, doseq=True)}"

    links = [f'<{url(1)}>; rel="first"']
    if page > 1:
        links.append(f'<{url(min(page - 1, last))}>; rel="prev"')
    if page < last:
        links.append(f'<{url(page + 1)}>; rel="next"')
    links.append(f'<{url(last)}>; rel="last"')
    return ", ".join(links).encode("utf-8")
