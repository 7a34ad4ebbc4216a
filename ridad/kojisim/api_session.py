"""Identity calls: versions, echo, login and logout, users and permissions."""

from __future__ import annotations

from typing import Any

import koji

from ridad.kojisim.context import current
from ridad.kojisim.exports import Exports
from ridad.kojisim.lookup import check_str, find_user
from ridad.kojisim.state import Permission, User
from ridad.kojisim.views import user_view
from ridad.kojisim.wire import HUB_VERSION

__all__ = ["exports"]

exports = Exports()


@exports.method("getAPIVersion")
def get_api_version(self: Any) -> int:
    """The XML-RPC API version (1)."""
    return int(koji.API_VERSION)


@exports.method("getKojiVersion")
def get_koji_version(self: Any) -> str:
    """The hub's Koji version."""
    return HUB_VERSION


@exports.method("echo")
def echo(self: Any, *args: Any) -> list[Any]:
    """The arguments, unchanged."""
    return list(args)


@exports.method("hello")
def hello(self: Any, *args: Any) -> str:
    """A greeting."""
    return "Hello World"


@exports.method("getLoggedInUser")
def get_logged_in_user(self: Any) -> dict[str, Any] | None:
    """The caller's user dict with its authtype, or None when anonymous."""
    call = current()
    user = call.user()
    session = call.credentials.session
    if user is None or session is None:
        return None
    info = user_view(user)
    info["authtype"] = session.authtype
    info["krb_principal"] = None
    return info


@exports.function("getUser")
def get_user(
    userInfo: Any = None,
    strict: bool = False,
    krb_princs: bool = True,
    groups: bool = False,
) -> dict[str, Any] | None:
    """A user's dict, by id, name or dict (default: the caller).

    :raises koji.GenericError: strict and no such user, or nobody given.
    """
    call = current()
    if userInfo is None:
        userInfo = call.user_id
        if userInfo is None:
            raise koji.GenericError("No user provided")
    user = find_user(call.state, userInfo, strict=strict)
    if user is None:
        return None
    info = user_view(user)
    if not krb_princs:
        del info["krb_principals"]
    if groups:
        info["groups"] = []
    return info


@exports.method("getAllPerms")
def get_all_perms(self: Any) -> list[dict[str, Any]]:
    """Every permission: ``{id, name, description}``."""
    perms = current().state.permissions.values()
    return [
        {"description": p.description, "id": p.id, "name": p.name}
        for p in sorted(perms, key=lambda p: p.id)
    ]


@exports.method("getPerms")
def get_perms(self: Any) -> list[str]:
    """The caller's permission names."""
    call = current()
    return call.state.perm_names(call.user_id) if call.user_id is not None else []


@exports.method("hasPerm")
def has_perm(self: Any, perm: str, strict: bool = False) -> bool:
    """Whether the caller holds ``perm`` itself.

    :raises koji.GenericError: strict and no such permission.
    """
    call = current()
    if strict and call.state.perm_by_name(perm) is None:
        raise koji.GenericError(f"No such permission {perm} defined")
    return call.has_perm(perm)


@exports.method("grantPermission", writes=True)
def grant_permission(
    self: Any,
    userinfo: Any,
    permission: Any,
    create: bool = False,
    description: str | None = None,
) -> None:
    """Grant a permission (admin only), creating it when asked.

    :raises koji.ActionNotAllowed: the caller is not an admin.
    :raises koji.GenericError: unknown user or permission, or already granted.
    """
    call = current()
    call.assert_perm("admin")
    if description is not None and not create:
        raise koji.GenericError("Description should be specified only with create.")
    user = find_user(call.state, userinfo, strict=True)
    assert user is not None
    perm = call.state.perm_by_name(check_str(permission))
    if perm is None:
        if not create:
            raise koji.GenericError(f"No such permission: {permission}")
        perm_id = call.state.next_id("permission")
        perm = Permission(perm_id, permission, description)
        call.state.permissions[perm_id] = perm
    if perm.name in call.state.perm_names(user.id):
        raise koji.GenericError(f"user {userinfo} already has permission: {perm.name}")
    call.state.user_perms.setdefault(user.id, []).append(perm.id)
    call.event()


