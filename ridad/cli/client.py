"""The client of the MBS-compatible API v2 (``<server>/module-build-service/2/``).

Every failure becomes a ``ServerError`` (the server's ``message`` and what
to do) or a ``NetworkError`` (what went wrong on the way, and what to check).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode, urlsplit

from treq.client import HTTPClient
from twisted.internet.interfaces import IReactorTime
from twisted.web.http_headers import Headers

from ridad import __version__
from ridad.cli.auth import TokenMaker
from ridad.cli.exits import ServerError
from ridad.cli.failures import NETWORK_FAILURES, network_error
from ridad.cli.settings import Settings

REQUEST_TIMEOUT_SECONDS = 120.0
PER_PAGE = 100
USER_AGENT = f"rida/{__version__}".encode("ascii")
JSON_TYPE = b"application/json"
YAML_TYPE = b"application/yaml"


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

    async def submit(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``POST module-builds/`` with MBS's fields (``scmurl``, ``branch``,
        ``scratch``, ``modulemd``, ``srpms``...): the builds created (v2
        answers a list; v1 one build).

        :raises ServerError: the server refused the submission.
        """
        answer = await self.request("POST", "module-builds/", body=dict(body))
        builds = answer if isinstance(answer, list) else [answer]
        return [_build(b, "module-builds/") for b in builds]

    async def import_module(self, body: Mapping[str, str]) -> dict[str, Any]:
        """``POST import-module/`` with ``{"scmurl"}`` or ``{"modulemd"}``:
        MBS's answer, ``{"module": ..., "messages": [...]}``.

        :raises ServerError: the server refused the import.
        """
        answer = _mapping(
            await self.request("POST", "import-module/", body=dict(body)),
            "import-module/",
        )
        _build(answer.get("module"), "import-module/")
        return answer

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
        """The decoded JSON answer of ``method path`` (relative to the API;
        from the server's root when it starts with ``/``).

        :raises ServerError: an error status or an answer that is not JSON.
        :raises NetworkError: the server could not be reached.
        """
        base = self.server if path.startswith("/") else self._settings.api_url
        url = _with_query(base + path, params)
        data = None if body is None else json.dumps(body).encode("utf-8")
        answer = await self._exchange(method, url, data, JSON_TYPE)
        return self._decode(method, url, *answer)

    async def seed_build(self, build_id: int) -> dict[str, Any] | None:
        """``GET <server>/rida/module-builds/ID``, ridad's own view of a build
        (its artifacts and Koji build); None from a server without that API
        (MBS answers 404 there).

        :raises ServerError: any other error status.
        """
        path = f"/rida/module-builds/{build_id}"
        url = self.server + path
        try:
            answer = self._decode("GET", url, *await self._exchange("GET", url))
        except ServerError as exc:
            if exc.status == HTTPStatus.NOT_FOUND:
                return None
            raise
        return _build(answer, path)

    async def modulemd(self, build_id: int, arch: str | None = None) -> bytes:
        """``GET <server>/rida/module-builds/ID/modulemd[?arch=A]``: the final
        modulemd as ridad stores it, bytes as they came.

        :raises ServerError: an error status (404: none yet, or not for
            that arch; the server's message says which).
        """
        params = {"arch": arch} if arch else None
        url = _with_query(
            f"{self.server}/rida/module-builds/{build_id}/modulemd", params
        )
        code, headers, content, negotiated = await self._exchange(
            "GET", url, None, YAML_TYPE
        )
        if 200 <= code < 300:
            return content
        self._decode("GET", url, code, headers, content, negotiated)
        raise _unexpected(url, f"status {code}")

    async def event_stream(self, path: str, last_event_id: str | None) -> Any:
        """Open ``GET <server><path>`` as an event stream (unbuffered,
        ``Last-Event-ID`` when resuming): treq's response, body unread.

        :raises NetworkError: the server could not be reached.
        """
        headers = Headers(
            {b"Accept": [b"text/event-stream"], b"User-Agent": [USER_AGENT]}
        )
        if last_event_id is not None:
            headers.setRawHeaders(b"Last-Event-ID", [last_event_id.encode()])
        try:
            return await self._http.get(
                self.server + path,
                headers=headers,
                reactor=self._clock,
                timeout=self._timeout_seconds,
                unbuffered=True,
            )
        except NETWORK_FAILURES as exc:
            raise network_error(exc, self.server, self._timeout_seconds) from None

    async def _exchange(
        self,
        method: str,
        url: str,
        data: bytes | None = None,
        accept: bytes = JSON_TYPE,
    ) -> tuple[int, Mapping[bytes, list[bytes]], bytes, bool]:
        """Send one request with the user's credentials, once more with a
        Kerberos token when the server asks for Negotiate: the status, the
        headers, the body and whether Kerberos was used."""
        authorization = None
        if self._settings.token:
            authorization = b"Bearer " + self._settings.token.encode("utf-8")
        answer = await self._send(method, url, data, authorization, accept)
        code, headers, _ = answer
        if code != HTTPStatus.UNAUTHORIZED or not _asks_negotiate(headers):
            return (*answer, False)
        host = urlsplit(url).hostname or ""
        token = base64.b64encode(await self._token_maker(host))
        negotiate = b"Negotiate " + token
        return (*await self._send(method, url, data, negotiate, accept), True)

    async def _send(
        self,
        method: str,
        url: str,
        data: bytes | None,
        authorization: bytes | None,
        accept: bytes,
    ) -> tuple[int, Mapping[bytes, list[bytes]], bytes]:
        headers = Headers({b"Accept": [accept], b"User-Agent": [USER_AGENT]})
        if data is not None:
            headers.setRawHeaders(b"Content-Type", [JSON_TYPE])
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
        except NETWORK_FAILURES as exc:
            raise network_error(exc, self.server, self._timeout_seconds) from None
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
        details = answer.get("details") if isinstance(answer, dict) else None
        raise ServerError(
            f"{code} {_reason(code)}: {message}"
            + _advice(code, headers, negotiated, self._settings),
            status=code,
            transient=code >= 500,
            details=details if isinstance(details, dict) else None,
        )


_NOT_JSON = object()


def _with_query(url: str, params: Mapping[str, str | list[str]] | None) -> str:
    return f"{url}?{urlencode(params, doseq=True)}" if params else url


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
