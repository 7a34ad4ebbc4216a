"""``auth.method: oidc``: bearer tokens checked by token introspection
(RFC 7662), the user's name and groups taken from configured claims.

A token is sent to the introspection endpoint with the client's id and
secret (HTTP Basic, RFC 6749 section 2.3.1). It must be active, not expired
and carry every required scope. When the introspection answer lacks the
user name or groups claim and ``userinfo_url`` is set, the userinfo
endpoint is asked with the token. Identities are cached, by a hash of the
token, until the token's ``exp`` but at most ``cache_seconds`` (so a token
revoked at the provider is refused soon); a token without ``exp`` is
checked on every request.

Identity providers close kept-alive connections when they like; a request
sent on one the provider has just closed gets no answer. Such a request is
sent once more on a new connection (``fresh_http``) before ridad gives up
with 503.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from treq.client import HTTPClient
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.web.client import RequestTransmissionFailed, ResponseNeverReceived
from twisted.web.http_headers import Headers
from twisted.web.iweb import IRequest

from ridad.api.auth import Identity, provider_identity
from ridad.api.inputs import load_json
from ridad.config.model import OidcConfig
from ridad.errors import Unauthorized, Unavailable

#: How many identities the cache keeps at most.
MAX_CACHED_TOKENS = 10000
BEARER_CHALLENGE = b'Bearer realm="ridad"'
INVALID_TOKEN = 'Bearer realm="ridad", error="invalid_token"'

#: Sends one request with the given client.
Send = Callable[[HTTPClient], "Deferred[Any]"]


@dataclass(frozen=True)
class _Cached:
    identity: Identity
    expires_at: float


class TokenIntrospectionAuthenticator:
    """Authenticates ``Authorization: Bearer`` tokens by introspection."""

    method = "oidc"
    log = Logger()

    def __init__(
        self,
        *,
        settings: OidcConfig,
        http: HTTPClient,
        clock: IReactorTime,
        fresh_http: HTTPClient | None = None,
        timeout_seconds: float = 10.0,
        max_cached: int = MAX_CACHED_TOKENS,
    ) -> None:
        """
        :param http: the client of the first attempt (persistent connections).
        :param fresh_http: the client of the one retry, which must open a new
            connection; ``http`` when None.
        """
        self._settings = settings
        self._http = http
        self._fresh_http = fresh_http or http
        self._clock = clock
        self._timeout_seconds = timeout_seconds
        self._max_cached = max_cached
        self._cache: dict[bytes, _Cached] = {}

    def challenge(self) -> Mapping[bytes, bytes]:
        """``WWW-Authenticate: Bearer`` (RFC 6750)."""
        return {b"WWW-Authenticate": BEARER_CHALLENGE}

    async def authenticate(self, request: IRequest) -> Identity | None:
        """The identity the request's bearer token stands for; None without one.

        :raises Unauthorized: the token is inactive, expired, lacks a
            required scope or names no user.
        :raises Unavailable: the introspection or userinfo endpoint cannot
            be reached or answers nonsense.
        """
        token = bearer_token(request.getHeader(b"authorization"))
        if token is None:
            return None
        key = hashlib.sha256(token.encode("utf-8")).digest()
        now = self._clock.seconds()
        cached = self._cache.get(key)
        if cached is not None and cached.expires_at > now:
            return cached.identity
        self._cache.pop(key, None)
        claims = await self._introspect(token)
        expires_at = self._check_claims(claims, now)
        identity = await self._identity(token, claims)
        if expires_at is not None and self._settings.cache_seconds > 0:
            until = min(expires_at, now + self._settings.cache_seconds)
            self._remember(key, _Cached(identity, until), now)
        return identity

    def _check_claims(self, claims: Mapping[str, Any], now: float) -> float | None:
        """The token's expiry time (None if it has none); refuse it if unusable."""
        if claims.get("active") is not True:
            raise _invalid_token("the token is not active (expired or revoked)")
        expires = claims.get("exp")
        if isinstance(expires, bool) or not isinstance(expires, (int, float)):
            expires = None
        elif expires <= now:
            raise _invalid_token("the token has expired")
        scopes = claims.get("scope", "")
        granted = set(scopes.split() if isinstance(scopes, str) else scopes or ())
        missing = sorted(set(self._settings.required_scopes) - granted)
        if missing:
            raise Unauthorized(
                "the token lacks the required scopes " + ", ".join(missing),
                details={
                    "www_authenticate": 'Bearer realm="ridad", error='
                    '"insufficient_scope", scope="'
                    + " ".join(self._settings.required_scopes)
                    + '"'
                },
            )
        return float(expires) if expires is not None else None

    async def _identity(self, token: str, claims: Mapping[str, Any]) -> Identity:
        """The user and groups from the claims, or from userinfo when missing."""
        name_claim = self._settings.username_claim
        groups_claim = self._settings.groups_claim
        if self._settings.userinfo_url and (
            name_claim not in claims or groups_claim not in claims
        ):
            userinfo = await self._userinfo(token)
            claims = {**userinfo, **claims}
        user = claims.get(name_claim)
        if not isinstance(user, str) or not user:
            self.log.warn(
                "An active token has no {claim} claim; check auth.oidc",
                claim=name_claim,
            )
            raise _invalid_token(f"the token names no user (no {name_claim} claim)")
        groups = claims.get(groups_claim) or []
        if not isinstance(groups, list):
            groups = [groups]
        return provider_identity(
            user,
            frozenset(g for g in groups if isinstance(g, str)),
            self.method,
            details={"www_authenticate": INVALID_TOKEN},
        )

    def _remember(self, key: bytes, entry: _Cached, now: float) -> None:
        """Cache ``entry``, dropping expired (then oldest) entries when full."""
        if len(self._cache) >= self._max_cached:
            for stale in [k for k, v in self._cache.items() if v.expires_at <= now]:
                del self._cache[stale]
            while len(self._cache) >= self._max_cached:
                del self._cache[next(iter(self._cache))]
        self._cache[key] = entry

    async def _introspect(self, token: str) -> Mapping[str, Any]:
        """The introspection endpoint's answer about ``token``."""
        settings = self._settings
        client = quote(settings.client_id, safe="")
        secret = quote(settings.client_secret, safe="")
        basic = base64.b64encode(f"{client}:{secret}".encode())
        headers = Headers(
            {b"Authorization": [b"Basic " + basic], b"Accept": [b"application/json"]}
        )
        return await self._fetch_json(
            "introspection",
            lambda http: http.post(
                settings.introspection_url,
                data={"token": token, "token_type_hint": "access_token"},
                headers=headers,
            ),
        )

    async def _userinfo(self, token: str) -> Mapping[str, Any]:
        """The userinfo endpoint's claims for ``token``."""
        url = self._settings.userinfo_url
        assert url is not None
        headers = Headers(
            {
                b"Authorization": [b"Bearer " + token.encode("utf-8")],
                b"Accept": [b"application/json"],
            }
        )
        return await self._fetch_json(
            "userinfo", lambda http: http.get(url, headers=headers)
        )

    async def _exchange(self, what: str, send: Send) -> tuple[int, bytes]:
        """The status and body of the answer to ``send``, sent at most twice.

        The second time goes over a new connection, and only when the first
        got no answer at all (a kept-alive connection the provider closed).
        """
        try:
            return await _read_response(send(self._http))
        except (ResponseNeverReceived, RequestTransmissionFailed) as e:
            if any(reason.check(CancelledError) for reason in e.reasons):
                raise
            self.log.info(
                "The OIDC {endpoint} endpoint dropped the connection without an"
                " answer; asking again on a new connection",
                endpoint=what,
            )
        return await _read_response(send(self._fresh_http))

    async def _fetch_json(self, what: str, send: Send) -> Mapping[str, Any]:
        """The JSON object of a 200 answer within the time limit.

        :raises Unavailable: anything else.
        """
        exchange = Deferred.fromCoroutine(self._exchange(what, send))
        timer = self._clock.callLater(self._timeout_seconds, exchange.cancel)
        try:
            code, body = await exchange
        except Exception as e:
            self.log.warn(
                "The OIDC {endpoint} endpoint cannot be reached: {reason}",
                endpoint=what,
                reason=f"{type(e).__name__}: {e}",
            )
            raise Unavailable(
                f"the {what} endpoint of the identity provider cannot be reached;"
                " retry later"
            ) from None
        finally:
            if timer.active():
                timer.cancel()
        if code != 200:
            self.log.error(
                "The OIDC {endpoint} endpoint answered HTTP {status}",
                endpoint=what,
                status=code,
            )
            raise Unavailable(
                f"the {what} endpoint of the identity provider refused ridad's"
                f" request (HTTP {code}); retry later"
            )
        try:
            value = load_json(body)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            self.log.error(
                "The OIDC {endpoint} endpoint answered no JSON object", endpoint=what
            )
            raise Unavailable(f"the {what} endpoint answered nonsense; retry later")
        return value


async def _read_response(sent: Deferred[Any]) -> tuple[int, bytes]:
    """The status and body of a treq response."""
    response = await sent
    body: bytes = await response.content()
    return response.code, body


def bearer_token(header: bytes | None) -> str | None:
    """The token of an ``Authorization: Bearer`` header; None for another scheme.

    :raises Unauthorized: a Bearer header without a (printable ASCII) token.
    """
    if header is None:
        return None
    scheme, _, rest = header.strip().partition(b" ")
    if scheme.lower() != b"bearer":
        return None
    token = rest.strip()
    if not token or not token.isascii() or not token.decode("ascii").isprintable():
        raise _invalid_token("the bearer token is empty or malformed")
    return token.decode("ascii")


def _invalid_token(message: str) -> Unauthorized:
    return Unauthorized(message, details={"www_authenticate": INVALID_TOKEN})
