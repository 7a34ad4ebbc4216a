"""Build on push against real PostgreSQL: each forge's push builds through
the route, a delivery is recorded with its builds in one transaction, and
the same delivery again (one after the other, at once in one process, at
once in two, or while another transaction holds it) builds nothing."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import Deferred, gatherResults
from twisted.internet.task import deferLater

from ridad.api.submission import Submission
from ridad.db.pool import Pool
from ridad.domain.webhooks import Push
from ridad.errors import Conflict
from tests.db.test_api_handlers import settled
from tests.unit.api.support import Apps, make_apps
from tests.unit.api.test_openapi_shapes import assert_valid
from tests.unit.api.webhook_support import (
    CLONE_URLS,
    FORGES,
    PUSHERS,
    WEBHOOK_CONFIG,
    payload,
    push_repository,
    signed,
    with_hooks,
)


def url(forge: str) -> str:
    return f"http://ridad/rida/webhooks/{forge}"


async def deliver(
    apps: Apps, forge: str, commit: str, delivery: str = "d-1", **changes: Any
) -> tuple[int, Any]:
    """POST ``forge``'s push of ``commit`` as delivery ``delivery``."""
    headers, body = signed(forge, payload(forge, commit), delivery=delivery, **changes)
    response = await settled(
        apps.rida, apps.rida.post(url(forge), data=body, headers=headers)
    )
    return response.code, await settled(apps.rida, response.json())


async def deliveries(pool: Pool) -> list[dict[str, Any]]:
    """The recorded deliveries, oldest first."""
    return await pool.run_query(
        "SELECT forge, delivery_id, module_build_ids, scmurl, branch, pusher"
        " FROM webhook_deliveries ORDER BY received, delivery_id"
    )


async def build_count(pool: Pool) -> int:
    rows = await pool.run_query("SELECT count(*) AS n FROM module_builds")
    return int(rows[0]["n"])


@pytest.mark.parametrize("forge", FORGES)
@pytest_twisted.ensureDeferred
async def test_each_forges_push_builds_the_pushed_commit(
    pool: Pool, forge: str
) -> None:
    """A signed push to main submits ``<clone URL>?#<commit>`` on main, owned
    by the pusher's ridad user: 201 with the build, and the delivery recorded
    with its build."""
    apps = make_apps(pool, clock=reactor, config=WEBHOOK_CONFIG)
    commit = push_repository(apps.git, forge)
    code, body = await deliver(apps, forge, commit)
    assert code == 201, body
    scmurl = f"{CLONE_URLS[forge]}?#{commit}"
    assert (body["name"], body["stream"], body["state"]) == ("demo", "main", "init")
    assert (body["scmurl"], body["owner"]) == (scmurl, f"{PUSHERS[forge]}-ridad")
    assert body["ids"] == [body["id"]]
    assert_valid(body, "ModuleBuild")
    assert await deliveries(pool) == [
        {
            "forge": forge,
            "delivery_id": "d-1",
            "module_build_ids": [body["id"]],
            "scmurl": scmurl,
            "branch": "main",
            "pusher": PUSHERS[forge],
        }
    ]


@pytest_twisted.ensureDeferred
async def test_the_same_delivery_again_answers_its_builds_and_builds_nothing(
    pool: Pool,
) -> None:
    """A retried delivery (same id) is 200 with the first delivery's build;
    no second build, no second row."""
    apps = make_apps(pool, clock=reactor, config=WEBHOOK_CONFIG)
    commit = push_repository(apps.git, "github")
    code, first = await deliver(apps, "github", commit)
    assert code == 201, first
    code, again = await deliver(apps, "github", commit)
    assert code == 200, again
    assert (again["duplicate"], again["id"], again["ids"]) == (
        True,
        first["id"],
        [first["id"]],
    )
    assert_valid(again, "WebhookAnswer")
    assert await build_count(pool) == 1
    assert len(await deliveries(pool)) == 1


