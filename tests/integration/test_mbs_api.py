"""The MBS-compatible API under /module-build-service/1/ and /2/: fedpkg's
requests replayed against a real daemon, real git and real PostgreSQL."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import pytest_twisted
import treq

from ridad import __version__
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
TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
ERROR_KEYS = {"status", "error", "message"}

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


@pytest.mark.parametrize("path", ["/1/about/", "/1/about", "/2/about/", "/2/about"])
@pytest_twisted.ensureDeferred
async def test_about_names_version_api_version_and_auth_method(
    daemon: RunningDaemon, path: str
) -> None:
    """GET about/ (fedpkg's first request) answers the version, 2 and the auth method."""
    body = await get_json(daemon, MBS + path)
    assert body == {"version": __version__, "api_version": 2, "auth_method": "none"}


@pytest_twisted.ensureDeferred
async def test_unknown_api_versions_and_paths_are_404_json(
    daemon: RunningDaemon,
) -> None:
    """Versions other than 1 and 2, and unknown paths, are 404 with a JSON body."""
    for path in (
        "/3/about/",
        "/0/module-builds/",
        "/99/module-builds/1",
        "/v2/about/",
        "/2/nothing/",
        "",
        "/",
    ):
        body = await get_json(daemon, MBS + path, status=404)
        assert_error(body, 404)
    body = await get_json(daemon, f"{MBS}/3/about/", status=404)
    assert "/module-build-service/2/" in body["message"]


@pytest_twisted.ensureDeferred
async def test_fedpkg_oidc_submission_to_v2_answers_a_list_of_builds(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """POST .../2/module-builds/ with Content-Type JSON answers 201 with [build]."""
    commit = git_world.module("demo", modulemd_text())
    fields = {"scmurl": git_world.scmurl("demo", commit), "branch": "main"}
    response = await send(
        daemon,
        "POST",
        f"{MBS}/2/module-builds/",
        {**fields, "scratch": False},
        OIDC_HEADERS,
    )
    body = await json_of(response)
    assert response.code == 201, body
    assert isinstance(body, list) and len(body) == 1
    build = body[0]
    assert (build["name"], build["stream"], build["state"], build["state_name"]) == (
        "demo",
        "main",
        0,
        "init",
    )
    assert build["scratch"] is False
    assert build["state_url"] == f"{MBS}/2/module-builds/{build['id']}"
    assert response.headers.getRawHeaders(b"location") == [build["state_url"].encode()]


@pytest_twisted.ensureDeferred
async def test_fedpkg_kerberos_submission_without_content_type_to_v1_answers_the_build(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """POST .../1/module-builds/ with no Content-Type answers 201 with the build itself."""
    git_world.module("demo", modulemd_text())
    fields = {"scmurl": git_world.scmurl("demo"), "branch": "main", "scratch": False}
    response = await send(
        daemon, "POST", f"{MBS}/1/module-builds/", fields, KERBEROS_HEADERS
    )
    body = await json_of(response)
    assert response.code == 201, body
    assert isinstance(body, dict)
    assert body["state_name"] == "init"
    assert body["owner"] == "<anonymous>"
    assert body["state_url"] == f"{MBS}/1/module-builds/{body['id']}"
    assert "modulemd" in body


@pytest_twisted.ensureDeferred
async def test_scratch_submission_is_403_until_scratch_builds_arrive(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """scratch: true is refused with 403 and nothing is recorded."""
    git_world.module("demo", modulemd_text())
    fields = {"scmurl": git_world.scmurl("demo"), "branch": "main", "scratch": True}
    response = await send(
        daemon, "POST", f"{MBS}/2/module-builds/", fields, OIDC_HEADERS
    )
    body = await json_of(response)
    assert response.code == 403
    assert_error(body, 403)
    assert "scratch builds are not enabled" in body["message"]
    listing = await get_json(daemon, f"{MBS}/2/module-builds/")
    assert listing["meta"]["total"] == 0


@pytest_twisted.ensureDeferred
async def test_commit_not_on_the_branch_is_400(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """A commit that is not on the given branch is a 400 naming both, and nothing is recorded."""
    git_world.module("demo", modulemd_text())
    elsewhere = git_world.module(
        "demo", modulemd_text(extra={"description": "Elsewhere."}), branch="feature"
    )
    fields = {"scmurl": git_world.scmurl("demo", elsewhere), "branch": "main"}
    response = await send(
        daemon, "POST", f"{MBS}/2/module-builds/", fields, OIDC_HEADERS
    )
    body = await json_of(response)
    assert response.code == 400, body
    assert_error(body, 400)
    assert elsewhere in body["message"]
    assert "not on branch main" in body["message"]
    listing = await get_json(daemon, f"{MBS}/2/module-builds/")
    assert listing["meta"]["total"] == 0


@pytest_twisted.ensureDeferred
async def test_older_commit_of_the_branch_is_accepted(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """A commit in the branch's history (not its tip) passes the branch check."""
    older = git_world.module("demo", modulemd_text())
    git_world.module("demo", modulemd_text(extra={"description": "Newer."}))
    build = await submit(
        daemon,
        git_world,
        scmurl=git_world.scmurl("demo", older),
        branch="main",
        scratch=False,
    )
    assert build["scmurl"].endswith(older)


@pytest.mark.parametrize(
    ("body", "mentioned"),
    [
        ({"branch": "main"}, "scmurl"),
        ({"scmurl": "git://h/modules/demo.git?#main"}, "branch"),
        (
            {"scmurl": "x", "branch": "main", "rebuild_strategy": "all"},
            "rebuild_strategy",
        ),
        ({"scmurl": "x", "branch": "main", "scratch": "yes"}, "scratch"),
        ({"scmurl": 1, "branch": "main"}, "scmurl"),
        (b"scmurl=x&branch=main", "JSON"),
        ([], "JSON object"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_bad_submissions_are_400_naming_the_problem(
    daemon: RunningDaemon, body: Any, mentioned: str
) -> None:
    """Missing, unknown or mistyped fields and non-JSON bodies are 400s that say which."""
    response = await send(daemon, "POST", f"{MBS}/2/module-builds/", body, OIDC_HEADERS)
    error = await json_of(response)
    assert response.code == 400, error
    assert_error(error, 400)
    assert mentioned in error["message"]


@pytest_twisted.ensureDeferred
async def test_fedpkg_watch_polls_the_verbose_build_until_it_fails(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """GET .../2/module-builds/N?verbose=true shows MBS's verbose build; polling stops at failed."""
    build_id = (await submit(daemon, git_world))["id"]
    path = f"{MBS}/2/module-builds/{build_id}?verbose=true"
    body = await get_json(daemon, path)
    assert body["state"] == 0 and body["state_name"] == "init"
    for key in ("time_submitted", "time_modified"):
        assert TIME.fullmatch(body[key])
    assert body["time_completed"] is None
    assert body["state_reason"] is None
    assert body["koji_tag"] is None
    assert body["version"].isdigit()
    assert len(body["component_builds"]) == 3
    assert body["component_builds"] == sorted(body["component_builds"])
    assert body["tasks"] == {
        "rpms": {
            name: {"task_id": None, "state": None, "state_reason": None, "nvr": None}
            for name in ("alpha", "beta", "gamma")
        }
    }
    assert "document: modulemd" in body["modulemd"]
    assert len(body["build_context"]) == 40 and len(body["runtime_context"]) == 40
    assert body["buildrequires"]["platform"]["stream"] == "f40"
    assert [(t["state"], t["state_name"]) for t in body["state_trace"]] == [(0, "init")]
    assert TIME.fullmatch(body["state_trace"][0]["time"])
    assert body["state_url"] == f"{MBS}/2/module-builds/{build_id}"
    cancel = await send(
        daemon,
        "PATCH",
        f"{MBS}/2/module-builds/{build_id}",
        {"state": "failed"},
        OIDC_HEADERS,
    )
    await cancel.content()
    polls = 0
    while body["state_name"] not in ("ready", "failed") and not (
        body["state_name"] == "done" and body["scratch"]
    ):
        polls += 1
        assert polls < 5
        body = await get_json(daemon, path)
    assert body["state"] == 4


@pytest_twisted.ensureDeferred
async def test_default_and_short_build_shapes(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """Without verbose a build has no modulemd or trace; short has only its identity."""
    build_id = (await submit(daemon, git_world))["id"]
    for version in (1, 2):
        default = await get_json(daemon, f"{MBS}/{version}/module-builds/{build_id}/")
        assert set(default) == {
            "id",
            "name",
            "stream",
            "version",
            "context",
            "state",
            "state_name",
            "state_reason",
            "owner",
            "scmurl",
            "koji_tag",
            "scratch",
            "time_submitted",
            "time_modified",
            "time_completed",
            "component_builds",
            "tasks",
        }
    short = await get_json(daemon, f"{MBS}/2/module-builds/{build_id}?short=1")
    assert set(short) == {
        "id",
        "name",
        "stream",
        "version",
        "context",
        "state",
        "state_name",
        "scratch",
    }
    verbose_v1 = await get_json(daemon, f"{MBS}/1/module-builds/{build_id}?verbose=1")
    assert verbose_v1["state_url"] == f"{MBS}/1/module-builds/{build_id}"
    missing = await get_json(daemon, f"{MBS}/2/module-builds/4242", status=404)
    assert_error(missing, 404)
    bad = await get_json(daemon, f"{MBS}/2/module-builds/{build_id}?colour=red", 400)
    assert "colour" in bad["message"]


@pytest.mark.parametrize(
    ("version", "headers", "state"),
    [(2, OIDC_HEADERS, "failed"), (1, KERBEROS_HEADERS, "4")],
)
@pytest_twisted.ensureDeferred
async def test_fedpkg_cancel_fails_the_build_and_answers_it(
    daemon: RunningDaemon, git_world: GitWorld, version: int, headers: dict, state: str
) -> None:
    """PATCH module-builds/N {"state": "failed"} (or "4") cancels and answers the build."""
    build_id = (await submit(daemon, git_world))["id"]
    response = await send(
        daemon,
        "PATCH",
        f"{MBS}/{version}/module-builds/{build_id}",
        {"state": state},
        headers,
    )
    body = await json_of(response)
    assert response.code == 200, body
    assert (body["state"], body["state_name"]) == (4, "failed")
    assert body["state_reason"] == "Canceled by <anonymous>"
    assert TIME.fullmatch(body["time_completed"])
    assert [t["state_name"] for t in body["state_trace"]] == ["init", "failed"]
    again = await send(
        daemon,
        "PATCH",
        f"{MBS}/{version}/module-builds/{build_id}",
        {"state": state},
        headers,
    )
    assert_error(await json_of(again), 400)
    assert again.code == 400


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/2/module-builds/{id}", {"state": "ready"}, 400),
        ("/2/module-builds/{id}", {"state": 4}, 400),
        ("/2/module-builds/{id}", {"state": "failed", "reason": "x"}, 400),
        ("/2/module-builds/4242", {"state": "failed"}, 404),
        ("/2/module-builds/", {"state": "failed"}, 501),
    ],
)
@pytest_twisted.ensureDeferred
async def test_other_changes_are_refused(
    daemon: RunningDaemon, git_world: GitWorld, path: str, body: dict, status: int
) -> None:
    """Anything but a cancel of an existing build is refused with a JSON error."""
    build_id = (await submit(daemon, git_world))["id"]
    response = await send(
        daemon, "PATCH", MBS + path.format(id=build_id), body, OIDC_HEADERS
    )
    error = await json_of(response)
    assert response.code == status, error
    assert_error(error, status)


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
                assert url.startswith(daemon.base_url + f"{MBS}/2/module-builds/")
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
async def test_meta_gives_absolute_links_that_keep_the_query(
    daemon: RunningDaemon, pool
) -> None:
    """meta has page, pages, per_page, total and absolute first/prev/next/last links."""
    await seed(pool, 25)
    body = await get_json(daemon, f"{MBS}/1/module-builds/?owner=bob&per_page=5&page=2")
    meta = body["meta"]
    total = len(await ids_where(pool, "owner = 'bob'"))
    assert (meta["page"], meta["per_page"], meta["total"]) == (2, 5, total)
    assert meta["pages"] == -(-total // 5)
    base = daemon.base_url + f"{MBS}/1/module-builds/?owner=bob&page="
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


@pytest_twisted.ensureDeferred
async def test_each_filter_selects_what_the_database_says(
    daemon: RunningDaemon, pool
) -> None:
    """Column, state, nsvc and time filters select exactly the matching builds."""
    await seed(pool, 60)
    version = 4020260000000007
    cases = [
        ({"name": "mod1"}, "name = 'mod1'"),
        ({"stream": "s0"}, "stream = 's0'"),
        ({"version": str(version)}, f"version = {version}"),
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
            {"nsvc": f"mod1:s1:{version}"},
            f"name = 'mod1' AND stream = 's1' AND version = {version}",
        ),
        ({"nsvc": f"mod1:s1:{version}:c0ffee03"}, f"version = {version}"),
        ({"nsvc": f"mod1:s1:{version}:c0ffee00"}, "FALSE"),
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
    for args, where in cases:
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


async def built_components(
    daemon: RunningDaemon, git_world: GitWorld, pool
) -> tuple[int, dict[str, int]]:
    """A submitted build whose alpha completed and beta is building; its component ids."""
    build_id = (await submit(daemon, git_world))["id"]
    rows = await pool.run_query(
        "SELECT id, name FROM component_builds WHERE module_build_id = %s", (build_id,)
    )
    ids = {r["name"]: r["id"] for r in rows}
    await pool.run_operation(
        "UPDATE component_builds SET state = 'complete', task_id = 1001,"
        " nvr = 'alpha-1.0-1.module' WHERE id = %s",
        (ids["alpha"],),
    )
    await pool.run_operation(
        "UPDATE component_builds SET state = 'building', task_id = 1002 WHERE id = %s",
        (ids["beta"],),
    )
    await pool.run_operation(
        "INSERT INTO state_trace (module_build_id, component_build_id, time,"
        " old_state, new_state, reason) VALUES"
        " (%s, %s, now(), 'waiting', 'building', NULL),"
        " (%s, %s, now(), 'building', 'complete', NULL)",
        (build_id, ids["alpha"], build_id, ids["alpha"]),
    )
    return build_id, ids


@pytest_twisted.ensureDeferred
async def test_component_builds_list_and_item(
    daemon: RunningDaemon, git_world: GitWorld, pool
) -> None:
    """component-builds/ lists components in MBS's shape; component-builds/N shows one."""
    build_id, ids = await built_components(daemon, git_world, pool)
    listing = await get_json(
        daemon, f"{MBS}/2/component-builds/?module_build={build_id}"
    )
    assert [i["id"] for i in listing["items"]] == sorted(ids.values(), reverse=True)
    assert listing["meta"]["total"] == 3
    alpha = next(i for i in listing["items"] if i["package"] == "alpha")
    assert alpha == {
        "id": ids["alpha"],
        "package": "alpha",
        "format": "rpms",
        "task_id": 1001,
        "state": 1,
        "state_name": "COMPLETE",
        "state_reason": None,
        "module_build": build_id,
        "nvr": "alpha-1.0-1.module",
    }
    shown = await get_json(daemon, f"{MBS}/1/component-builds/{ids['alpha']}")
    assert shown == alpha
    verbose = await get_json(
        daemon, f"{MBS}/2/component-builds/{ids['alpha']}/?verbose=true"
    )
    assert verbose["batch"] == 2
    assert verbose["state_url"] == f"{MBS}/2/component-builds/{ids['alpha']}"
    assert [(t["state"], t["state_name"]) for t in verbose["state_trace"]] == [
        (None, None),
        (0, "BUILDING"),
        (1, "COMPLETE"),
    ]
    build = await get_json(daemon, f"{MBS}/2/module-builds/{build_id}")
    assert build["tasks"]["rpms"]["alpha"] == {
        "task_id": 1001,
        "state": 1,
        "state_reason": None,
        "nvr": "alpha-1.0-1.module",
    }
    assert build["tasks"]["rpms"]["beta"]["state"] == 0
    missing = await get_json(daemon, f"{MBS}/2/component-builds/4242", status=404)
    assert_error(missing, 404)


@pytest_twisted.ensureDeferred
async def test_component_builds_filters_order_and_bad_values(
    daemon: RunningDaemon, git_world: GitWorld, pool
) -> None:
    """Component filters (state by Koji name or number, package, task, ...) select; bad ones are 400."""
    build_id, ids = await built_components(daemon, git_world, pool)
    cases = [
        ("state=COMPLETE", ["alpha"]),
        ("state=1", ["alpha"]),
        ("state=building&state=waiting", ["gamma", "beta"]),
        ("package=beta", ["beta"]),
        ("task_id=1002", ["beta"]),
        ("nvr=alpha-1.0-1.module", ["alpha"]),
        ("format=rpms&batch=3", ["gamma"]),
        ("module_build=4242", []),
        ("modified_after=2000-01-01&order_by=package", ["alpha", "beta", "gamma"]),
        ("order_desc_by=package&per_page=2", ["gamma", "beta"]),
    ]
    for query, names in cases:
        body = await get_json(daemon, f"{MBS}/2/component-builds/?{query}")
        assert [i["package"] for i in body["items"]] == names, query
    for query in ("state=sleeping", "task_id=x", "colour=red", "order_by=repository"):
        error = await get_json(daemon, f"{MBS}/2/component-builds/?{query}", 400)
        assert_error(error, 400)
        assert query.split("=")[0] in error["message"]


@pytest_twisted.ensureDeferred
async def test_unimplemented_methods_are_501_json(daemon: RunningDaemon) -> None:
    """DELETE or PUT on MBS paths are 501 with a JSON body, as on /rida/."""
    for method, path in (
        ("DELETE", "/2/module-builds/1"),
        ("PUT", "/2/module-builds/"),
        ("POST", "/2/component-builds/"),
    ):
        response = await treq.request(method, daemon.url(MBS + path))
        body = await json_of(response)
        assert response.code == 501, (method, path)
        assert_error(body, 501)
