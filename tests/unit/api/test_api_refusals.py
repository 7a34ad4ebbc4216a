"""The /rida/ and MBS Klein apps refuse bad submissions before touching the
database: StubTreq in-process, an in-memory git, a pool that never connects."""

from __future__ import annotations

import json
from typing import Any

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from ridad.api.site import make_site
from ridad.config.model import LiveConfig
from ridad.db.pool import Pool
from ridad.modulemd.problems import MAX_REPORTED_PROBLEMS
from tests.helpers import result_of
from tests.unit.api.support import (
    CONFIG,
    GIT,
    JSON,
    Apps,
    make_apps,
    module_repository,
    modulemd,
)

RIDA = "http://ridad/rida/module-builds/"
MBS = "http://ridad/module-build-service/1/module-builds/"


@pytest.fixture
def apps() -> Apps:
    """Both apps on a pool that is never started (any query would fail)."""
    clock = Clock()
    return make_apps(Pool(dsn="host=/nonexistent", reactor=clock, size=1), clock=clock)


def answer(response: Any) -> tuple[int, dict[str, Any]]:
    """Status and JSON body of an already-received response."""
    assert response.headers.getRawHeaders(b"content-type") == [b"application/json"]
    return response.code, result_of(response.json())


def post(client: Any, url: str, body: Any) -> tuple[int, dict[str, Any]]:
    """POST a JSON body (or raw bytes) and return status and body."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return answer(result_of(client.post(url, data=data, headers=JSON)))


@pytest.mark.parametrize("app, url", [("rida", RIDA), ("mbs", MBS)])
def test_malformed_json_is_400(apps: Apps, app: str, url: str) -> None:
    """A body that is not JSON is a 400 in MBS's error shape."""
    code, body = post(getattr(apps, app), url, b"{not json")
    assert (code, body["status"], body["error"]) == (400, 400, "Bad Request")
    assert "JSON" in body["message"]


def test_unknown_and_mistyped_fields_are_400_listing_each(apps: Apps) -> None:
    """Every bad field is named in details.fields."""
    code, body = post(apps.rida, RIDA, {"scmurl": 5, "colour": "red"})
    assert code == 400
    assert body["details"]["fields"] == {
        "colour": "unknown field",
        "scmurl": "must be a string",
    }


def test_missing_scmurl_is_400(apps: Apps) -> None:
    """A submission without scmurl is a 400 naming the field."""
    code, body = post(apps.rida, RIDA, {"branch": "main"})
    assert (code, body["details"]) == (400, {"fields": {"scmurl": "missing"}})


@pytest.mark.parametrize("app, url", [("rida", RIDA), ("mbs", MBS)])
def test_scmurl_outside_the_whitelist_is_403(apps: Apps, app: str, url: str) -> None:
    """A module repository outside scm.allowed is Forbidden, before any git call."""
    scmurl = "git://elsewhere.example.org/modules/demo.git?#main"
    code, body = post(getattr(apps, app), url, {"scmurl": scmurl, "branch": "main"})
    assert code == 403
    assert "not an allowed module location" in body["message"]


@pytest.mark.parametrize(
    "url", ["http://ridad/nowhere", "http://ridad/module-build-service/9/about/"]
)
def test_unknown_paths_and_api_versions_are_json_404(apps: Apps, url: str) -> None:
    """An unknown path, or an MBS API version ridad does not serve, is a JSON 404."""
    client = apps.mbs if "module-build-service" in url else apps.rida
    code, body = answer(result_of(client.get(url)))
    assert (code, body["status"]) == (404, 404)


@pytest.mark.parametrize("app, url", [("rida", RIDA + "1"), ("mbs", MBS + "1")])
def test_unimplemented_method_is_501(apps: Apps, app: str, url: str) -> None:
    """DELETE on a module build is 501 Not Implemented, as MBS answered."""
    code, body = answer(result_of(getattr(apps, app).delete(url)))
    assert (code, body["status"]) == (501, 501)


@pytest.mark.parametrize("app, url", [("rida", RIDA), ("mbs", MBS)])
def test_invalid_modulemd_is_422_with_at_most_fifty_problems(
    apps: Apps, app: str, url: str
) -> None:
    """A modulemd with 2,000 duplicate keys answers 50 problems and a count of the rest."""
    text = modulemd() + b"".join(b"summary: again\n" for _ in range(2000))
    scmurl = module_repository(apps.git, "demo", text)
    code, body = post(getattr(apps, app), url, {"scmurl": scmurl, "branch": "main"})
    assert code == 422
    errors = body["details"]["errors"]
    assert len(errors) == MAX_REPORTED_PROBLEMS + 1
    assert errors[-1]["message"] == "and 1,950 more problems"
    assert body["details"]["problem_count"] == 2000
    assert len(json.dumps(body)) < 10_000


def test_missing_module_repository_is_422_saying_so(apps: Apps) -> None:
    """A whitelisted repository that does not exist is Unprocessable, with the reason."""
    scmurl = f"{GIT}/modules/ghost.git?#main"
    code, body = post(apps.rida, RIDA, {"scmurl": scmurl, "branch": "main"})
    assert (code, body["details"]["reason"]) == (422, "missing-repository")


def test_body_over_the_limit_is_413_from_the_site(apps: Apps) -> None:
    """The site answers 413 in JSON for a body over api.max_body_bytes, before
    any route (tests/unit/api/test_channel.py has the details)."""
    site = make_site(
        api_resource=apps.rida_api.app.resource(),
        config=LiveConfig(CONFIG),
        reactor=Clock(),
    )
    channel = site.buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    body = b"x" * (CONFIG.api.max_body_bytes + 1)
    channel.dataReceived(
        b"POST /rida/module-builds/ HTTP/1.1\r\nHost: ridad\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body) + body
    )
    head, _, payload = transport.value().partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert json.loads(payload)["message"] == "the request body is over 4096 bytes"
    channel.connectionLost(Failure(ConnectionDone()))


@pytest.mark.parametrize("app, url", [("rida", RIDA), ("mbs", MBS)])
def test_modulemd_is_parsed_through_run_blocking(app: str, url: str) -> None:
    """The submission waits for run_blocking to parse the modulemd: the parse
    is never done on the calling (reactor) thread."""
    held: list[Any] = []

    def run_blocking(f: Any) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        held.append((f, d))
        return d

    clock = Clock()
    pool = Pool(dsn="host=/nonexistent", reactor=clock, size=1)
    apps = make_apps(pool, clock=clock, run_blocking=run_blocking)
    scmurl = module_repository(apps.git, "demo", b"document: [unclosed\n")
    client = getattr(apps, app)
    data = json.dumps({"scmurl": scmurl, "branch": "main"}).encode()
    response = client.post(url, data=data, headers=JSON)
    client.flush()
    answered: list[Any] = []
    response.addBoth(lambda result: answered.append(result) or result)
    assert answered == []
    ((parse, d),) = held
    try:
        parse()
    except Exception as error:  # noqa: BLE001 - handed on as a worker thread would
        d.errback(error)
    client.flush()
    code, body = answer(result_of(response))
    assert code == 422
    assert body["message"].startswith("the file is not valid YAML")
