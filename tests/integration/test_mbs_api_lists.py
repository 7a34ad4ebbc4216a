"""The MBS-compatible API's module build lists under /module-build-service/:
paging as fedpkg's overview does, meta links, filters, ordering and bad
queries, against a real daemon and builds seeded straight into PostgreSQL.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import pytest_twisted
import treq

from tests.integration.mbs_client import MBS, REQUESTS_HEADERS, assert_error, get_json
from tests.integration.support import RunningDaemon, json_of

SEED = (
    "INSERT INTO module_builds (name, stream, version, context, state, owner,"
    " scmurl, scm_commit, modulemd, build_context, runtime_context, koji_tag,"
    " time_submitted, time_modified, time_completed)"
    " SELECT 'mod' || (i %% 3), 's' || (i %% 2), 4020260000000000 + i,"
    " 'c0ffee0' || (i %% 4), (%s::text[])[1 + i %% cardinality(%s::text[])],"
    " CASE WHEN i %% 5 = 0 THEN 'alice' ELSE 'bob' END,"
    " 'git://h/modules/mod' || (i %% 3) || '.git?#main', repeat('0', 40),"
    " 'x', 'b', 'r', CASE WHEN i %% 2 = 0 THEN 'module-tag-' || i END,"
    " TIMESTAMPTZ '2026-11-01T00:00:00Z' + i * INTERVAL '1 hour',"
    " TIMESTAMPTZ '2026-11-01T00:30:00Z' + i * INTERVAL '1 hour',"
    " CASE WHEN i %% 3 = 0"
    " THEN TIMESTAMPTZ '2026-11-01T02:00:00Z' + i * INTERVAL '1 hour' END"
    " FROM generate_series(1, %s) AS i"
)
ALL_STATES = ["init", "wait", "build", "done", "failed", "ready"]


async def seed(pool, count: int, states: list[str] = ALL_STATES) -> None:
    """Insert ``count`` varied module builds directly into the database."""
    await pool.run_operation(SEED, (states, states, count))


async def ids_where(pool, where: str, params: tuple = ()) -> list[int]:
    """Ids of the builds matching ``where``, newest first."""
    rows = await pool.run_query(
        f"SELECT id FROM module_builds WHERE {where} ORDER BY id DESC", params
    )
    return [r["id"] for r in rows]


@pytest_twisted.ensureDeferred
async def test_fedpkg_overview_pages_by_following_meta_next(
    daemon: RunningDaemon, pool
) -> None:
    """fedpkg's overview query pages through meta.next until it is null, missing nothing."""
    await seed(pool, 230, ["build", "ready"])
    for owner, where in ((None, "TRUE"), ("alice", "owner = 'alice'")):
        query = "state=2&order_desc_by=id&verbose=True&per_page=100&page=1"
        url = f"{MBS}/2/module-builds/?{query}" + (f"&owner={owner}" if owner else "")
        seen: list[int] = []
        pages = 0
        while url:
            body = await get_json(daemon, url)
            pages += 1
            seen.extend(item["id"] for item in body["items"])
            assert all(item["state"] == 2 for item in body["items"])
            assert all("modulemd" in item for item in body["items"])
            meta = body["meta"]
            assert meta["per_page"] == 100 and meta["page"] == pages
            url = meta["next"]
            if url:
                assert url.startswith(f"{MBS}/2/module-builds/?")
                args = parse_qs(urlsplit(url).query)
                assert args["state"] == ["2"]
                assert args["order_desc_by"] == ["id"]
                assert args["verbose"] == ["True"]
                assert args["page"] == [str(pages + 1)]
                assert args.get("owner") == ([owner] if owner else None)
        assert seen == await ids_where(pool, f"state = 'build' AND {where}")
        assert pages == meta["pages"] == -(-len(seen) // 100)
        assert meta["total"] == len(seen)


@pytest_twisted.ensureDeferred
async def test_meta_gives_relative_links_that_keep_the_query(
    daemon: RunningDaemon, pool
) -> None:
    """meta has page, pages, per_page, total and first/prev/next/last links:
    paths with the query (api.public_url is not set), whatever Host says."""
    await seed(pool, 25)
    response = await treq.get(
        daemon.url(f"{MBS}/1/module-builds/?owner=bob&per_page=5&page=2"),
        headers={**REQUESTS_HEADERS, "Host": "evil.example.org"},
    )
    body = await json_of(response)
    meta = body["meta"]
    total = len(await ids_where(pool, "owner = 'bob'"))
    assert (meta["page"], meta["per_page"], meta["total"]) == (2, 5, total)
    assert meta["pages"] == -(-total // 5)
    assert "evil" not in json.dumps(meta)
    base = f"{MBS}/1/module-builds/?owner=bob&page="
    assert meta["first"] == base + "1&per_page=5"
    assert meta["prev"] == base + "1&per_page=5"
    assert meta["next"] == base + "3&per_page=5"
    assert meta["last"] == base + f"{meta['pages']}&per_page=5"
    assert [i["id"] for i in body["items"]] == (await ids_where(pool, "owner = 'bob'"))[
        5:10
    ]
    assert "modulemd" not in body["items"][0]
    assert set(body["items"][0]) >= {"component_builds", "tasks", "owner"}


@pytest_twisted.ensureDeferred
async def test_empty_list_has_no_next_or_prev(daemon: RunningDaemon) -> None:
    """With no builds the list is empty, total 0, and next and prev are null."""
    body = await get_json(daemon, f"{MBS}/2/module-builds")
    assert body["items"] == []
    meta = body["meta"]
    assert (meta["total"], meta["pages"], meta["page"], meta["per_page"]) == (
        0,
        0,
        1,
        10,
    )
    assert meta["next"] is None and meta["prev"] is None
    assert meta["first"].endswith("?page=1&per_page=10")


#: The version of seeded build 7, which the version and nsvc filters pick.
SEEDED_VERSION = 4020260000000007
#: Each filter's query arguments, and the condition on module_builds that
#: selects the same builds.
FILTERS = [
    ({"name": "mod1"}, "name = 'mod1'"),
    ({"stream": "s0"}, "stream = 's0'"),
    ({"version": str(SEEDED_VERSION)}, f"version = {SEEDED_VERSION}"),
    ({"context": "c0ffee02"}, "context = 'c0ffee02'"),
    ({"owner": "alice"}, "owner = 'alice'"),
    ({"koji_tag": "module-tag-8"}, "koji_tag = 'module-tag-8'"),
    (
        {"scmurl": "git://h/modules/mod2.git?#main"},
        "scmurl = 'git://h/modules/mod2.git?#main'",
    ),
    ({"state": "ready"}, "state = 'ready'"),
    ({"state": "5"}, "state = 'ready'"),
    ({"state": ["failed", "2"]}, "state IN ('failed', 'build')"),
    ({"nsvc": "mod1"}, "name = 'mod1'"),
    ({"nsvc": "mod1:s1"}, "name = 'mod1' AND stream = 's1'"),
    (
        {"nsvc": f"mod1:s1:{SEEDED_VERSION}"},
        f"name = 'mod1' AND stream = 's1' AND version = {SEEDED_VERSION}",
    ),
    (
        {"nsvc": f"mod1:s1:{SEEDED_VERSION}:c0ffee03"},
        f"version = {SEEDED_VERSION}",
    ),
    ({"nsvc": f"mod1:s1:{SEEDED_VERSION}:c0ffee00"}, "FALSE"),
    (
        {"submitted_after": "2026-11-02T00:00:00Z"},
        "time_submitted >= '2026-11-02T00:00:00Z'",
    ),
    (
        {"submitted_before": "2026-11-02T01:00:00+01:00"},
        "time_submitted <= '2026-11-02T00:00:00Z'",
    ),
    ({"modified_after": "2026-11-02"}, "time_modified >= '2026-11-02T00:00:00Z'"),
    (
        {"modified_before": "2026-11-02T06:30:00"},
        "time_modified <= '2026-11-02T06:30:00Z'",
    ),
    (
        {"completed_after": "2026-11-02T12:00:00.000Z"},
        "time_completed >= '2026-11-02T12:00:00Z'",
    ),
    (
        {"completed_before": "2026-11-02T12:00:00-0100"},
        "time_completed <= '2026-11-02T13:00:00Z'",
    ),
    (
        {"name": "mod0", "state": ["init", "ready"], "owner": "bob"},
        "name = 'mod0' AND state IN ('init', 'ready') AND owner = 'bob'",
    ),
]


@pytest_twisted.ensureDeferred
async def test_each_filter_selects_what_the_database_says(
    daemon: RunningDaemon, pool
) -> None:
    """Column, state, nsvc and time filters select exactly the matching builds."""
    await seed(pool, 60)
    for args, where in FILTERS:
        query = urlencode({**args, "per_page": "100"}, doseq=True)
        body = await get_json(daemon, f"{MBS}/2/module-builds/?{query}")
        expected = await ids_where(pool, where)
        assert [i["id"] for i in body["items"]] == expected, args
        assert body["meta"]["total"] == len(expected), args
        assert expected or where == "FALSE", args


@pytest_twisted.ensureDeferred
async def test_order_by_and_order_desc_by_take_columns(
    daemon: RunningDaemon, pool
) -> None:
    """order_by and order_desc_by (repeatable) order by columns, id last; states by number."""
    await seed(pool, 40)
    cases = [
        ("order_by=name&order_by=id", "name ASC, id ASC"),
        ("order_desc_by=version", "version DESC"),
        ("order_by=name&order_by=stream", "name ASC, stream ASC, id DESC"),
        ("order_desc_by=time_completed", "time_completed DESC, id DESC"),
        ("order_by=koji_tag", "koji_tag ASC, id DESC"),
    ]
    for query, order in cases:
        body = await get_json(daemon, f"{MBS}/2/module-builds/?{query}&per_page=100")
        rows = await pool.run_query(f"SELECT id FROM module_builds ORDER BY {order}")
        assert [i["id"] for i in body["items"]] == [r["id"] for r in rows], query
    body = await get_json(daemon, f"{MBS}/2/module-builds/?order_by=state&per_page=100")
    keys = [(i["state"], -i["id"]) for i in body["items"]]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    ("query", "mentioned"),
    [
        ("page=0", "page"),
        ("page=x", "page"),
        ("per_page=101", "per_page"),
        ("per_page=0", "per_page"),
        ("state=sleeping", "state"),
        ("state=9", "state"),
        ("version=abc", "version"),
        ("nsvc=a:b:1:c:e", "nsvc"),
        ("nsvc=a::1", "nsvc"),
        ("nsvc=a:b:x", "nsvc"),
        ("submitted_after=yesterday", "submitted_after"),
        ("modified_before=2026-13-01", "modified_before"),
        ("completed_before=2026-11-27T10:00", "completed_before"),
        ("colour=red", "colour"),
        ("id=3", "id"),
        ("order_by=modulemd", "order_by"),
        ("order_by=name&order_desc_by=id", "order_by"),
        ("verbose=maybe", "verbose"),
        ("name=a&name=b", "name"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_bad_list_queries_are_400_json(
    daemon: RunningDaemon, query: str, mentioned: str
) -> None:
    """Unknown filters and bad values are 400s whose message names the parameter."""
    body = await get_json(daemon, f"{MBS}/2/module-builds/?{query}", status=400)
    assert_error(body, 400)
    assert body["error"] == "Bad Request"
    assert mentioned in body["message"]


@pytest_twisted.ensureDeferred
async def test_repeated_flags_and_short_lists(daemon: RunningDaemon, pool) -> None:
    """verbose/short may repeat; short items hold only the identity; a page past the end is empty."""
    await seed(pool, 12)
    body = await get_json(
        daemon, f"{MBS}/2/module-builds/?short=true&short=True&per_page=5"
    )
    assert set(body["items"][0]) == {
        "id",
        "name",
        "stream",
        "version",
        "context",
        "state",
        "state_name",
        "scratch",
    }
    verbose = await get_json(
        daemon, f"{MBS}/2/module-builds/?verbose=1&verbose=true&per_page=5"
    )
    assert verbose["items"][0]["state_trace"] == []
    assert verbose["items"][0]["modulemd"] == "x"
    past = await get_json(daemon, f"{MBS}/2/module-builds/?page=9&per_page=5")
    assert past["items"] == [] and past["meta"]["next"] is None
    assert past["meta"]["prev"].endswith("page=8&per_page=5")
