"""The client of the MBS-compatible API v2 (``<server>/module-build-service/2/``).

Every failure becomes a ``ServerError`` (the server's ``message`` and what
to do) or a ``NetworkError`` (what went wrong on the way, and what to check).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode, urlsplit

from OpenSSL import SSL
from treq.client import HTTPClient
from twisted.internet.defer import CancelledError
from twisted.internet.error import (
    ConnectError,
    ConnectingCancelledError,
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
)
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure
from twisted.web.client import RequestTransmissionFailed, ResponseFailed
from twisted.web.http_headers import Headers

from ridad import __version__
from ridad.cli.auth import TokenMaker
from ridad.cli.exits import NetworkError, ServerError
from ridad.cli.settings import Settings

REQUEST_TIMEOUT_SECONDS = 120.0
PER_PAGE = 100
USER_AGENT = f"rida/{__version__}".encode("ascii")
_NETWORK_FAILURES = (
    ConnectError,
    DNSLookupError,
    ResponseFailed,
    RequestTransmissionFailed,
    CancelledError,
    ConnectingCancelledError,
    TimeoutError,
    SSL.Error,
)


class MbsClient:
    """Requests to one server's MBS API v2, with the user's credentials.

    A 401 carrying ``WWW-Authenticate: Negotiate`` is answered once with a
    Kerberos token from ``token_maker``.
    """

    def __init__(
        self,
        *,
        http: HTTPClient,
        settings: Settings,
        clock: IReactorTime,
        token_maker: TokenMaker,
        timeout_seconds: float = REQUEST_TIMEOUT_SECONDS,
    ) -> None:
        self._http = http
        self._settings = settings
        self._clock = clock
        self._token_maker = token_maker
        self._timeout_seconds = timeout_seconds
        self._components_missing = False

    @property
    def server(self) -> str:
        """The server's URL as the user gave it."""
        return self._settings.server

    async def about(self) -> dict[str, Any]:
        """``GET about/``: what the server is."""
        return _mapping(await self.request("GET", "about/"), "about/")

    async def submit(self, scmurl: str, branch: str) -> list[dict[str, Any]]:
        """``POST module-builds/``: the builds created (v2 answers a list).

        :raises ServerError: the server refused the submission.
        """
        answer = await self.request(
            "POST",
            "module-builds/",
            body={"scmurl": scmurl, "branch": branch, "scratch": False},
        )
        builds = answer if isinstance(answer, list) else [answer]
        return [_build(b, "module-builds/") for b in builds]

    async def build(self, build_id: int, *, verbose: bool = False) -> dict[str, Any]:
        """``GET module-builds/ID``, with ``verbose=true`` when asked."""
        path = f"module-builds/{build_id}"
        params = {"verbose": "true"} if verbose else None
        return _build(await self.request("GET", path, params=params), path)

    async def cancel(self, build_id: int) -> dict[str, Any]:
        """``PATCH module-builds/ID {"state": "failed"}``: the canceled build."""
        path = f"module-builds/{build_id}"
        answer = await self.request("PATCH", path, body={"state": "failed"})
        return _build(answer, path)

    async def retire(self, build_id: int) -> dict[str, Any]:
        """``PATCH module-builds/ID {"state": "garbage"}``: the retired build."""
        path = f"module-builds/{build_id}"
        answer = await self.request("PATCH", path, body={"state": "garbage"})
        return _build(answer, path)

    async def builds(
        self,
        *,
        states: Sequence[str] = (),
        owner: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """``GET module-builds/``, newest first, page after page while there
        is a next one (and fewer than ``limit`` builds so far)."""
        params: dict[str, Any] = {"order_desc_by": "id"}
        if states:
            params["state"] = list(states)
        if owner:
            params["owner"] = owner
        per_page = min(limit, PER_PAGE) if limit else PER_PAGE
        items = await self._pages("module-builds/", params, per_page, limit)
        return [_build(item, "module-builds/") for item in items]

    async def components(self, build_id: int) -> list[dict[str, Any]] | None:
        """The component builds of a module build, with their batches.

        None when the server has no ``component-builds/`` (it answered 404
        once; it is not asked again).
        """
        if self._components_missing:
            return None
        params = {"module_build": str(build_id), "verbose": "true"}
        try:
            items = await self._pages("component-builds/", params, PER_PAGE, None)
        except ServerError as exc:
            if exc.status != HTTPStatus.NOT_FOUND:
                raise
            self._components_missing = True
            return None
        return [_mapping(item, "component-builds/") for item in items]

    async def _pages(
        self, path: str, params: dict[str, Any], per_page: int, limit: int | None
    ) -> list[Any]:
        items: list[Any] = []
        page = 1
        while True:
            query = {**params, "per_page": str(per_page), "page": str(page)}
            answer = _mapping(await self.request("GET", path, params=query), path)
            found, meta = answer.get("items"), answer.get("meta")
            if not isinstance(found, list) or not isinstance(meta, dict):
                raise _unexpected(path, "a page without items and meta")
            items.extend(found)
            if limit and len(items) >= limit:
                return items[:limit]
            if not found or not meta.get("next"):
                return items
            page += 1

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | list[str]] | None = None,
        body: Any = None,
    ) -> Any:
        """The decoded JSON answer of ``method path`` (relative to the API).

        :raises ServerError: an error status or an answer that is not JSON.
        :raises NetworkError: the server could not be reached.
        """
        url = self._settings.api_url + path
        if params:
            url += "?" + urlencode(params, doseq=True)
        data = None if body is None else json.dumps(body).encode("utf-8")
        authorization = None
        if self._settings.token:
            authorization = b"Bearer " + self._settings.token.encode("utf-8")
        code, headers, content = await self._send(method, url, data, authorization)
        negotiated = False
        if code == HTTPStatus.UNAUTHORIZED and _asks_negotiate(headers):
            host = urlsplit(url).hostname or ""
            token = base64.b64encode(await self._token_maker(host))
            code, headers, content = await self._send(
                method, url, data, b"Negotiate " + token
            )
            negotiated = True
        return self._decode(method, url, code, headers, content, negotiated)

    async def _send(
        self, method: str, url: str, data: bytes | None, authorization: bytes | None
    ) -> tuple[int, Mapping[bytes, list[bytes]], bytes]:
        headers = Headers(
            {b"Accept": [b"application/json"], b"User-Agent": [USER_AGENT]}
        )
        if data is not None:
            headers.setRawHeaders(b"Content-Type", [b"application/json"])
        if authorization is not None:
            headers.setRawHeaders(b"Authorization", [authorization])
        try:
            response = await self._http.request(
                method,
                url,
                data=data,
                headers=headers,
                reactor=self._clock,
                timeout=self._timeout_seconds,
            )
            content = await response.content()
        except _NETWORK_FAILURES as exc:
            raise self._network_error(exc) from None
        received = {
            name.lower(): values for name, values in response.headers.getAllRawHeaders()
        }
        return response.code, received, content

    def _decode(
        self,
        method: str,
        url: str,
        code: int,
        headers: Mapping[bytes, list[bytes]],
        content: bytes,
        negotiated: bool,
    ) -> Any:
        try:
            answer = json.loads(content)
        except ValueError:
            answer = _NOT_JSON
        if 200 <= code < 300 and answer is not _NOT_JSON:
            return answer
        if answer is _NOT_JSON:
            kind = _header(headers, b"content-type") or "no content type"
            raise ServerError(
                f"{method} {url} answered {code} {_reason(code)} with {kind}, not"
                f" JSON: is {self.server} a ridad or MBS server? check --server",
                status=code,
                transient=code >= 500,
            )
        message = _message(answer) or f"{method} {url} failed"
        raise ServerError(
            f"{code} {_reason(code)}: {message}"
            + _advice(code, headers, negotiated, self._settings),
            status=code,
            transient=code >= 500,
        )

    def _network_error(self, exc: BaseException) -> NetworkError:
        server = self.server
        for cause in _causes(exc):
            if isinstance(cause, ConnectionRefusedError):
                return NetworkError(
                    f"cannot reach {server}: connection refused;"
                    " is ridad running? check --server"
                )
            if isinstance(cause, DNSLookupError):
                host = urlsplit(server).hostname
                return NetworkError(
                    f"cannot reach {server}: unknown host {host}; check --server"
                )
            if isinstance(cause, SSL.Error):
                return NetworkError(
                    f"TLS with {server} failed ({_ssl_text(cause)}); check --ca,"
                    " --cert and --key"
                )
            if isinstance(
                cause,
                CancelledError
                | ConnectingCancelledError
                | TimeoutError
                | TCPTimedOutError,
            ):
                return NetworkError(
                    f"no answer from {server} within {self._timeout_seconds:g} s;"
                    " is it overloaded, or behind a firewall? check --server"
                )
            if isinstance(cause, ConnectionLost | ConnectionDone):
                return NetworkError(
                    f"{server} closed the connection without answering; is it"
                    " an HTTP server (http:// or https://)? check --server"
                )
        texts = [
            str(c) or type(c).__name__
            for c in _causes(exc)
            if not hasattr(c, "reasons")
        ]
        text = "; ".join(texts) or type(exc).__name__
        return NetworkError(f"talking to {server} failed: {text}; check --server")


