"""Benchmark: the status page of a build with 200 components.

In process, the page's model and template (``build_page`` and Jinja2) over
data made in memory (``tests/unit/web/pagedata.py``: 200 built components
in 10 batches, 405 trace rows, the final modulemd); then, against real
PostgreSQL with the same build stored, the store's read and ``GET
/builds/N`` over loopback HTTP (the status page's Klein app on a real pool).
Medians of repeated runs; nothing is asserted.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Mapping
from datetime import timedelta
from enum import Enum
from typing import Any

import psycopg2
import psycopg2.extras

from ridad.db.builds import ModuleBuildStore
from ridad.db.pool import Pool
from ridad.db.status_page import BuildPageData, StatusPageStore
from ridad.web.model import KojiLinks, build_page
from ridad.web.render import Renderer
from tests.bench.on_reactor import run_on_reactor
from tests.unit.web.pagedata import T0, many_components

COMPONENTS = 200
RUNS = 50
WEBURL = "https://koji.example.org/koji"


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def render_in_process(data: BuildPageData, runs: int = RUNS) -> dict[str, Any]:
    """Median milliseconds of the model, and of the model and template."""
    renderer = Renderer()
    now = T0 + timedelta(seconds=900)
    model, whole, size = [], [], 0
    for _ in range(runs):
        started = time.perf_counter()
        page = build_page(data, links=KojiLinks(WEBURL), now=now)
        model.append(time.perf_counter() - started)
        html = renderer.page(
            "build.html",
            page=page,
            b=page.build,
            events_url="/e",
            version="b",
            base_url="",
        )
        whole.append(time.perf_counter() - started)
        size = len(html)
    return {
        "model_ms": _median_ms(model),
        "render_ms": _median_ms(whole),
        "html_bytes": size,
    }


def _value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.label
    if isinstance(value, Mapping):
        return psycopg2.extras.Json(dict(value))
    if isinstance(value, tuple):
        return list(value)
    return value


def _insert(cursor: Any, table: str, row: Any, skip: tuple[str, ...] = ("id",)) -> int:
    names = [f.name for f in dataclasses.fields(row) if f.name not in skip]
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES"
        f" ({', '.join(['%s'] * len(names))}) RETURNING id",
        [_value(getattr(row, n)) for n in names],
    )
    return int(cursor.fetchone()[0])


def store(dsn: str, data: BuildPageData) -> int:
    """Write the build, its components, trace and modulemd.txt; its id."""
    connection = psycopg2.connect(dsn)
    with connection, connection.cursor() as cursor:
        build_id = _insert(cursor, "module_builds", data.build, ("id", "cg_token"))
        ids = {}
        for c in data.components:
            ids[c.id] = _insert(
                cursor,
                "component_builds",
                dataclasses.replace(c, module_build_id=build_id),
            )
        for t in data.trace:
            component = ids.get(t.component_build_id) if t.component_build_id else None
            _insert(
                cursor,
                "state_trace",
                dataclasses.replace(
                    t, module_build_id=build_id, component_build_id=component
                ),
            )
        cursor.execute(
            "INSERT INTO final_modulemds (module_build_id, filename, content)"
            " VALUES (%s, 'modulemd.txt', %s)",
            (build_id, data.final_modulemd),
        )  # fmt: skip
    connection.close()
    return build_id


async def over_http(
    reactor: Any, dsn: str, build_id: int, runs: int = RUNS
) -> dict[str, Any]:
    """Median milliseconds of the store's read and of ``GET /builds/N``."""
    import treq
    from twisted.web.client import Agent, HTTPConnectionPool
    from twisted.web.server import Site

    from ridad.web.app import StatusPages

    pool = Pool(dsn=dsn, reactor=reactor, size=2)
    await pool.start()
    pages_store = StatusPageStore(pool=pool)
    pages = StatusPages(
        builds=ModuleBuildStore(pool=pool),
        pages=pages_store,
        clock=reactor,
        weburl=lambda: WEBURL,
    )
    port = reactor.listenTCP(0, Site(pages.app.resource()), interface="127.0.0.1")
    http = treq.client.HTTPClient(Agent(reactor, pool=HTTPConnectionPool(reactor)))
    url = f"http://127.0.0.1:{port.getHost().port}/builds/{build_id}"
    reads, gets, size = [], [], 0
    try:
        for _ in range(runs):
            started = time.perf_counter()
            await pages_store.build_page(build_id)
            reads.append(time.perf_counter() - started)
            started = time.perf_counter()
            response = await http.get(url)
            body = await response.content()
            gets.append(time.perf_counter() - started)
            assert response.code == 200, body[:200]
            size = len(body)
    finally:
        await port.stopListening()
        await pool.close()
    return {
        "store_read_ms": _median_ms(reads),
        "http_get_ms": _median_ms(gets),
        "http_bytes": size,
    }


def main(dsn: str) -> None:
    """Print the figures."""
    data = many_components(COMPONENTS)
    figures = render_in_process(data)
    print(
        f"status page of a build with {COMPONENTS} components"
        f" ({len(data.trace)} trace rows), median of {RUNS} runs:\n"
        f"  model {figures['model_ms']} ms; model and template {figures['render_ms']} ms"
        f" ({figures['html_bytes']} bytes of HTML)"
    )
    build_id = store(dsn, data)
    served = run_on_reactor(lambda reactor: over_http(reactor, dsn, build_id))
    print(
        f"  PostgreSQL read (one transaction) {served['store_read_ms']} ms;"
        f" GET /builds/N over loopback {served['http_get_ms']} ms"
        f" ({served['http_bytes']} bytes)"
    )
