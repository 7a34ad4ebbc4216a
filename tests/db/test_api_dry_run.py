"""Dry runs through the /rida/ and MBS apps against real PostgreSQL: every
answer is the one the real submission gets (a refusal's status and body
alike; for an accepted one, what it would build), and nothing is left
behind: no row in module_builds, component_builds, state_trace or outbox,
no sequence value taken, no advisory lock held."""

from __future__ import annotations

from typing import Any

import pytest_twisted
from twisted.internet import reactor

from ridad.db.pool import Pool
from tests.db.test_api_expansion import dependencies, platforms
from tests.db.test_api_handlers import call
from tests.unit.api.support import GIT, Apps, make_apps, module_repository, modulemd

RIDA = "http://ridad/rida/module-builds/"
MBS1 = "http://ridad/module-build-service/1/module-builds/"
MBS2 = "http://ridad/module-build-service/2/module-builds/"
TABLES = ("module_builds", "component_builds", "state_trace", "outbox")
#: Each way of asking: the client, the URL and what the body adds.
WAYS = (
    ("rida", RIDA + "?dry_run=true", {}),
    ("rida", RIDA, {"dry_run": True}),
    ("mbs", MBS1, {"dry_run": True}),
    ("mbs", MBS2, {"dry_run": True}),
    ("mbs", MBS2 + "?dry_run=1", {}),
)


async def recorded(pool: Pool) -> dict[str, Any]:
    """What a write would change: row counts, sequences, advisory locks."""
    state: dict[str, Any] = {}
    for table in TABLES:
        rows = await pool.run_query(f"SELECT count(*) AS n FROM {table}")
        state[table] = rows[0]["n"]
        rows = await pool.run_query(f"SELECT last_value, is_called FROM {table}_id_seq")
        state[f"{table}_id_seq"] = (rows[0]["last_value"], rows[0]["is_called"])
    rows = await pool.run_query(
        "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory'"
    )
    state["advisory_locks"] = rows[0]["n"]
    return state


async def dry_runs(apps: Apps, pool: Pool, body: dict[str, Any]) -> list[Any]:
    """``body`` dry-run every way; each answer as ``(status, body)``, and
    nothing recorded by any."""
    before = await recorded(pool)
    answers = []
    for app, url, more in WAYS:
        code, answer, response = await call(
            getattr(apps, app), "POST", url, {**body, **more}
        )
        assert response.headers.getRawHeaders(b"location") is None
        answers.append((code, answer))
    assert await recorded(pool) == before
    return answers


def submission(apps: Apps, name: str = "demo", text: bytes | None = None) -> dict:
    scmurl = module_repository(apps.git, name, text or modulemd())
    return {"scmurl": scmurl, "branch": "main"}


@pytest_twisted.ensureDeferred
async def test_an_accepted_dry_run_answers_what_the_submission_builds(
    pool: Pool,
) -> None:
    """Every way answers 200 with the one build, its components and their
    batches, refs and commits; the real submission then builds just that."""
    apps = make_apps(pool, clock=reactor)
    body = submission(apps)
    answers = await dry_runs(apps, pool, body)
    assert {code for code, _ in answers} == {200}
    assert all(a == answers[0][1] for _, a in answers)
    planned = answers[0][1]
    assert planned["dry_run"] is True
    (build,) = planned["module_builds"]
    assert (build["action"], build["id"], build["state"]) == ("create", None, None)
    assert (build["name"], build["stream"], build["scratch"]) == ("demo", "main", False)
    assert [(c["name"], c["batch"], c["ref"]) for c in build["components"]] == [
        ("alpha", 2, "main"),
        ("beta", 2, "main"),
    ]
    code, real, _ = await call(apps.rida, "POST", RIDA, body)
    assert code == 201, real
    assert build["nsvc"] == ":".join(
        (real["name"], real["stream"], real["version"], real["context"])
    )
    assert [
        (c["name"], c["batch"], c["ref"], c["commit"]) for c in real["components"]
    ] == [(c["name"], c["batch"], c["ref"], c["commit"]) for c in build["components"]]


