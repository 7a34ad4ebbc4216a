"""The four write routes (``POST`` and ``PATCH`` of ``/rida/`` and of the
MBS API) refuse JSON nested deeper than ``MAX_JSON_DEPTH`` and body text
with a NUL or a lone surrogate with a JSON 400, and a user name that is not
clean text with a JSON 401, whatever the authentication method.

In process, on a pool that is never started (as in test_api_inputs.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from OpenSSL import crypto
from treq.testing import StubTreq
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import ISSLTransport
from twisted.internet.task import Clock
from twisted.web.iweb import IRequest
from twisted.web.test.requesthelper import DummyRequest
from zope.interface import implementer

from ridad.api.auth import Identity, require_identity
from ridad.api.auth_oidc import TokenIntrospectionAuthenticator
from ridad.api.auth_ssl import ClientCertificateAuthenticator
from ridad.api.inputs import MAX_JSON_DEPTH, json_too_deep
from ridad.config.model import OidcConfig
from ridad.db.pool import Pool
from ridad.errors import Unauthorized
from tests.auth.certs import issue
from tests.auth.introspection import CLIENT_ID, CLIENT_SECRET, FakeIdentityProvider
from tests.helpers import failure_of, result_of
from tests.unit.api.support import GIT, JSON, Apps, make_apps

HOST = "http://ridad"
SCMURL = f"{GIT}/modules/demo.git?#main"
#: (method, path, a body the route accepts up to the database, where a
#: body field's problem is reported).
WRITE_ROUTES = [
    ("POST", "/rida/module-builds/", {"scmurl": SCMURL}, "fields"),
    ("PATCH", "/rida/module-builds/1", {"state": "failed"}, "fields"),
    (
        "POST",
        "/module-build-service/1/module-builds/",
        {"scmurl": SCMURL, "branch": "main"},
        "parameters",
    ),
    ("PATCH", "/module-build-service/2/module-builds/1", {"state": "failed"}, "fields"),
]
DEEP = 50_000
DEEP_BODIES = {
    "arrays": "[" * DEEP + "]" * DEEP,
    "objects": '{"a":' * DEEP + "1" + "}" * DEEP,
    "unclosed": "[" * DEEP,
    "in a member": '{"scmurl": ' + "[" * DEEP + "]" * DEEP + "}",
    "one too deep": "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1),
}
#: Body text PostgreSQL or psycopg2 cannot take, as JSON escapes.
BAD_FIELD_TEXT = {
    "NUL": ("main\\u0000", "NUL"),
    "only NUL": ("\\u0000", "NUL"),
    "high surrogate": ("\\ud800main", "surrogate"),
    "low surrogate": ("main\\udfff", "surrogate"),
}
BAD_USERS = (
    "a\x00b",
    "\ud800",
    "b\udfff",
    "",
    "a\x1bb",
    "tab\tuser",
    "c\x85",
    "u" * 256,
)


def answer(client: StubTreq, method: str, path: str, body: bytes) -> Any:
    """Status and JSON body of ``method path`` with ``body``."""
    response = result_of(client.request(method, HOST + path, data=body, headers=JSON))
    assert response.headers.getRawHeaders(b"content-type") == [b"application/json"]
    document = result_of(response.json())
    assert document["status"] == response.code
    return response.code, document


def client_of(apps: Apps, path: str) -> StubTreq:
    """The app serving ``path``."""
    return apps.rida if path.startswith("/rida/") else apps.mbs


@pytest.fixture
def apps() -> Apps:
    """Both apps on a pool that is never started, users anonymous."""
    clock = Clock()
    return make_apps(Pool(dsn="host=/nonexistent", reactor=clock, size=1), clock=clock)


@pytest.mark.parametrize("kind", list(DEEP_BODIES))
@pytest.mark.parametrize("method, path, _body, _where", WRITE_ROUTES)
def test_json_nested_50000_deep_is_400(
    apps: Apps, method: str, path: str, _body: Any, _where: str, kind: str
) -> None:
    """No RecursionError: the depth is checked before parsing."""
    raw = DEEP_BODIES[kind].encode()
    code, body = answer(client_of(apps, path), method, path, raw)
    assert code == 400
    assert f"deeper than {MAX_JSON_DEPTH} levels" in body["details"]["body"]


@pytest.mark.parametrize("method, path, _body, _where", WRITE_ROUTES)
def test_json_at_the_depth_limit_is_parsed(
    apps: Apps, method: str, path: str, _body: Any, _where: str
) -> None:
    """64 levels parse (then the body is refused for not being an object);
    brackets inside strings do not count."""
    raw = ("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH).encode()
    code, body = answer(client_of(apps, path), method, path, raw)
    assert (code, body["message"]) == (400, "the body must be a JSON object")
    raw = json.dumps({"state": "[{" * DEEP}).encode()
    code, body = answer(client_of(apps, path), method, path, raw)
    assert code == 400 and "body" not in body.get("details", {})


def test_depth_scan_skips_strings_and_escapes() -> None:
    """Quotes escaped inside strings do not end them; brackets in them do
    not count."""
    limit = 2
    assert not json_too_deep('[["[[[[", "\\"[[[["]]', limit)
    assert not json_too_deep('[["\\\\", "a"], [1]]', limit)
    assert json_too_deep('[[["\\\\"]]]', limit)
    assert json_too_deep('[[[ "x" ]]]', limit)


@pytest.mark.parametrize("kind", list(BAD_FIELD_TEXT))
@pytest.mark.parametrize("method, path, accepted, where", WRITE_ROUTES)
def test_body_text_with_nul_or_surrogate_is_400_naming_the_field(
    apps: Apps,
    method: str,
    path: str,
    accepted: dict[str, str],
    where: str,
    kind: str,
) -> None:
    """Every string field of every write route: 400 naming the field."""
    text, problem = BAD_FIELD_TEXT[kind]
    for field in accepted:
        members = [f'"{k}": "{text if k == field else v}"' for k, v in accepted.items()]
        raw = ("{" + ", ".join(members) + "}").encode()
        code, body = answer(client_of(apps, path), method, path, raw)
        assert code == 400, (field, body)
        if method == "POST":
            assert problem in body["details"][where][field]


@pytest.mark.parametrize("method, path, accepted, where", WRITE_ROUTES)
def test_an_unknown_field_name_with_nul_is_named_escaped(
    apps: Apps, method: str, path: str, accepted: dict[str, str], where: str
) -> None:
    """The name of an unknown field is shown with its NUL escaped."""
    raw = json.dumps({**accepted, "x\x00": "y"}).encode()
    code, body = answer(client_of(apps, path), method, path, raw)
    assert code == 400
    if method == "POST":
        assert "x\\x00" in body["details"][where]


class FixedUser:
    """An authenticator whose every request is user ``user``."""

    method = "oidc"

    def __init__(self, user: str) -> None:
        self.user = user

    async def authenticate(self, request: IRequest) -> Identity | None:
        """Always ``user``."""
        return Identity(user=self.user, method=self.method)

    def challenge(self) -> Mapping[bytes, bytes]:
        """The Bearer challenge."""
        return {b"WWW-Authenticate": b"Bearer"}


@pytest.mark.parametrize("user", BAD_USERS)
@pytest.mark.parametrize("method, path, accepted, _where", WRITE_ROUTES)
def test_a_user_name_that_is_not_clean_text_is_401(
    method: str, path: str, accepted: dict[str, str], _where: str, user: str
) -> None:
    """NUL, lone surrogates, control characters or nothing: 401 in JSON,
    with the challenge, before the body or the database are looked at."""
    clock = Clock()
    apps = make_apps(
        Pool(dsn="host=/nonexistent", reactor=clock, size=1),
        clock=clock,
        authenticator=FixedUser(user),
    )
    client = client_of(apps, path)
    response = result_of(
        client.request(
            method, HOST + path, data=json.dumps(accepted).encode(), headers=JSON
        )
    )
    body = result_of(response.json())
    assert (response.code, body["status"]) == (401, 401)
    assert response.headers.getRawHeaders(b"www-authenticate") == [b"Bearer"]
    assert body["details"]["user"] == "".join(
        c if c.isprintable() else ascii(c)[1:-1] for c in user
    )


@pytest.mark.parametrize("user", ["a\x00b", "\ud800", "alice\udfff"])
def test_oidc_user_names_with_nul_or_surrogates_are_401(user: str) -> None:
    """The identity provider's JSON carries ``\\u0000`` or ``\\ud800``: 401."""
    provider, clock = FakeIdentityProvider(), Clock()
    provider.add_token("t", username=user, groups=["packager"])
    oidc = TokenIntrospectionAuthenticator(
        settings=OidcConfig(
            introspection_url="https://id.example.org/introspect",
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
        ),
        http=StubTreq(provider.app.resource()),
        clock=clock,
    )
    apps = make_apps(
        Pool(dsn="host=/nonexistent", reactor=clock, size=1),
        clock=clock,
        authenticator=oidc,
    )
    headers = {**JSON, b"Authorization": [b"Bearer t"]}
    for client, path in (
        (apps.rida, "/rida/module-builds/"),
        (apps.mbs, "/module-build-service/2/module-builds/"),
    ):
        response = result_of(
            client.post(
                HOST + path,
                data=json.dumps({"scmurl": SCMURL}).encode(),
                headers=headers,
            )
        )
        body = result_of(response.json())
        assert (response.code, body["status"]) == (401, 401)
        assert "NUL" in body["message"] or "surrogate" in body["message"]