@pytest_twisted.ensureDeferred
async def test_a_new_delivery_of_a_built_commit_is_409_like_a_resubmission(
    pool: Pool,
) -> None:
    """Another delivery of a commit that has a build (a Gitea replay: a new
    id) is answered as a repeated submission: 409 naming the build; it is
    not recorded."""
    apps = make_apps(pool, clock=reactor, config=WEBHOOK_CONFIG)
    commit = push_repository(apps.git, "gitea")
    code, first = await deliver(apps, "gitea", commit, "d-1")
    assert code == 201, first
    code, body = await deliver(apps, "gitea", commit, "d-2")
    assert code == 409
    assert body["details"] == {"id": first["id"], "state": "init"}
    assert [d["delivery_id"] for d in await deliveries(pool)] == ["d-1"]


@pytest_twisted.ensureDeferred
async def test_two_deliveries_of_one_id_at_once_in_one_process_build_once(
    pool: Pool,
) -> None:
    """Two copies of a delivery sent together: the second waits while the
    first is verified and recorded, then answers 200 with its build."""
    apps = make_apps(pool, clock=reactor, config=WEBHOOK_CONFIG)
    commit = push_repository(apps.git, "gitlab")
    fetched: list[str] = []
    fetch_file = apps.git.fetch_file

    async def counted(location: Any, commit: str, path: str, **kwargs: Any) -> Any:
        fetched.append(path)
        return await fetch_file(location, commit, path, **kwargs)

    apps.git.fetch_file = counted  # type: ignore[method-assign]
    answers = await gatherResults(
        [Deferred.fromCoroutine(deliver(apps, "gitlab", commit)) for _ in range(2)]
    )
    codes = sorted(code for code, _ in answers)
    assert codes == [200, 201], answers
    built = next(body for code, body in answers if code == 201)
    again = next(body for code, body in answers if code == 200)
    assert again["ids"] == [built["id"]]
    assert await build_count(pool) == 1
    assert fetched == ["demo.yaml"]  # verified once: the second one waited
    assert apps.rida_api._webhooks._in_flight == {}  # type: ignore[union-attr]


@pytest_twisted.ensureDeferred
async def test_two_deliveries_of_one_id_at_once_in_two_processes_build_once(
    pool: Pool,
) -> None:
    """The same delivery reaching two ridad processes at once (two apps on
    one database, each with its own in-flight set) builds once: the other
    answers 200 with that build."""
    first, second = (
        make_apps(pool, clock=reactor, config=WEBHOOK_CONFIG) for _ in range(2)
    )
    commit = push_repository(first.git, "forgejo")
    assert push_repository(second.git, "forgejo") == commit
    answers = await gatherResults(
        [Deferred.fromCoroutine(deliver(a, "forgejo", commit)) for a in (first, second)]
    )
    assert sorted(code for code, _ in answers) == [200, 201], answers
    assert await build_count(pool) == 1
    assert len(await deliveries(pool)) == 1


@pytest_twisted.ensureDeferred
async def test_a_delivery_waits_for_the_transaction_that_holds_it(pool: Pool) -> None:
    """While another transaction has claimed the delivery, recording it
    waits; once that one commits, it answers that one's builds (duplicate)
    and writes nothing; had it rolled back, it records its own."""
    apps = make_apps(pool, clock=reactor, config=WEBHOOK_CONFIG)
    assert apps.submissions is not None and apps.transitions is not None
    commit = push_repository(apps.git, "pagure")
    push = Push("pagure", "m-1", CLONE_URLS["pagure"], "main", commit, "pingou")
    news = await apps.submissions.verified(_submission(push))
    for outcome in ("commit", "rollback"):
        claimed, release = Deferred[None](), Deferred[None]()
        other = Deferred.fromCoroutine(
            pool.run_interaction(_hold_claim, push, claimed, release, outcome)
        )
        await claimed
        waiting = Deferred.fromCoroutine(
            apps.transitions.create_pushed_builds(news, push)
        )
        await _until_a_statement_waits_for_a_lock(pool)
        release.callback(None)
        if outcome == "commit":
            await other
            record = await waiting
            assert (record.duplicate, record.ids) == (True, [])
            assert await build_count(pool) == 0
            await pool.run_operation("DELETE FROM webhook_deliveries")
        else:
            with pytest.raises(Conflict):  # the stand-in of a failed recording
                await other
            record = await waiting
            assert not record.duplicate and len(record.ids) == 1
    assert [d["module_build_ids"] for d in await deliveries(pool)] == [record.ids]


