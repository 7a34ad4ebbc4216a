"""GET /rida/module-builds/: pages, filters, Link and X-Total-Count."""

from __future__ import annotations

import pytest
import pytest_twisted
import treq

from tests.integration.support import RunningDaemon, json_of

INSERT = (
    "INSERT INTO module_builds (name, stream, version, context, state, owner,"
    " scmurl, scm_commit, modulemd, build_context, runtime_context,"
    " time_submitted, time_modified) SELECT 'mod' || (i %% 3), 's' || (i %% 2), i,"
    " 'c0ffee00', (ARRAY['init','wait','build','done','failed','ready'])[1 + i %% 6],"
    " CASE WHEN i %% 5 = 0 THEN 'alice' ELSE 'anonymous' END,"
    " 'git://h/m.git?#main', repeat('0', 40), 'x', 'b', 'r', now(), now()"
    " FROM generate_series(1, %s) AS i"
)


async def seed(pool, count: int) -> None:
    await pool.run_operation(INSERT, (count,))


@pytest_twisted.ensureDeferred
async def test_list_is_newest_first_with_total_and_links(
    daemon: RunningDaemon, pool
) -> None:
    """Builds come newest first, with X-Total-Count and RFC 8288 links."""
    await seed(pool, 25)
    response = await treq.get(daemon.url("/rida/module-builds/?per_page=10&page=2"))
    body = await json_of(response)
    assert response.code == 200
    assert [b["id"] for b in body] == list(range(15, 5, -1))
    assert set(body[0]) >= {"id", "state"}
    assert response.headers.getRawHeaders(b"x-total-count") == [b"25"]
    link = response.headers.getRawHeaders(b"link")[0].decode()
    assert 'page=1&per_page=10>; rel="first"' in link
    assert 'page=1&per_page=10>; rel="prev"' in link
    assert 'page=3&per_page=10>; rel="next"' in link
    assert 'page=3&per_page=10>; rel="last"' in link


@pytest_twisted.ensureDeferred
async def test_list_filters_combine(daemon: RunningDaemon, pool) -> None:
    """state (repeatable), name, stream and owner filter the list."""
    await seed(pool, 60)
    url = "/rida/module-builds/?state=done&state=ready&name=mod0&owner=alice"
    body = await json_of(await treq.get(daemon.url(url)))
    rows = await pool.run_query(
        "SELECT id FROM module_builds WHERE state IN ('done', 'ready')"
        " AND name = 'mod0' AND owner = 'alice' ORDER BY id DESC"
    )
    assert [b["id"] for b in body] == [r["id"] for r in rows]
    assert body and all(b["state"] in ("done", "ready") for b in body)


@pytest_twisted.ensureDeferred
async def test_page_past_the_end_is_empty(daemon: RunningDaemon, pool) -> None:
    """A page past the end is an empty list, not an error."""
    await seed(pool, 3)
    response = await treq.get(daemon.url("/rida/module-builds/?page=7"))
    assert response.code == 200
    assert await json_of(response) == []


@pytest.mark.parametrize(
    "query",
    [
        "per_page=1001",
        "per_page=0",
        "page=-1",
        "page=x",
        "colour=red",
        "state=sleeping",
        "name=a&name=b",
    ],
)
@pytest_twisted.ensureDeferred
async def test_bad_list_queries_are_400(daemon: RunningDaemon, query: str) -> None:
    """Unknown parameters and bad values are 400 with a JSON body."""
    response = await treq.get(daemon.url(f"/rida/module-builds/?{query}"))
    body = await json_of(response)
    assert response.code == 400, body


@pytest_twisted.ensureDeferred
async def test_health_reports_database_and_scheduler(daemon: RunningDaemon) -> None:
    """GET /health answers 200 with the database ok and the scheduler n/a."""
    response = await treq.get(daemon.url("/health"))
    body = await json_of(response)
    assert response.code == 200
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["scheduler"] == "n/a"
    assert body["version"]