def test_an_oidc_answer_nested_deeper_than_the_limit_is_503() -> None:
    """An introspection answer nested 50,000 deep is nonsense (503), not a
    RecursionError."""
    provider, clock = FakeIdentityProvider(), Clock()
    provider.add_token("t", username="alice")
    provider.raw_introspection = ("[" * DEEP + "]" * DEEP).encode()
    oidc = TokenIntrospectionAuthenticator(
        settings=OidcConfig(
            introspection_url="https://id.example.org/introspect",
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
        ),
        http=StubTreq(provider.app.resource()),
        clock=clock,
    )
    request = DummyRequest([b""])
    request.requestHeaders.setRawHeaders(b"authorization", [b"Bearer t"])
    failure = failure_of(Deferred.fromCoroutine(require_identity(request, oidc)))
    assert "nonsense" in failure.value.message


@implementer(ISSLTransport)
class CertificateTransport:
    """A TLS transport whose verified peer certificate is ``certificate``."""

    def __init__(self, certificate: crypto.X509) -> None:
        self.certificate = certificate

    def getPeerCertificate(self) -> crypto.X509:
        """The client certificate."""
        return self.certificate


def certificate_request(der: bytes) -> DummyRequest:
    """A request over a TLS connection that presented the DER certificate."""
    request = DummyRequest([b""])
    certificate = crypto.load_certificate(crypto.FILETYPE_ASN1, der)
    request.channel = SimpleNamespace(transport=CertificateTransport(certificate))
    return request


