"""Writes another web site could make a browser send are refused by the site
before any route runs: a form's Content-Type is 415, a foreign ``Origin``
403. Requests without a Content-Type (rpkg's Kerberos path) or without an
``Origin`` (every client but a browser) pass. StubTreq over the real site,
an in-memory git and a pool that never connects."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from treq.testing import StubTreq
from twisted.internet.task import Clock
from twisted.web.test.requesthelper import DummyRequest

from ridad.api.site import make_site
from ridad.api.writeguard import check_write, own_origin
from ridad.config.model import Config, LiveConfig
from ridad.db.pool import Pool
from ridad.errors import Forbidden
from tests.helpers import result_of
from tests.unit.api.support import CONFIG, make_apps, module_repository, modulemd

RIDA = "http://ridad/rida/module-builds/"
MBS = "http://ridad/module-build-service/1/module-builds/"
BOTH = pytest.mark.parametrize("url", [RIDA, MBS])
UI = "https://ui.example.org"


def site_client(config: Config = CONFIG) -> tuple[StubTreq, str]:
    """A client of the whole site (both APIs), and a submittable scmurl."""
    clock = Clock()
    pool = Pool(dsn="host=/nonexistent", reactor=clock, size=1)
    apps = make_apps(pool, clock=clock, config=config)
    site = make_site(
        api_resource=apps.rida_api.app.resource(),
        config=LiveConfig(config),
        by_prefix={b"/module-build-service": apps.mbs_api.app.resource()},
    )
    scmurl = module_repository(apps.git, "demo", modulemd())
    return StubTreq(site.resource), scmurl


def send(
    client: StubTreq,
    method: str,
    url: str,
    headers: dict[bytes, list[bytes]],
    body: Any,
) -> tuple[int, dict[str, Any]]:
    """Send ``body`` (JSON unless bytes); return status and JSON body."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = result_of(client.request(method, url, data=data, headers=headers))
    assert response.headers.getRawHeaders(b"content-type") == [b"application/json"]
    return response.code, result_of(response.json())


@BOTH
@pytest.mark.parametrize(
    "content_type",
    [
        b"text/plain",
        b"text/plain;charset=UTF-8",
        b"TEXT/PLAIN",
        b"application/x-www-form-urlencoded",
        b"multipart/form-data; boundary=----x",
    ],
)
def test_form_content_types_are_415(url: str, content_type: bytes) -> None:
    """A submission with a Content-Type a form can send is 415 in JSON."""
    client, scmurl = site_client()
    headers = {b"Content-Type": [content_type]}
    body: Any = {"scmurl": scmurl, "branch": "main"}
    if content_type.startswith(b"multipart/"):
        # Twisted parses a multipart body before any resource sees it (a
        # malformed one is its own 400), so this one is well formed.
        body = (
            b'------x\r\nContent-Disposition: form-data; name="scmurl"\r\n\r\n'
            + scmurl.encode()
            + b"\r\n------x--\r\n"
        )
    code, answer = send(client, "POST", url, headers, body)
    assert code == 415, answer
    assert answer["status"] == 415 and answer["error"] == "Unsupported Media Type"
    assert "Content-Type: application/json" in answer["message"]
    assert answer["details"] == {"content_type": content_type.decode()}


@BOTH
def test_text_plain_form_from_another_site_creates_nothing(url: str) -> None:
    """The HTML form of issue 9: text/plain, a foreign Origin, JSON-looking text."""
    client, scmurl = site_client()
    headers = {
        b"Content-Type": [b"text/plain"],
        b"Origin": [b"https://evil.example"],
    }
    body = f'{{"scmurl": "{scmurl}", "branch": "main", "x": "=y"}}'.encode()
    code, answer = send(client, "POST", url, headers, body)
    assert code == 415, answer


@BOTH
def test_form_content_type_on_a_cancel_is_415(url: str) -> None:
    """PATCH is a write too."""
    client, _ = site_client()
    headers = {b"Content-Type": [b"application/x-www-form-urlencoded"]}
    code, _answer = send(client, "PATCH", url + "1", headers, b"state=failed")
    assert code == 415


@BOTH
def test_no_content_type_reaches_the_route(url: str) -> None:
    """rpkg's Kerberos path sends no Content-Type: the route answers (here 400)."""
    client, _ = site_client()
    code, answer = send(client, "POST", url, {}, {"branch": "main"})
    assert code == 400, answer
    assert "scmurl" in json.dumps(answer)


