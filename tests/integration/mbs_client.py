"""Requests to the MBS-compatible API under /module-build-service/ as fedpkg
sends them (python-requests' headers, OIDC or Kerberos bodies), and the shape
of its error documents, for the test_mbs_api_* modules."""

from __future__ import annotations

import json
from typing import Any

import treq

from tests.integration.support import GitWorld, RunningDaemon, json_of, modulemd_text

MBS = "/module-build-service"
# What python-requests sends on every fedpkg request.
REQUESTS_HEADERS = {
    b"User-Agent": [b"fedpkg/1.47 python-requests/2.31.0"],
    b"Accept": [b"*/*"],
    b"Connection": [b"keep-alive"],
}
# fedpkg's OIDC path sends json=...; its Kerberos path data=json.dumps(...),
# with no Content-Type at all.
OIDC_HEADERS = {**REQUESTS_HEADERS, b"Content-Type": [b"application/json"]}
KERBEROS_HEADERS = REQUESTS_HEADERS
ERROR_KEYS = {"status", "error", "message"}


async def get(daemon: RunningDaemon, path: str) -> Any:
    """GET as fedpkg does; return the response."""
    url = path if path.startswith("http") else daemon.url(path)
    return await treq.get(url, headers=REQUESTS_HEADERS)


async def get_json(daemon: RunningDaemon, path: str, status: int = 200) -> Any:
    """GET as fedpkg does, check the status, return the JSON body."""
    response = await get(daemon, path)
    body = await json_of(response)
    assert response.code == status, body
    return body


async def send(
    daemon: RunningDaemon, method: str, path: str, body: Any, headers: dict
) -> Any:
    """Send a JSON body as fedpkg does (``headers`` pick OIDC or Kerberos)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await treq.request(method, daemon.url(path), data=data, headers=headers)


async def submit(
    daemon: RunningDaemon, git_world: GitWorld, version: int = 2, **fields: Any
) -> dict:
    """Submit the demo module as fedpkg does; return the (first) build."""
    if not fields:
        git_world.module("demo", modulemd_text())
        fields = {"scmurl": git_world.scmurl("demo"), "branch": "main"}
    response = await send(
        daemon, "POST", f"{MBS}/{version}/module-builds/", fields, OIDC_HEADERS
    )
    body = await json_of(response)
    assert response.code == 201, body
    return body if version == 1 else body[0]


def assert_error(body: dict, status: int) -> None:
    """The body is an MBS error document with this status."""
    assert set(body) >= ERROR_KEYS, body
    assert body["status"] == status
    assert body["message"]