@pytest.mark.parametrize(
    "cn, encoded, reason",
    [
        ("a\x00b", None, "must not contain NUL"),
        ("ZZZ", b"\x13\x03a\x00b", "subject is not valid text"),
        ("ZZZ", b"\x14\x03\xff\x00\x80", "subject is not valid text"),
    ],
)
def test_certificate_cns_that_are_not_clean_text_are_401(
    cn: str, encoded: bytes | None, reason: str
) -> None:
    """A UTF8String CN with a NUL, and a PrintableString with a NUL or a
    T61String that OpenSSL accepts but ``cryptography`` cannot read: 401."""
    der = issue(cn).cert.public_bytes(serialization.Encoding.DER)
    if encoded is not None:
        der = der.replace(b"\x0c\x03ZZZ", encoded)
    authenticator = ClientCertificateAuthenticator(groups={})
    failure = failure_of(
        Deferred.fromCoroutine(
            require_identity(certificate_request(der), authenticator)
        ),
        Unauthorized,
    )
    assert reason in failure.value.message


def test_a_user_name_of_255_characters_is_accepted() -> None:
    """The longest user name passes authentication (the submission then
    fails on the missing repository, 422)."""
    clock = Clock()
    apps = make_apps(
        Pool(dsn="host=/nonexistent", reactor=clock, size=1),
        clock=clock,
        authenticator=FixedUser("u" * 255),
    )
    raw = json.dumps({"scmurl": SCMURL}).encode()
    code, body = answer(apps.rida, "POST", "/rida/module-builds/", raw)
    assert code == 422, body
