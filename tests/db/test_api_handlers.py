"""The /rida/ and MBS Klein apps through StubTreq against real PostgreSQL:
submissions recorded (201), refused again (409), and read back one by one
and in lists. Git is the in-memory fake of ``tests/unit/api/support.py``."""

from __future__ import annotations

import json
from typing import Any

import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater

from ridad.db.pool import Pool
from tests.unit.api.support import JSON, Apps, make_apps, module_repository, modulemd

RIDA = "http://ridad/rida/module-builds/"
MBS = "http://ridad/module-build-service/1/module-builds/"


async def settled(client: Any, d: Deferred[Any]) -> Any:
    """Wait for ``d``, pumping StubTreq's in-memory connection meanwhile
    (the handlers wait for the real database on the real reactor)."""
    outcome: list[Any] = []
    d.addBoth(lambda result: outcome.append(True) or result)
    while not outcome:
        client.flush()
        await deferLater(reactor, 0.001)
    return await d


async def call(
    client: Any, method: str, url: str, body: Any = None
) -> tuple[int, Any, Any]:
    """Send a request; return status, JSON body and the response."""
    data = None if body is None else json.dumps(body).encode()
    response = await settled(
        client, client.request(method, url, data=data, headers=JSON)
    )
    return response.code, await settled(client, response.json()), response


def submitted(apps: Apps, name: str = "demo") -> dict[str, str]:
    """A submission body for module ``name``, committed to the fake git."""
    return {"scmurl": module_repository(apps.git, name, modulemd()), "branch": "main"}


@pytest_twisted.ensureDeferred
async def test_post_records_the_build_and_get_shows_it(pool: Pool) -> None:
    """POST answers 201 with Location and the build, which GET then shows as it is."""
    apps = make_apps(pool, clock=reactor)
    code, body, response = await call(apps.rida, "POST", RIDA, submitted(apps))
    assert code == 201, body
    assert response.headers.getRawHeaders(b"location") == [
        f"/rida/module-builds/{body['id']}".encode()
    ]
    assert (body["name"], body["stream"], body["state"]) == ("demo", "main", "init")
    assert [c["name"] for c in body["components"]] == ["alpha", "beta"]
    assert body["ids"] == [body["id"]]
    code, shown, _ = await call(apps.rida, "GET", f"{RIDA}{body['id']}")
    assert (code, shown) == (200, {k: v for k, v in body.items() if k != "ids"})


@pytest_twisted.ensureDeferred
async def test_submitting_the_same_module_version_again_is_409(pool: Pool) -> None:
    """A second submission of an unfailed module version is a Conflict naming the first."""
    apps = make_apps(pool, clock=reactor)
    submission = submitted(apps)
    code, first, _ = await call(apps.rida, "POST", RIDA, submission)
    assert code == 201, first
    code, body, _ = await call(apps.mbs, "POST", MBS, submission)
    assert code == 409
    assert body["details"] == {"id": first["id"], "state": "init"}


@pytest_twisted.ensureDeferred
async def test_list_answers_a_page_with_the_total(pool: Pool) -> None:
    """GET of the collection lists the builds newest first, with X-Total-Count."""
    apps = make_apps(pool, clock=reactor)
    ids = []
    for name in ("one", "two", "three"):
        code, body, _ = await call(apps.rida, "POST", RIDA, submitted(apps, name))
        assert code == 201, body
        ids.append(body["id"])
    code, listed, response = await call(apps.rida, "GET", RIDA + "?per_page=2")
    assert code == 200
    assert [item["id"] for item in listed] == ids[::-1][:2]
    assert response.headers.getRawHeaders(b"x-total-count") == [b"3"]


@pytest_twisted.ensureDeferred
async def test_unknown_build_is_404_on_both_apis(pool: Pool) -> None:
    """GET of a build id that does not exist is a JSON 404 on /rida/ and MBS."""
    apps = make_apps(pool, clock=reactor)
    for client, url in ((apps.rida, RIDA), (apps.mbs, MBS)):
        code, body, _ = await call(client, "GET", f"{url}424242")
        assert (code, body["status"]) == (404, 404)


@pytest_twisted.ensureDeferred
async def test_mbs_post_then_get_single_and_list(pool: Pool) -> None:
    """The MBS API records a submission (201) and shows it alone and in its list."""
    apps = make_apps(pool, clock=reactor)
    code, body, _ = await call(apps.mbs, "POST", MBS, submitted(apps))
    assert code == 201, body
    code, shown, _ = await call(apps.mbs, "GET", f"{MBS}{body['id']}")
    assert (code, shown["id"], shown["name"]) == (200, body["id"], "demo")
    code, listed, _ = await call(apps.mbs, "GET", MBS)
    assert code == 200
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert listed["meta"]["total"] == 1