_NOT_JSON = object()


def _causes(exc: BaseException) -> Iterable[BaseException]:
    """``exc`` and the reasons wrapped in it (``ResponseFailed.reasons``)."""
    yield exc
    for reason in getattr(exc, "reasons", ()):
        if isinstance(reason, Failure):
            yield from _causes(reason.value)


def _ssl_text(error: BaseException) -> str:
    details = error.args[0] if error.args else None
    if isinstance(details, list) and details and isinstance(details[0], tuple):
        return "; ".join(str(part[-1]) for part in details)
    return str(error) or type(error).__name__


def _asks_negotiate(headers: Mapping[bytes, list[bytes]]) -> bool:
    for value in headers.get(b"www-authenticate", []):
        for challenge in value.split(b","):
            if challenge.strip().lower().startswith(b"negotiate"):
                return True
    return False


def _header(headers: Mapping[bytes, list[bytes]], name: bytes) -> str | None:
    values = headers.get(name)
    return values[0].decode("latin-1") if values else None


def _reason(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def _message(answer: Any) -> str | None:
    if isinstance(answer, dict):
        message = answer.get("message") or answer.get("error")
        if isinstance(message, str) and message:
            return message
    return None


def _advice(
    code: int,
    headers: Mapping[bytes, list[bytes]],
    negotiated: bool,
    settings: Settings,
) -> str:
    """What the user can do about an error status, as a sentence to append."""
    if code == HTTPStatus.UNAUTHORIZED:
        if negotiated:
            return "; the server refused your Kerberos ticket: run kinit and retry"
        if settings.token:
            return "; the server refused the token: check --token or RIDA_TOKEN"
        return "; log in: kinit, or pass --token (or set RIDA_TOKEN)"
    if code >= 500:
        retry_after = _header(headers, b"retry-after")
        when = f"in {retry_after} s" if retry_after else "later"
        return f"; the server could not do it now: try again {when}"
    return ""


def _unexpected(path: str, what: str) -> ServerError:
    return ServerError(
        f"unexpected answer to {path}: {what}; is the server MBS API v2?",
        status=None,
        transient=False,
    )


def _mapping(answer: Any, path: str) -> dict[str, Any]:
    if not isinstance(answer, dict):
        raise _unexpected(path, f"expected a JSON object, got {type(answer).__name__}")
    return answer


def _build(answer: Any, path: str) -> dict[str, Any]:
    build = _mapping(answer, path)
    if not isinstance(build.get("id"), int):
        raise _unexpected(path, "a module build without an id")
    return build