def _submission(push: Push) -> Submission:
    return Submission(scmurl=push.scmurl, branch=push.branch, owner="pingou-ridad")


async def _hold_claim(
    cursor: Any,
    push: Push,
    claimed: Deferred[None],
    release: Deferred[None],
    outcome: str,
) -> None:
    """Another process's transaction: claim ``push``'s delivery, hold it
    until ``release``, then commit or roll back."""
    await cursor.execute(
        "INSERT INTO webhook_deliveries (forge, delivery_id, scmurl, branch,"
        " received) VALUES (%s, %s, %s, %s, now())",
        (push.forge, push.delivery_id, push.scmurl, push.branch),
    )
    claimed.callback(None)
    await release
    if outcome == "rollback":
        raise Conflict("rolled back")


async def _until_a_statement_waits_for_a_lock(pool: Pool) -> None:
    """Poll until a session of this database waits for a lock."""
    for _ in range(2000):
        rows = await pool.run_query(
            "SELECT count(*) AS n FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if rows[0]["n"]:
            return
        await deferLater(reactor, 0.005, lambda: None)
    raise AssertionError("no statement waited for the claimed delivery")


@pytest_twisted.ensureDeferred
async def test_a_refused_or_failed_delivery_records_nothing_and_can_be_sent_again(
    pool: Pool,
) -> None:
    """A bad signature (401) and a push whose modulemd is missing (422)
    record nothing; once the module is there, the same delivery builds."""
    apps = make_apps(pool, clock=reactor, config=WEBHOOK_CONFIG)
    for component in ("alpha", "beta"):
        apps.git.add(
            f"git://git.example.org/rpms/{component}", {f"{component}.spec": b"x"}
        )
    commit = apps.git.add(CLONE_URLS["github"], {"README": b"no modulemd yet\n"})
    code, _ = await deliver(apps, "github", commit, key="wrong")
    assert code == 401
    code, body = await deliver(apps, "github", commit)
    assert code == 422, body
    assert await deliveries(pool) == [] and await build_count(pool) == 0
    commit = push_repository(apps.git, "github")
    code, body = await deliver(apps, "github", commit)
    assert code == 201, body


@pytest_twisted.ensureDeferred
async def test_an_unknown_pusher_builds_as_the_service_owner(pool: Pool) -> None:
    """With a service owner, a push by a user missing from identities builds
    owned by it; a repository outside scm.allowed is still a 403."""
    config = with_hooks(service_owner="modularity-bot", identities=())
    apps = make_apps(pool, clock=reactor, config=config)
    commit = push_repository(apps.git, "gitea")
    code, body = await deliver(apps, "gitea", commit)
    assert (code, body.get("owner")) == (201, "modularity-bot"), body
    outside = with_hooks(service_owner="modularity-bot")
    outside = replace(
        outside, scm=replace(outside.scm, allowed=("git://git.example.org/modules/",))
    )
    apps = make_apps(pool, clock=reactor, config=outside)
    commit = push_repository(apps.git, "gitea")
    code, body = await deliver(apps, "gitea", commit, "d-2")
    assert code == 403
    assert "not an allowed module location" in body["message"]
    assert len(await deliveries(pool)) == 1
