"""Token introspection without sockets: the fake identity provider through
StubTreq and a ``task.Clock``, for what depends on time (the cache)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from treq.testing import StubTreq
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.web.test.requesthelper import DummyRequest

from ridad.api.auth_oidc import TokenIntrospectionAuthenticator, bearer_token
from ridad.config.model import OidcConfig
from ridad.errors import Unauthorized, Unavailable
from tests.auth.introspection import CLIENT_ID, CLIENT_SECRET, FakeIdentityProvider
from tests.helpers import failure_of, result_of

START = 1_000_000.0


def authenticator(
    provider: FakeIdentityProvider, clock: Clock, **settings: Any
) -> TokenIntrospectionAuthenticator:
    """An authenticator talking to ``provider`` in memory."""
    values: dict[str, Any] = {
        "introspection_url": "https://id.example.org/introspect",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "required_scopes": ("https://rida.example.org/submit",),
    }
    values.update(settings)
    return TokenIntrospectionAuthenticator(
        settings=OidcConfig(**values),
        http=StubTreq(provider.app.resource()),
        clock=clock,
        max_cached=3,
    )


def request_with(header: bytes | None) -> DummyRequest:
    """A request carrying ``Authorization: header``."""
    request = DummyRequest([b""])
    if header is not None:
        request.requestHeaders.setRawHeaders(b"authorization", [header])
    return request


def authenticate(auth: TokenIntrospectionAuthenticator, token: str) -> Any:
    """The Deferred outcome of authenticating a bearer ``token``."""
    request = request_with(b"Bearer " + token.encode())
    return Deferred.fromCoroutine(auth.authenticate(request))


def test_identity_is_cached_until_the_token_expires() -> None:
    """A token is introspected once, then again only after its exp."""
    provider, clock = FakeIdentityProvider(), Clock()
    clock.advance(START)
    provider.add_token("t", username="alice", groups=["packager"], exp=START + 60)
    auth = authenticator(provider, clock)
    first = result_of(authenticate(auth, "t"))
    assert (first.user, first.groups, first.method) == (
        "alice",
        frozenset({"packager"}),
        "oidc",
    )
    clock.advance(59)
    assert result_of(authenticate(auth, "t")) == first
    assert provider.introspections == ["t"]
    clock.advance(1)
    provider.tokens["t"]["active"] = False
    failure_of(authenticate(auth, "t"), Unauthorized)
    assert provider.introspections == ["t", "t"]


def test_revoked_token_is_refused_once_cache_seconds_pass() -> None:
    """A token valid for years is trusted 60 s (auth.oidc.cache_seconds) at most."""
    provider, clock = FakeIdentityProvider(), Clock()
    clock.advance(START)
    provider.add_token("t", username="alice", exp=START + 10 * 365 * 86400)
    auth = authenticator(provider, clock)
    result_of(authenticate(auth, "t"))
    provider.tokens["t"]["active"] = False  # revoked at the provider
    clock.advance(59)
    assert result_of(authenticate(auth, "t")).user == "alice"
    assert provider.introspections == ["t"]
    clock.advance(1)
    failure = failure_of(authenticate(auth, "t"), Unauthorized)
    assert "not active" in failure.value.message
    assert provider.introspections == ["t", "t"]


def test_cache_seconds_zero_introspects_every_request() -> None:
    """With cache_seconds 0 nothing is cached, whatever the token's exp."""
    provider, clock = FakeIdentityProvider(), Clock()
    clock.advance(START)
    provider.add_token("t", username="alice", exp=START + 3600)
    auth = authenticator(provider, clock, cache_seconds=0)
    result_of(authenticate(auth, "t"))
    result_of(authenticate(auth, "t"))
    assert provider.introspections == ["t", "t"]


