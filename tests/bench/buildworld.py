"""What the module build benchmark runs on: git repositories behind a real
``git daemon``, kojisim over HTTP on loopback, the real ridad service tree,
and meters that count from outside ridad (SQL statements of the daemon's
pool, requests kojisim answered and the time it spent answering them).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from treq.client import HTTPClient
from twisted.web.client import Agent, HTTPConnectionPool
from twisted.web.server import Site

from ridad.db.pool import Pool
from ridad.koji.client import KojiClient, PasswordAuth
from ridad.kojisim.hub import KojiHub
from tests.gitrepos import GitServer
from tests.integration.kojiworld import USERS
from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    daemon_config,
    koji_config,
    modulemd_text,
    start_daemon,
)

_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", re.IGNORECASE)
_METHOD = re.compile(rb"<methodName>(\w+)</methodName>")
_INNER_METHOD = re.compile(rb"<name>methodName</name>\s*<value><string>(\w+)</string>")


def statement_kind(sql: str) -> str:
    """A short label of a statement: verb, table and lock clause."""
    words = sql.split(None, 1)
    verb = words[0].upper() if words else "?"
    table = _TABLE.search(sql)
    label = f"{verb} {table.group(1)}" if table and verb != "BEGIN" else verb
    for clause in ("FOR UPDATE", "FOR SHARE"):
        if clause in sql:
            label += f" {clause}"
    return label


def request_kind(body: bytes, content_type: str) -> str:
    """A short label of a hub request: its method, or a multiCall's methods."""
    if content_type == "application/octet-stream":
        return "rawUpload"
    found = _METHOD.search(body)
    method = found.group(1).decode() if found else "?"
    if method != "multiCall":
        return method
    inner = sorted({m.decode() for m in _INNER_METHOD.findall(body)})
    return f"multiCall[{','.join(inner)}]"


@dataclass
class SqlMeter:
    """Counts the statements and transactions a ridad ``Pool`` runs.

    It wraps the pool instance's one entry point (``_use``) so that every
    interaction receives a counting cursor; nothing in ridad changes.
    """

    statements: int = 0
    uses: int = 0
    kinds: Counter[str] = field(default_factory=Counter)

    def install(self, pool: Pool) -> None:
        """Count every statement ``pool`` runs from now on."""
        use = pool._use
        meter = self

        async def counted_use(
            fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
        ) -> Any:
            meter.uses += 1

            async def with_counting_cursor(
                cursor: Any, *rest: Any, **named: Any
            ) -> Any:
                return await fn(_CountingCursor(cursor, meter), *rest, **named)

            return await use(with_counting_cursor, *args, **kwargs)

        pool._use = counted_use  # type: ignore[method-assign]

    def snapshot(self) -> tuple[int, int, Counter[str]]:
        """Statements, pool uses (transactions) and kinds so far."""
        return self.statements, self.uses, Counter(self.kinds)


class _CountingCursor:
    """A ridad ``Cursor`` that counts what it executes."""

    def __init__(self, cursor: Any, meter: SqlMeter) -> None:
        self._cursor = cursor
        self._meter = meter

    async def execute(self, sql: str, params: Any = None) -> None:
        self._meter.statements += 1
        self._meter.kinds[statement_kind(sql)] += 1
        await self._cursor.execute(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


@dataclass
class HubMeter:
    """Counts the requests kojisim answers and the time it spends on them."""

    requests: int = 0
    seconds: float = 0.0
    kinds: Counter[str] = field(default_factory=Counter)

    def install(self, hub: KojiHub) -> None:
        """Measure every request ``hub`` answers from now on."""
        answer = hub.answer
        meter = self

        def measured(method: bytes, body: bytes, info: Any, content_type: str) -> Any:
            started = time.perf_counter()
            try:
                return answer(method, body, info, content_type)
            finally:
                meter.seconds += time.perf_counter() - started
                meter.requests += 1
                meter.kinds[request_kind(body, content_type)] += 1

        hub.answer = measured  # type: ignore[method-assign]


@dataclass
class KojiSim:
    """kojisim served on a free port of 127.0.0.1, and an admin client."""

    hub: KojiHub
    url: str
    admin: KojiClient
    port: Any
    pool: HTTPConnectionPool

    async def close(self) -> None:
        """Stop the builder, stop listening and drop the client's connections."""
        self.hub.stop()
        await self.pool.closeCachedConnections()
        await self.port.stopListening()


async def start_kojisim(
    reactor: Any, *, capacity: int, upload_dir: Path, sink: Any = None
) -> KojiSim:
    """kojisim with instant builds and ``capacity`` build slots, and
    ``f40-build``; its bus messages go to ``sink`` (if given)."""
    upload_dir.mkdir(parents=True, exist_ok=True)
    hub = KojiHub(
        clock=reactor,
        reactor=reactor,
        users=USERS,
        build_seconds=0,
        builder_capacity=capacity,
        upload_dir=str(upload_dir),
        event_sink=sink,
    )
    port = reactor.listenTCP(0, Site(hub.resource()), interface="127.0.0.1")
    url = f"http://127.0.0.1:{port.getHost().port}/kojihub"
    pool = HTTPConnectionPool(reactor, persistent=False)
    admin = KojiClient(
        http=HTTPClient(Agent(reactor, pool=pool)),
        hub_url=url,
        clock=reactor,
        auth=PasswordAuth(user="admin", password="admin"),
    )
    await admin.call("createTag", "f40-build", arches="x86_64")
    return KojiSim(hub=hub, url=url, admin=admin, port=port, pool=pool)


def component_names(count: int) -> list[str]:
    """The component (and package) names of every benchmark module."""
    return [f"pkg{index:03d}" for index in range(count)]


def commit_modules(
    server: GitServer, *, modules: int, components: int, batches: int
) -> GitWorld:
    """Commit ``components`` rpm repositories, and ``modules`` modules that
    each build all of them in ``batches`` batches."""
    world = GitWorld(server=server, prefix="bench", root=server.base / "bench")
    names = component_names(components)
    for name in names:
        world.commits[name] = world.rpm(name)
    rpms = {
        name: {"rationale": "benchmark", "buildorder": index * batches // components}
        for index, name in enumerate(names)
    }
    text = modulemd_text(rpms)
    for index in range(modules):
        world.module(f"bench{index:03d}", text)
    return world


async def start_ridad(
    dsn: str,
    world: GitWorld,
    koji_url: str,
    state_dir: Path,
    *,
    poll_interval: float = 0.1,
) -> RunningDaemon:
    """The real service tree (makeService) with limits that do not dominate."""
    config = daemon_config(
        dsn,
        world,
        state_dir / "state",
        koji=koji_config(
            koji_url,
            poll_interval_seconds=poll_interval,
            max_concurrent_builds=1000,
            max_concurrent_builds_per_module=100,
        ),
    )
    return await start_daemon(config, state_dir / "ridad.yaml")
