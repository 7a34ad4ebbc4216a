"""Read the real hub's recorded exchanges (``tests/data/koji-recordings``).

Its README.md describes the format parsed here.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import koji
from koji import xmlrpcplus

from tests.data import KOJI_RECORDINGS


def recordings_dir() -> Path:
    """The recorded exchanges kept in the repository's test data."""
    return KOJI_RECORDINGS


@dataclass(frozen=True)
class Exchange:
    """One recorded HTTP exchange with the real hub."""

    number: int
    method: str
    result: str
    target: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes
    status: int
    response_body: bytes

    def request_header(self, name: str) -> str | None:
        """A request header's value (case-insensitive), if it was sent."""
        for key, value in self.request_headers:
            if key.lower() == name.lower():
                return value
        return None

    def call(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """The method, args and kwargs the client called (``koji.decode_args``)."""
        params, method = xmlrpcplus.loads(self.request_body)
        args, kwargs = koji.decode_args(*params)
        return method, tuple(args), kwargs


def response_value(exchange: Exchange) -> Any:
    """The recorded answer: its value, or the ``xmlrpc.client.Fault``."""
    try:
        params, _ = xmlrpcplus.loads(exchange.response_body)
    except xmlrpcplus.Fault as fault:
        return fault
    return params[0]


def load(number: int) -> Exchange:
    """Parse the exchange file numbered ``number``."""
    (path,) = recordings_dir().glob(f"{number:03d}-*.xml")
    data = path.read_bytes()
    head, rest = data.split(b"--- request ---\n", 1)
    fields: dict[str, str] = {}
    headers: list[tuple[str, str]] = []
    for line in head.decode().splitlines():
        key, _, value = line.partition(": ")
        if key == "request-header":
            name, _, header_value = value.partition(": ")
            headers.append((name, header_value))
        else:
            fields.setdefault(key, value)
    request_size = int(fields["request-body-bytes"])
    request_body, rest = rest[:request_size], rest[request_size:]
    assert rest.startswith(b"\n--- response ---\n"), path
    rest = rest[len(b"\n--- response ---\n") :]
    response_body = rest[: int(fields["response-body-bytes"])]
    if fields.get("request-body", "").startswith("base64 of"):
        request_body = base64.b64decode(request_body)
    return Exchange(
        number=number,
        method=fields["method"],
        result=fields["result"],
        target=fields["http-request"].split(" ", 1)[1],
        request_headers=tuple(headers),
        request_body=request_body,
        status=int(fields["http-status"].split()[0]),
        response_body=response_body,
    )
