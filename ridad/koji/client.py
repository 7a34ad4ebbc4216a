"""The asynchronous Koji hub client: calls, multicalls, uploads, sessions.

Call numbers. Koji refuses a ``Koji-Session-Callnum`` lower than the last
one it committed for the session (1008 SequenceError) and an equal one (1009
RetryError). So a logged-in client keeps ONE numbered request in flight: a
DeferredLock covers each request from numbering to its final answer, its
retries and waits included. The number goes up by exactly one per request
(a whole multicall and each upload POST are one request each) and continues
across a session renewal, which keeps the session id; a new login starts
again at 0. A retry after transport trouble RESENDS THE SAME number, so the
hub refuses (1009) to run a second time a call whose reply was lost after it
committed: that becomes KojiAnswerLost (a KojiFault 1009) for the caller,
who reads Koji's state to learn what the call did (``ridad.koji.reconcile``).
A request of reads only (``READ_METHODS``; the hub stores the number of every
multicall, reads too) is sent again under the next number instead. An
anonymous client sends no session headers and its requests run concurrently.

Sessions are closed on the hub: ``logout()`` (at shutdown) makes one short
attempt, and a session the client gives up (AuthError, a refused renewal) is
logged out by id from the session that replaces it.

Retried: transport trouble, timeouts, HTTP 5xx and 408, and ServerOffline
(1014), with capped exponential backoff and jitter until the policy gives
up; AuthExpired (1007) once, after renewing the session. No other fault is
retried.
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable, Sequence
from typing import Any

from treq.client import HTTPClient
from twisted.internet.defer import DeferredLock
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from ridad.errors import KojiAnswerLost, KojiError, KojiFault
from ridad.koji import upload as fast_upload
from ridad.koji.auth import GssapiAuth, KojiAuth, PasswordAuth, SslAuth
from ridad.koji.gssapi import negotiate_for
from ridad.koji.retry import RetryPolicy
from ridad.koji.sender import HubSender
from ridad.koji.transport import OCTET_STREAM, TEXT_XML, HubRequest
from ridad.koji.wire import (
    AUTH_ERROR,
    AUTH_EXPIRED,
    READ_METHODS,
    KojiCall,
    encode_call,
    encode_multicall,
    multicall_results,
    session_from_login,
)
from ridad.metrics.instruments import Metrics

__all__ = [
    "GssapiAuth",
    "KojiAuth",
    "KojiCall",
    "KojiClient",
    "PasswordAuth",
    "RetryPolicy",
    "SslAuth",
]

#: The retry policy of a client built without one.
DEFAULT_RETRY = RetryPolicy()
#: How long the one attempt of a logout may take (it runs at shutdown).
LOGOUT_TIMEOUT_SECONDS = 10.0
#: How many numbers a request of reads may use when its answers keep getting lost.
READ_REPEATS = 3


class KojiClient:
    """A client of one Koji hub, over a treq ``HTTPClient``.

    With ``auth`` the client logs in on first use (or with ``login()``) and
    numbers every request; without it, it stays anonymous.
    """

    log = Logger()

    def __init__(
        self,
        *,
        http: HTTPClient,
        hub_url: str,
        clock: IReactorTime,
        auth: KojiAuth | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        random: Callable[[], float] = _random.random,
        timeout_seconds: float = 120.0,
        metrics: Metrics | None = None,
    ) -> None:
        self._hub_url = hub_url.rstrip("/")
        self._auth = auth
        self._metrics = metrics or Metrics()
        self._sender = HubSender(
            http=http,
            clock=clock,
            retry=retry,
            random=random,
            timeout_seconds=timeout_seconds,
            metrics=self._metrics,
        )
        self._lock = DeferredLock()
        self._session: tuple[int, str] | None = None
        self._replaced: int | None = None
        self._callnum = 0

    @property
    def round_trips(self) -> int:
        """How many HTTP requests the client has made, retries and logins included."""
        return self._sender.round_trips

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call hub method ``method``; keyword arguments go the ``__starstar`` way.

        :returns: the decoded result (``None`` for ``<nil/>``).
        :raises KojiAnswerLost: the answer was lost and Koji refused the
            resend: the call ran (not raised for ``READ_METHODS``).
        :raises KojiFault: when Koji refuses the call.
        :raises KojiUnavailable: when the hub stayed unreachable or offline
            for the whole retry policy.
        :raises KojiError: for a login failure or a malformed answer.
        """
        body = encode_call(method, args, kwargs)
        repeatable = method in READ_METHODS
        return await self._send(
            HubRequest(self._hub_url, body, TEXT_XML, method, repeatable=repeatable)
        )

    async def multicall(
        self, calls: Sequence[KojiCall], *, batch: int = 500, once: bool = False
    ) -> list[Any | KojiFault]:
        """Run ``calls`` as ``multiCall`` requests of at most ``batch`` calls each.

        Each request is one hub transaction; a failed entry does not stop
        the others. With ``once`` each request gets one attempt of at most
        the client's timeout (an answer that can wait: trouble is raised at
        once, not retried).

        :returns: one item per call, in order: its value, or a KojiFault
            instance (not raised) for a failed call.
        :raises KojiAnswerLost: as for ``call`` (unless every call is a read).
        :raises KojiFault: when the whole multiCall request is refused.
        :raises KojiUnavailable: as for ``call``.
        :raises KojiError: for a malformed answer.
        """
        if batch < 1:
            raise ValueError(f"batch must be positive, not {batch}")
        results: list[Any | KojiFault] = []
        for start in range(0, len(calls), batch):
            part = calls[start : start + batch]
            request = HubRequest(
                self._hub_url,
                encode_multicall(part),
                TEXT_XML,
                "multiCall",
                repeatable=all(c.method in READ_METHODS for c in part),
                once=once,
            )
            answers = multicall_results(await self._send(request), len(part))
            self._count_calls(part, answers)
            results.extend(answers)
        return results

    def _count_calls(self, calls: Sequence[KojiCall], answers: list[Any]) -> None:
        """Count the calls of a multicall, and the faults among its answers."""
        for call, answer in zip(calls, answers, strict=True):
            self._metrics.koji_multicall_calls.labels(call.method).inc()
            if isinstance(answer, KojiFault):
                self._sender.count_fault(call.method, answer)

    async def upload(
        self, data: bytes, *, path: str, name: str, chunk_bytes: int = 1 << 20
    ) -> None:
        """Upload ``data`` to ``<KojiDir>/work/<path>/<name>`` (fast upload).

        Each chunk is one numbered POST, checked against the hub's reply;
        the whole file is then checked with ``checkUpload``.

        :raises KojiError: without credentials, or when the hub stored
            something else than ``data``.
        :raises KojiFault: when Koji refuses a chunk or the check.
        :raises KojiUnavailable: as for ``call``.
        """
        await self.upload_chunks(data, path=path, name=name, chunk_bytes=chunk_bytes)
        result = await self.call("checkUpload", path, name, verify="adler32")
        fast_upload.check_upload(result, path, name, data)

    async def upload_chunks(
        self, data: bytes, *, path: str, name: str, chunk_bytes: int = 1 << 20
    ) -> None:
        """The chunks of ``upload`` without its ``checkUpload`` (which the
        caller makes, e.g. one multicall for many files).

        :raises KojiError: without credentials, or for a chunk stored wrong.
        :raises KojiFault: when Koji refuses a chunk.
        :raises KojiUnavailable: as for ``call``.
        """
        if self._auth is None:
            raise KojiError("Uploading to Koji needs a login; this client has none")
        for offset, chunk in fast_upload.chunks(data, chunk_bytes):
            url = fast_upload.upload_url(self._hub_url, path, name, offset)
            reply = await self._send(HubRequest(url, chunk, OCTET_STREAM, "rawUpload"))
            fast_upload.check_chunk_reply(reply, offset, chunk)

    async def login(self) -> None:
        """Log in now instead of on the first call; nothing if logged in.

        :raises KojiError: without credentials, or for a malformed answer.
        :raises KojiFault: when Koji refuses the credentials (1002 AuthError).
        :raises KojiUnavailable: as for ``call``.
        """
        if self._auth is None:
            raise KojiError("This Koji client has no credentials to log in with")
        async with self._lock:
            if self._session is None:
                await self._log_in(renew=False)

    async def logout(self) -> None:
        """Close the session on the hub and forget it; nothing if not logged in.

        One attempt of at most ``LOGOUT_TIMEOUT_SECONDS``, not retried; a
        session the hub no longer knows (AuthError) counts as closed. The
        next call logs in again.

        :raises KojiFault: when Koji refuses (the session is forgotten anyway).
        :raises KojiUnavailable: when the hub did not answer.
        """
        async with self._lock:
            if self._session is None:
                return
            try:
                await self._logout_once(None)
            finally:
                self._session = None

    async def _logout_once(self, session_id: int | None) -> None:
        """Send one ``logout`` (of ``session_id``, default this one); lock held."""
        body = encode_call("logout", (), {"session_id": session_id})
        request = HubRequest(self._hub_url, body, TEXT_XML, "logout")
        try:
            await self._sender.attempt(
                request, self._next_headers(), 1, LOGOUT_TIMEOUT_SECONDS
            )
        except KojiFault as fault:
            if fault.fault_code != AUTH_ERROR:
                raise

    async def _close_replaced(self) -> None:
        """Log out, from the new session, the session given up before it."""
        replaced, self._replaced = self._replaced, None
        if replaced is None or self._session is None or replaced == self._session[0]:
            return
        try:
            await self._logout_once(replaced)
        except KojiError as e:
            self.log.warn(
                "Could not log out the replaced Koji session {koji_session_id}: {reason}",
                koji_session_id=replaced,
                reason=e.message,
            )
        else:
            self.log.info(
                "Logged out the replaced Koji session {koji_session_id}",
                koji_session_id=replaced,
            )

    def _forget_session(self) -> None:
        """Give the session up; the next login logs it out by id."""
        if self._session is not None:
            self._replaced = self._session[0]
        self._session = None

    async def _send(self, request: HubRequest) -> Any:
        """Send one logical request: log in first, renew an expired session
        (or, if Koji refuses the renewal, replace it by a new one)."""
        if self._auth is None:
            return await self._sender.send(request, {})
        async with self._lock:
            if self._session is None:
                await self._log_in(renew=False)
            try:
                return await self._send_numbered(request)
            except KojiFault as fault:
                if fault.fault_code == AUTH_ERROR:
                    self._forget_session()  # the hub no longer takes it
                if fault.fault_code != AUTH_EXPIRED:
                    raise
            self.log.info(
                "Koji session expired during {method}; renewing it",
                method=request.method,
            )
            try:
                await self._log_in(renew=True)
            except KojiFault as fault:
                if fault.fault_code != AUTH_ERROR:
                    raise
                self.log.warn(
                    "Koji refused to renew the session ({reason}); logging in anew",
                    reason=fault.message,
                )
                await self._log_in(renew=False)
            return await self._send_numbered(request)

    async def _log_in(self, *, renew: bool) -> None:
        """Log in (the lock is held); ``renew`` keeps the session id, new key.

        A renewal is sent with the old session's headers and the next call
        number, as the koji client does; the numbering then continues (koji's
        client restarts at 0, which the hub refuses with 1008 once the session
        has committed a write: the hub keeps the stored number on renewal).
        """
        request = self._login_request(renew=renew)
        try:
            if renew:
                answer = await self._send_numbered(request)
            else:
                answer = await self._sender.send(request, {})
            session = session_from_login(answer)
        except KojiError:
            self._forget_session()
            raise
        if not renew:
            self._callnum = 0
        self._session = session
        self.log.info("Logged in to Koji with {method}", method=request.method)
        if not renew:
            await self._close_replaced()

    def _login_request(self, *, renew: bool) -> HubRequest:
        """The ``login`` or ``sslLogin`` request, encoded as the koji client does."""
        extra: dict[str, Any] = {"renew": True, "exclusive": False} if renew else {}
        if isinstance(self._auth, PasswordAuth):
            args = (self._auth.user, self._auth.password)
            body = encode_call("login", args, {"opts": None, **extra})
            return HubRequest(self._hub_url, body, TEXT_XML, "login")
        body = encode_call("sslLogin", (), {"proxyuser": None, **extra})
        url = f"{self._hub_url}/ssllogin"
        if isinstance(self._auth, GssapiAuth):
            authorize = negotiate_for(self._auth, url)
            return HubRequest(url, body, TEXT_XML, "sslLogin", authorize=authorize)
        return HubRequest(url, body, TEXT_XML, "sslLogin")

    async def _send_numbered(self, request: HubRequest) -> Any:
        """Send with the session headers and the next call number (lock held);
        a repeatable request whose answer was lost goes again, numbered anew
        (``READ_REPEATS`` times in all)."""
        for _ in range(READ_REPEATS - 1):
            try:
                return await self._sender.send(request, self._next_headers())
            except KojiAnswerLost:
                if not request.repeatable or request.once:
                    raise
            self.log.info(
                "The answer to {method} was lost; it only reads, so it is sent again",
                method=request.method,
            )
        return await self._sender.send(request, self._next_headers())

    def _next_headers(self) -> dict[str, str]:
        """The session headers with the next call number (which is used up)."""
        if self._session is None:
            raise KojiError("Not logged in to Koji")
        session_id, key = self._session
        headers = {
            "Koji-Session-Id": str(session_id),
            "Koji-Session-Key": key,
            "Koji-Session-Callnum": str(self._callnum),
        }
        self._callnum += 1
        return headers