@BOTH
@pytest.mark.parametrize(
    "origin",
    [b"https://evil.example", b"null", b"http://ridad.evil.example", b"https://ridad"],
)
def test_foreign_origin_is_403(url: str, origin: bytes) -> None:
    """An Origin other than the API's own (http://ridad here) is refused."""
    client, scmurl = site_client()
    headers = {b"Content-Type": [b"application/json"], b"Origin": [origin]}
    body = {"scmurl": scmurl, "branch": "main"}
    code, answer = send(client, "POST", url, headers, body)
    assert code == 403, answer
    assert answer["details"] == {"origin": origin.decode()}
    assert "api.allowed_origins" in answer["message"]
    code, _answer = send(client, "PATCH", url + "1", headers, {"state": "failed"})
    assert code == 403


@BOTH
@pytest.mark.parametrize("origin", [b"http://ridad", b"HTTP://RIDAD:80"])
def test_own_origin_reaches_the_route(url: str, origin: bytes) -> None:
    """The page the API itself serves from may write: scheme and Host match."""
    client, _ = site_client()
    headers = {b"Content-Type": [b"application/json"], b"Origin": [origin]}
    code, answer = send(client, "POST", url, headers, {"branch": "main"})
    assert code == 400, answer


def test_own_origin_is_the_scheme_and_host_the_request_came_with() -> None:
    """Over TLS with a port, only https://host:port is the API's own origin."""
    client, _ = site_client()
    url = "https://ridad:8443/rida/module-builds/"
    body = {"branch": "main"}
    json_type = [b"application/json"]
    mine = {b"Content-Type": json_type, b"Origin": [b"https://ridad:8443"]}
    assert send(client, "POST", url, mine, body)[0] == 400
    for other in (b"http://ridad:8443", b"https://ridad"):
        headers = {b"Content-Type": json_type, b"Origin": [other]}
        assert send(client, "POST", url, headers, body)[0] == 403


@BOTH
def test_allowed_origins_may_write(url: str) -> None:
    """api.allowed_origins (normalised when read) are accepted as well."""
    config = replace(CONFIG, api=replace(CONFIG.api, allowed_origins=(UI,)))
    client, _ = site_client(config)
    for origin in (b"https://ui.example.org", b"https://UI.example.org:443"):
        headers = {b"Content-Type": [b"application/json"], b"Origin": [origin]}
        code, answer = send(client, "POST", url, headers, {"branch": "main"})
        assert code == 400, answer


def test_reads_pass_whatever_their_origin_and_content_type() -> None:
    """GET is never refused by the guard."""
    client, _ = site_client()
    headers = {b"Content-Type": [b"text/plain"], b"Origin": [b"https://evil.example"]}
    response = result_of(client.get("http://ridad/health", headers=headers))
    assert response.code in (200, 503)
    result_of(response.content())


def test_request_without_host_has_no_own_origin() -> None:
    """Without a Host header every Origin is foreign (unless allowed)."""
    request = DummyRequest([b""])
    request.method = b"POST"
    request.requestHeaders.setRawHeaders(b"origin", [b"http://localhost"])
    assert own_origin(request) is None
    with pytest.raises(Forbidden):
        check_write(request, ())
    check_write(request, ("http://localhost",))


def upload_body(text: bytes) -> bytes:
    """A multipart form with scratch and a ``yaml`` file, boundary ``----x``."""
    return (
        b'------x\r\nContent-Disposition: form-data; name="scratch"\r\n\r\ntrue\r\n'
        b'------x\r\nContent-Disposition: form-data; name="yaml";'
        b' filename="tried.yaml"\r\n\r\n' + text + b"\r\n------x--\r\n"
    )


@BOTH
def test_a_multipart_upload_with_an_authorization_header_is_a_submission(
    url: str,
) -> None:
    """The modulemd file upload (MBS's yaml field) passes with credentials a
    browser never adds by itself; the Origin check still applies."""
    client, _ = site_client()
    form = {b"Content-Type": [b"multipart/form-data; boundary=----x"]}
    body = upload_body(modulemd())
    code, answer = send(client, "POST", url, form, body)
    assert code == 415, answer
    assert "Authorization" in answer["message"]
    authorized = {**form, b"Authorization": [b"Bearer token"]}
    foreign = {**authorized, b"Origin": [b"https://evil.example"]}
    code, answer = send(client, "POST", url, foreign, body)
    assert code == 403, answer
    no_file = body.split(b'------x\r\nContent-Disposition: form-data; name="yaml"')[0]
    code, answer = send(client, "POST", url, authorized, no_file + b"------x--\r\n")
    assert code == 400, answer
    assert "Invalid file submitted" in answer["message"]
    # Parsed and verified; only the (absent) database is left to record it.
    code, answer = send(client, "POST", url, authorized, body)
    assert code == 503, answer
