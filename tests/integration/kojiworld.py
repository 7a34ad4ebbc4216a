"""kojisim served over HTTP on 127.0.0.1 for integration tests, seeded with
the base module's tag, and a Koji client to look at what ridad made."""

from __future__ import annotations

import xmlrpc.client
from dataclasses import dataclass
from typing import Any

from treq.client import HTTPClient
from twisted.internet.defer import Deferred
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.server import Site

from ridad.koji.client import KojiClient, PasswordAuth
from ridad.kojisim.hub import KojiHub

USERS = {"ridad": "secret", "admin": "admin"}


@dataclass
class KojiWorld:
    """A running kojisim and an admin client of it."""

    hub: KojiHub
    url: str
    client: KojiClient
    port: Any
    pool: HTTPConnectionPool

    async def close(self) -> None:
        """Stop listening and drop the client's connections."""
        await self.pool.closeCachedConnections()
        await self.port.stopListening()


async def start_koji_world(reactor: Any, build_seconds: float = 0.1) -> KojiWorld:
    """Serve a fresh kojisim on a free port and create ``f40-build``."""
    hub = KojiHub(
        clock=reactor, reactor=reactor, users=USERS, build_seconds=build_seconds
    )
    port = reactor.listenTCP(0, Site(hub.resource()), interface="127.0.0.1")
    url = f"http://127.0.0.1:{port.getHost().port}/kojihub"
    pool = HTTPConnectionPool(reactor, persistent=False)
    client = KojiClient(
        http=HTTPClient(Agent(reactor, pool=pool)),
        hub_url=url,
        clock=reactor,
        auth=PasswordAuth(user="admin", password="admin"),
    )
    await client.call("createTag", "f40-build", arches="x86_64")
    return KojiWorld(hub=hub, url=url, client=client, port=port, pool=pool)


def xmlrpc_calls(body: bytes) -> list[tuple[str, list[Any]]]:
    """The ``(method, params)`` of each call in an XML-RPC request, the calls
    of a ``multiCall`` flattened; none when the body is no XML-RPC call."""
    try:
        params, method = xmlrpc.client.loads(body)
    except Exception:  # noqa: BLE001 - not a request we care about
        return []
    if method == "multiCall" and params:
        return [
            (str(call.get("methodName")), list(call.get("params", ())))
            for call in params[0]
            if isinstance(call, dict)
        ]
    return [(str(method), list(params))]


def counted_methods(body: bytes, content_type: str) -> list[str]:
    """The method names one request to the hub counts as (the calls of a
    ``multiCall`` each; a raw upload ``rawUpload``; an unreadable body one
    ``?``), for the Koji call measurements."""
    if content_type == "application/octet-stream":
        return ["rawUpload"]
    try:
        params, method = xmlrpc.client.loads(body)
    except Exception:  # noqa: BLE001 - counted as one unknown call
        return ["?"]
    if method == "multiCall" and params:
        return [str(c.get("methodName")) for c in params[0] if isinstance(c, dict)]
    return [str(method)]


def as_deferred(coroutine: Any) -> Deferred[Any]:
    """A Deferred for a coroutine (for fixtures)."""
    return Deferred.fromCoroutine(coroutine)
