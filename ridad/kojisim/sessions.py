"""Login sessions and the hub's checks on the ``Koji-Session-*`` headers.

The rules follow the hub's ``Session`` class: a wrong key or a closed session
is AuthError 1002; an expired one is AuthExpired 1007 except for the login
methods (which may renew it); a call number lower than the stored one is
SequenceError 1008 and an equal one RetryError 1009 (but for a short
whitelist). The stored call number only moves when a call commits.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs

import koji

__all__ = [
    "Credentials",
    "RequestInfo",
    "Session",
    "SessionStore",
]

#: Methods that may repeat a stored call number (the hub's RetryWhitelist).
RETRY_WHITELIST = frozenset(
    {
        "host.taskWait",
        "host.taskUnwait",
        "host.taskSetWait",
        "host.updateHost",
        "host.setBuildRootState",
        "repoExpire",
        "repoDelete",
        "repoProblem",
    }
)

#: Methods an expired session may still call (to renew itself).
AUTH_METHODS = frozenset({"login", "sslLogin"})

#: The hub's default SessionRenewalTimeout (24 hours).
SESSION_RENEWAL_TIMEOUT_SECONDS = 1440 * 60

_KEY_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class RequestInfo:
    """What the HTTP layer knows about a request, beyond its body.

    ``headers`` has lower-case names. ``client_cn`` is the common name of a
    verified TLS client certificate, given only on the ``ssllogin`` path.
    """

    headers: Mapping[str, str]
    query: str = ""
    client_cn: str | None = None


@dataclass
class Session:
    """A login session."""

    id: int
    key: str
    user_id: int
    authtype: int
    start_ts: float
    renew_ts: float | None = None
    callnum: int | None = None
    expired: bool = False
    closed: bool = False


@dataclass(frozen=True)
class Credentials:
    """The session a request names, and whether it is logged in with it."""

    session: Session | None = None
    logged_in: bool = False
    callnum: int | None = None

    @property
    def user_id(self) -> int | None:
        """The logged-in user's id, or None."""
        return self.session.user_id if self.logged_in and self.session else None


class SessionStore:
    """All sessions of the hub; they survive rolled-back calls, as in Koji."""

    def __init__(self) -> None:
        """Start with no sessions."""
        self._sessions: dict[int, Session] = {}
        self._last_id = 0

    def create(self, user_id: int, authtype: int, now: float) -> Session:
        """Open a new session for a user."""
        self._last_id += 1
        session = Session(
            id=self._last_id,
            key=self._new_key(user_id),
            user_id=user_id,
            authtype=authtype,
            start_ts=now,
        )
        self._sessions[session.id] = session
        return session

    def renew(self, session: Session, now: float) -> Session:
        """Give a session a new key and make it valid again (``renew=True``).

        The stored call number is forgotten, since the client starts again at 0.
        """
        session.key = self._new_key(session.user_id)
        session.expired = False
        session.renew_ts = now
        session.callnum = None
        return session

    def get(self, session_id: int) -> Session | None:
        """The session with this id."""
        return self._sessions.get(session_id)

    def all(self) -> list[Session]:
        """Every session ever opened, logged out or not, by id."""
        return [self._sessions[i] for i in sorted(self._sessions)]

    def expire_all(self, *, keep: int | None = None) -> None:
        """Expire every open session (but ``keep``), as a timeout would."""
        for session in self._sessions.values():
            if session.id != keep and not session.closed:
                session.expired = True

    def identify(
        self, info: RequestInfo, method: str | None, now: float
    ) -> Credentials:
        """Check the session a request names.

        :raises koji.AuthError: bad key or closed session; bad session args.
        :raises koji.AuthExpired: the session expired (except for logins).
        :raises koji.SequenceError: the call number went backwards.
        :raises koji.RetryError: the call number repeats a committed call.
        """
        named = self._named_session(info)
        if named is None:
            return Credentials()
        session_id, key, callnum = named
        session = self._sessions.get(session_id)
        if session is None or session.key != key or session.closed:
            raise koji.AuthError("Invalid session or bad credentials")
        self._check_expiry(session, now)
        if session.expired and method not in AUTH_METHODS:
            raise koji.AuthExpired(f'session "{session.id}" has expired')
        self._check_callnum(session, callnum, method)
        return Credentials(session, logged_in=not session.expired, callnum=callnum)

    def _named_session(self, info: RequestInfo) -> tuple[int, str, int | None] | None:
        """Read the session id, key and call number from headers or query."""
        if "koji-session-id" in info.headers:
            session_id = int(info.headers["koji-session-id"])
            key = info.headers.get("koji-session-key", "")
            raw = info.headers.get("koji-session-callnum")
            return session_id, key, None if raw is None else int(raw)
        if not info.query:
            return None
        args = parse_qs(info.query, strict_parsing=True)
        try:
            session_id = int(args["session-id"][0])
            key = args["session-key"][0]
        except KeyError as missing:
            raise koji.AuthError(f"{missing} not specified in session args") from None
        raw_callnum = args.get("callnum", [None])[0]
        if raw_callnum is None:
            return session_id, key, None
        try:
            return session_id, key, int(raw_callnum)
        except ValueError:
            raise koji.AuthError(f"Invalid callnum: {raw_callnum!r}") from None

    @staticmethod
    def _check_expiry(session: Session, now: float) -> None:
        """Expire a session that outlived the renewal timeout."""
        since = session.renew_ts if session.renew_ts is not None else session.start_ts
        if now > since + SESSION_RENEWAL_TIMEOUT_SECONDS:
            session.expired = True

    @staticmethod
    def _check_callnum(
        session: Session, callnum: int | None, method: str | None
    ) -> None:
        """Refuse call numbers at or below the stored one."""
        if callnum is None or session.callnum is None:
            return
        if session.callnum > callnum:
            raise koji.SequenceError(
                f"{session.callnum} > {callnum} (session {session.id})"
            )
        if session.callnum == callnum and method not in RETRY_WHITELIST:
            raise koji.RetryError(
                f"unable to retry call {callnum} (method {method}) for session"
                f" {session.id}"
            )

    @staticmethod
    def _new_key(user_id: int) -> str:
        """A session key: the user id, a dash and 19 letters or digits."""
        tail = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(19))
        return f"{user_id}-{tail}"