def test_reserved_user_name_is_401_invalid_token() -> None:
    """A provider user called <anonymous> (ridad's own name) cannot log in."""
    provider, clock = FakeIdentityProvider(), Clock()
    clock.advance(START)
    provider.add_token("t", username="<anonymous>", exp=START + 3600)
    auth = authenticator(provider, clock)
    for _ in range(2):
        failure = failure_of(authenticate(auth, "t"), Unauthorized)
        assert "'<anonymous>' is reserved" in failure.value.message
        assert failure.value.details == {
            "www_authenticate": 'Bearer realm="ridad", error="invalid_token"'
        }
    assert provider.introspections == ["t", "t"]


def test_expired_exp_is_refused_even_when_active() -> None:
    """An ``exp`` in the past is refused although the provider says active."""
    provider, clock = FakeIdentityProvider(), Clock()
    clock.advance(START)
    provider.add_token("old", username="alice", exp=START - 1)
    failure = failure_of(authenticate(authenticator(provider, clock), "old"))
    assert failure.value.message == "the token has expired"


def test_token_without_exp_is_introspected_every_time() -> None:
    """Without ``exp`` nothing is cached: a revocation is seen at once."""
    provider, clock = FakeIdentityProvider(), Clock()
    provider.add_token("t", username="alice")
    auth = authenticator(provider, clock)
    result_of(authenticate(auth, "t"))
    result_of(authenticate(auth, "t"))
    assert provider.introspections == ["t", "t"]


def test_cache_stays_bounded() -> None:
    """More live tokens than the cache holds evict the oldest entry."""
    provider, clock = FakeIdentityProvider(), Clock()
    for n in range(5):
        provider.add_token(f"t{n}", username=f"u{n}", exp=START)
    auth = authenticator(provider, clock)
    for n in range(5):
        result_of(authenticate(auth, f"t{n}"))
    result_of(authenticate(auth, "t4"))
    result_of(authenticate(auth, "t0"))
    assert provider.introspections == ["t0", "t1", "t2", "t3", "t4", "t0"]


def test_custom_claims_name_the_user_and_groups() -> None:
    """``username_claim`` and ``groups_claim`` pick the claims to read."""
    provider, clock = FakeIdentityProvider(), Clock()
    provider.add_token("t", username="", preferred="alice", roles="packager")
    auth = authenticator(
        provider, clock, username_claim="preferred", groups_claim="roles"
    )
    identity = result_of(authenticate(auth, "t"))
    assert (identity.user, identity.groups) == ("alice", frozenset({"packager"}))


def test_token_naming_no_user_is_401() -> None:
    """An active token without the username claim is refused."""
    provider, clock = FakeIdentityProvider(), Clock()
    provider.add_token("t", username="")
    failure = failure_of(authenticate(authenticator(provider, clock), "t"))
    assert "no username claim" in failure.value.message


def test_silent_introspection_endpoint_times_out_as_503() -> None:
    """An endpoint that never answers gives Unavailable after the time limit."""
    provider, clock = FakeIdentityProvider(), Clock()
    auth = authenticator(
        provider, clock, introspection_url="https://id.example.org/hang"
    )
    outcome = authenticate(auth, "t")
    assert not outcome.called
    clock.advance(10)
    failure = failure_of(outcome, Unavailable)
    assert "cannot be reached" in failure.value.message


def test_other_schemes_are_no_credentials() -> None:
    """Basic or Negotiate headers count as no bearer token at all."""
    provider, clock = FakeIdentityProvider(), Clock()
    auth = authenticator(provider, clock)
    for header in (None, b"Basic YTpi", b"Negotiate abc"):
        request = request_with(header)
        assert result_of(Deferred.fromCoroutine(auth.authenticate(request))) is None
    assert provider.introspections == []


@pytest.mark.parametrize("header", [b"Bearer", b"Bearer   ", b"bearer \xff\xfe"])
def test_empty_or_binary_bearer_token_is_401(header: bytes) -> None:
    """A Bearer header without a printable token is bad credentials."""
    with pytest.raises(Unauthorized):
        bearer_token(header)


@given(st.binary(max_size=40))
def test_bearer_parsing_raises_only_unauthorized(header: bytes) -> None:
    """Any header value gives a token, None, or Unauthorized."""
    try:
        token = bearer_token(header)
    except Unauthorized:
        return
    assert token is None or (token and token.isprintable())