@exports.method("getLastEvent")
def get_last_event(
    self: Any, before: Any = None, strict: bool = True
) -> dict[str, Any] | None:
    """The newest event ``{id, ts}``, optionally the newest before a time.

    :raises koji.GenericError: no such event (when strict).
    """
    call = current()
    events = sorted(call.state.events.values(), key=lambda e: e.id)
    if before is not None:
        if isinstance(before, bool) or not isinstance(before, int | float):
            raise koji.GenericError(f"Invalid type for before: {type(before)}")
        events = [e for e in events if e.ts < before]
    if not events:
        if strict:
            raise koji.GenericError("query returned no rows")
        return None
    return {"id": events[-1].id, "ts": events[-1].ts}


def _session_login(
    user: Any,
    password: Any,
    opts: Any = None,
    renew: bool = False,
    exclusive: bool = False,
) -> dict[str, Any]:
    """Password login: a new session, or the renewed expired one.

    :raises koji.AuthError: bad credentials, or already logged in.
    """
    call = current()
    if not isinstance(password, str) or not password:
        raise koji.AuthError("invalid username or password")
    if call.logged_in:
        raise koji.AuthError("Already logged in")
    found = call.state.user_by_name(user) if isinstance(user, str) else None
    if found is None or found.password is None or found.password != password:
        raise koji.AuthError("invalid username or password")
    return _open_session(found, koji.AUTHTYPES["NORMAL"], renew)


_session_login.__qualname__ = "Session.login"


def _session_ssl_login(
    proxyuser: Any = None,
    proxyauthtype: Any = None,
    renew: bool = False,
    exclusive: Any = None,
) -> dict[str, Any]:
    """Client-certificate login: the certificate's CN is the user (created if new).

    :raises koji.AuthError: no verified certificate, or already logged in.
    """
    call = current()
    if call.logged_in:
        raise koji.AuthError("Already logged in")
    name = call.info.client_cn
    if not name:
        raise koji.AuthError("could not verify client: None")
    if proxyuser:
        raise koji.AuthError(f"CN={name} is not authorized to login other users")
    user = call.state.user_by_name(name)
    if user is None:
        user = User(call.state.next_id("user"), name, None)
        call.state.users[user.id] = user
        call.changed()
    return _open_session(user, koji.AUTHTYPES["SSL"], renew)


_session_ssl_login.__qualname__ = "Session.sslLogin"


def _open_session(user: User, authtype: int, renew: bool) -> dict[str, Any]:
    """Create (or with ``renew``, re-key) the session; answer its sinfo."""
    call = current()
    sessions = call.core.sessions
    named = call.credentials.session
    if renew and named is not None and named.user_id == user.id:
        session = sessions.renew(named, call.now())
    else:
        session = sessions.create(user.id, authtype, call.now())
    return {"session-id": session.id, "session-key": session.key, "header-auth": True}


@exports.function("login")
def login(*args: Any, **opts: Any) -> dict[str, Any]:
    """Log in with a password (``login(user, password, opts=None, renew=False)``)."""
    return _session_login(*args, **opts)


@exports.function("sslLogin", writes=True)
def ssl_login(*args: Any, **opts: Any) -> dict[str, Any]:
    """Log in with the verified client certificate (at ``<hub>/ssllogin``)."""
    return _session_ssl_login(*args, **opts)


ssl_login.__qualname__ = ssl_login.__name__ = "sslLogin"


@exports.function("logout")
def logout(session_id: Any = None) -> None:
    """Close the caller's session (or, for an admin or owner, another one).

    :raises koji.AuthError: not logged in.
    :raises koji.ActionNotAllowed: someone else's session, without admin.
    """
    call = current()
    if not call.logged_in or call.credentials.session is None:
        raise koji.AuthError("Not logged in")
    target = call.credentials.session
    if session_id:
        other = call.core.sessions.get(session_id)
        if not call.has_perm("admin") and (
            other is None or other.user_id != call.user_id
        ):
            raise koji.ActionNotAllowed("only admins or owner may logout other session")
        if other is None:
            return
        target = other
    target.expired = True
    target.closed = True
