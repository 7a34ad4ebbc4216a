"""Reading the recorded Koji hub exchanges (format: koji-recordings/README.md)
and the XML-RPC documents in them, keeping every value's wire type."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REQUEST_MARK = b"--- request ---\n"
RESPONSE_MARK = b"\n--- response ---\n"
END_MARK = b"\n--- end ---\n"


@dataclass(frozen=True)
class Exchange:
    """One recorded HTTP exchange."""

    name: str
    number: int
    method: str
    http_method: str
    target: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes
    status: int
    response_headers: tuple[tuple[str, str], ...]
    response_body: bytes

    def response_header(self, name: str) -> str | None:
        """A recorded response header, by case-insensitive name."""
        return next(
            (v for k, v in self.response_headers if k.lower() == name.lower()), None
        )


def read_exchange(path: Path) -> Exchange:
    """Parse one recording file."""
    data = path.read_bytes()
    head, rest = data.split(REQUEST_MARK, 1)
    fields: dict[str, list[str]] = {}
    for line in head.decode("utf-8").splitlines():
        key, _, value = line.partition(": ")
        fields.setdefault(key, []).append(value)
    request_size = int(fields["request-body-bytes"][0])
    request_text, rest = rest[:request_size], rest[request_size:]
    assert rest.startswith(RESPONSE_MARK), path
    rest = rest[len(RESPONSE_MARK) :]
    response_size = int(fields["response-body-bytes"][0])
    response_body, rest = rest[:response_size], rest[response_size:]
    assert rest == END_MARK, path
    http_method, target = fields["http-request"][0].split(" ", 1)
    binary = "request-body" in fields
    return Exchange(
        name=path.name,
        number=int(fields["exchange"][0]),
        method=fields["method"][0],
        http_method=http_method,
        target=target,
        request_headers=tuple(_pairs(fields.get("request-header", []))),
        request_body=base64.b64decode(request_text) if binary else request_text,
        status=int(fields["http-status"][0].split()[0]),
        response_headers=tuple(_pairs(fields.get("response-header", []))),
        response_body=response_body,
    )


def _pairs(lines: list[str]) -> list[tuple[str, str]]:
    """``Name: value`` lines as pairs."""
    return [tuple(line.split(": ", 1)) for line in lines]  # type: ignore[misc]


def read_all(directory: Path) -> list[Exchange]:
    """Every recording in a directory, in wire order."""
    return [read_exchange(p) for p in sorted(directory.glob("[0-9][0-9][0-9]-*.xml"))]


@dataclass(frozen=True)
class Typed:
    """An XML-RPC value with its wire type (``int``, ``i8``, ``nil``, ...)."""

    type: str
    value: Any


def parse_document(document: bytes) -> tuple[str, Typed]:
    """A ``<methodResponse>``: ``("params", value)`` or ``("fault", struct)``."""
    root = ElementTree.fromstring(document)
    assert root.tag == "methodResponse", root.tag
    fault = root.find("fault")
    if fault is not None:
        return "fault", _value(fault.find("value"))
    param = root.find("params/param/value")
    return "params", _value(param)


def _value(element: Any) -> Typed:
    """The typed value of a ``<value>`` element."""
    children = list(element)
    if not children:
        return Typed("string", element.text or "")
    child = children[0]
    kind = "int" if child.tag == "i4" else child.tag
    if kind == "array":
        return Typed("array", [_value(v) for v in child.findall("data/value")])
    if kind == "struct":
        members = {
            m.findtext("name"): _value(m.find("value")) for m in child.findall("member")
        }
        return Typed("struct", members)
    converters = {
        "nil": lambda text: None,
        "int": int,
        "i8": int,
        "double": float,
        "boolean": lambda text: text.strip() == "1",
        "string": lambda text: text or "",
    }
    return Typed(kind, converters.get(kind, lambda text: text)(child.text))


def plain(value: Typed) -> Any:
    """A typed value as plain Python data."""
    if value.type == "array":
        return [plain(v) for v in value.value]
    if value.type == "struct":
        return {k: plain(v) for k, v in value.value.items()}
    return value.value