@pytest_twisted.ensureDeferred
async def test_a_refused_dry_run_gets_the_real_refusal(pool: Pool) -> None:
    """403 (module outside scm.allowed), 422 (a component without a
    repository), 400 (a strategy that does not exist) and 409 (the NSVC
    exists): each way's status and body are the real submission's."""
    apps = make_apps(pool, clock=reactor)
    outside = {
        "scmurl": "git://elsewhere.example.org/m/demo.git?#main",
        "branch": "main",
    }
    missing = submission(apps, "lonely", modulemd(components=("gamma",)))
    strategy = {**submission(apps), "rebuild_strategy": "whatever"}
    code, first, _ = await call(apps.rida, "POST", RIDA, submission(apps, "twice"))
    assert code == 201, first
    for body, status in (
        (outside, 403),
        (missing, 422),
        (strategy, 400),
        (submission(apps, "twice"), 409),
    ):
        answers = await dry_runs(apps, pool, body)
        for (app, url, _), (code, answer) in zip(WAYS, answers, strict=True):
            real_code, real, _ = await call(
                getattr(apps, app), "POST", url.partition("?")[0], body
            )
            assert (code, answer) == (real_code, real) == (status, real), url
    assert answers[0][1]["details"] == {"id": first["id"], "state": "init"}


async def cancel(apps: Apps, module_build_id: int) -> None:
    code, body, _ = await call(
        apps.rida, "PATCH", f"{RIDA}{module_build_id}", {"state": "failed"}
    )
    assert code == 200, body


@pytest_twisted.ensureDeferred
async def test_siblings_kept_and_started_over_are_told_apart(pool: Pool) -> None:
    """Of three MSE siblings, one failed: the dry run would start it over
    (its id) and keep the other two (theirs), writing no trace row; with a
    component of the failed one still building, it is the real 400."""
    await platforms(pool)
    apps = make_apps(pool, clock=reactor)
    text = modulemd(dependencies=dependencies(({"platform": []}, {"platform": []})))
    body = submission(apps, "expanded", text)
    code, real, _ = await call(apps.rida, "POST", RIDA, body)
    assert code == 201, real
    failed = real["ids"][1]
    await cancel(apps, failed)
    answers = await dry_runs(apps, pool, body)
    builds = answers[0][1]["module_builds"]
    assert [(b["action"], b["id"]) for b in builds] == [
        ("keep", real["ids"][0]),
        ("resubmit", failed),
        ("keep", real["ids"][2]),
    ]
    assert [b["state"] for b in builds] == ["init", "failed", "init"]
    assert {b["buildrequires"]["platform"]["stream"] for b in builds} == {
        "el8.1.0",
        "el8.2.0",
        "f40",
    }
    await pool.run_operation(
        "UPDATE component_builds SET state = 'building' WHERE module_build_id = %s",
        (failed,),
    )
    answers = await dry_runs(apps, pool, body)
    code, refused, _ = await call(apps.mbs, "POST", MBS2, body)
    assert code == 400 and "cannot move to waiting" in refused["message"]
    assert {(c, a["message"]) for c, a in answers} == {(400, refused["message"])}


@pytest_twisted.ensureDeferred
async def test_a_scratch_dry_run_names_the_next_scratch_context(pool: Pool) -> None:
    """A scratch dry run takes the context the next scratch build would get
    (_1, then _2 once one was built), and holds no advisory lock after."""
    apps = make_apps(pool, clock=reactor)
    body = {**submission(apps), "scratch": True}
    answers = await dry_runs(apps, pool, body)
    context = answers[0][1]["module_builds"][0]["context"]
    assert context.endswith("_1")
    assert answers[0][1]["module_builds"][0]["scratch"] is True
    code, real, _ = await call(apps.rida, "POST", RIDA, body)
    assert (code, real["context"]) == (201, context)
    answers = await dry_runs(apps, pool, body)
    assert {a["module_builds"][0]["context"] for _, a in answers} == {
        context.removesuffix("_1") + "_2"
    }


@pytest_twisted.ensureDeferred
async def test_dry_run_false_is_a_real_submission(pool: Pool) -> None:
    """``dry_run=false`` in the query and ``"dry_run": false`` in a body
    submit for real (201)."""
    apps = make_apps(pool, clock=reactor)
    code, body, _ = await call(
        apps.rida, "POST", RIDA + "?dry_run=false", submission(apps, "one")
    )
    assert code == 201, body
    code, body, _ = await call(
        apps.mbs, "POST", MBS2, {**submission(apps, "two"), "dry_run": False}
    )
    assert code == 201, body
    assert GIT in body[0]["scmurl"]
