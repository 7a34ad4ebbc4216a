"""Who is asking: authentication of POST and PATCH, and authorization.

GETs are anonymous. An ``Authenticator`` turns a request into an
``Identity`` (or None when the request carries no credentials at all);
``Authorizer`` decides what that identity may do.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from twisted.web.iweb import IRequest

from ridad.api.inputs import shown, text_problem
from ridad.errors import Forbidden, Unauthorized

#: The user of every request under ``auth.method: none``, and so the owner
#: of the builds submitted then. Names in angle brackets are ridad's own:
#: no authentication method accepts one (``provider_identity``), so nobody
#: who logs in later is taken for the owner of those builds.
ANONYMOUS = "<anonymous>"


def is_reserved_user(user: str) -> bool:
    """Whether ``user`` is a name ridad keeps for itself (in angle brackets)."""
    return user.startswith("<") and user.endswith(">")


#: The longest user name accepted (``owner`` is in an index).
MAX_USER_LENGTH = 255


@dataclass(frozen=True)
class Identity:
    """An authenticated user (``<anonymous>`` under ``auth.method: none``)."""

    user: str
    groups: frozenset[str] = frozenset()
    method: str = "none"


class Authenticator(Protocol):
    """One authentication method."""

    method: str

    async def authenticate(self, request: IRequest) -> Identity | None:
        """The identity of ``request``; None when it carries no credentials.

        May set response headers (Kerberos' mutual-authentication token).

        :raises Unauthorized: credentials that are present but bad.
        """

    def challenge(self) -> Mapping[bytes, bytes]:
        """Headers of a 401 (e.g. ``WWW-Authenticate: Negotiate``)."""


def provider_identity(
    user: str,
    groups: frozenset[str],
    method: str,
    *,
    details: Mapping[str, Any] | None = None,
) -> Identity:
    """The identity of a user an authentication method vouches for.

    :param details: the details of the refusal (a ``www_authenticate``).
    :raises Unauthorized: ``user`` is a name ridad keeps for itself.
    """
    if is_reserved_user(user):
        raise Unauthorized(
            f"the user name {user!r} is reserved by ridad and cannot log in;"
            " ask the administrators of the identity provider for another",
            details=details,
        )
    return Identity(user=user, groups=groups, method=method)


class NoAuthentication:
    """``auth.method: none``: everybody is ``<anonymous>`` (development only)."""

    method = "none"

    async def authenticate(self, request: IRequest) -> Identity | None:
        """Everybody is anonymous."""
        return Identity(user=ANONYMOUS)

    def challenge(self) -> Mapping[bytes, bytes]:
        """No challenge."""
        return {}


@dataclass(frozen=True)
class Authorizer:
    """Who may submit, who may cancel and who may retire.

    Empty ``allowed_groups`` and ``allowed_users`` let every authenticated
    user submit (and everybody under ``auth.method: none``).
    """

    allowed_groups: frozenset[str] = frozenset()
    allowed_users: frozenset[str] = frozenset()
    admin_groups: frozenset[str] = frozenset()
    open_to_all: bool = field(default=True)
    #: Who may import modules (``auth.import_allowed_groups`` and
    #: ``_users``); both empty: the import API is disabled, as MBS's.
    import_groups: frozenset[str] = frozenset()
    import_users: frozenset[str] = frozenset()

    def check_import_enabled(self) -> None:
        """:raises Forbidden: nobody may import (MBS's answer, before
        authentication)."""
        if not (self.import_groups or self.import_users):
            raise Forbidden(
                "Import module API is disabled.",
                details={"hint": "set auth.import_allowed_groups or _users"},
            )

    def check_import(self, identity: Identity) -> None:
        """:raises Forbidden: ``identity`` may not import modules (anybody
        may under ``auth.method: none`` once imports are enabled)."""
        self.check_import_enabled()
        if identity.method == "none" or identity.user in self.import_users:
            return
        if identity.groups & self.import_groups:
            return
        raise Forbidden(
            f"{identity.user} is not in any of {sorted(self.import_groups)},"
            f" only {sorted(identity.groups)}"
        )

    def check_submit(self, identity: Identity) -> None:
        """:raises Forbidden: ``identity`` may not submit builds."""
        if self.open_to_all and not (self.allowed_groups or self.allowed_users):
            return
        if identity.user in self.allowed_users:
            return
        if identity.groups & self.allowed_groups:
            return
        raise Forbidden(
            f"{identity.user} may not submit module builds; ask the administrators"
            " to add you to one of the groups "
            + (", ".join(sorted(self.allowed_groups)) or "(none configured)")
        )

    def check_cancel(self, identity: Identity, owner: str) -> None:
        """:raises Forbidden: ``identity`` may not cancel a build of ``owner``."""
        if identity.method == "none" or identity.user == owner:
            return
        if identity.groups & self.admin_groups:
            return
        raise Forbidden(
            f"only {owner} (the owner) or an administrator may cancel this build"
        )

    def check_retire(self, identity: Identity) -> None:
        """:raises Forbidden: ``identity`` may not retire builds (only the
        members of ``admin_groups`` may, and everybody under ``none``)."""
        if identity.method == "none" or identity.groups & self.admin_groups:
            return
        raise Forbidden(
            f"{identity.user} may not retire module builds; only members of "
            + (
                ", ".join(sorted(self.admin_groups))
                or "an admin group (none configured)"
            )
            + " may"
        )


async def require_identity(request: IRequest, authenticator: Authenticator) -> Identity:
    """The identity of a request that must be authenticated.

    :raises Unauthorized: no or bad credentials (with the challenge in
        ``details["www_authenticate"]``, which the error handler turns into
        the ``WWW-Authenticate`` header).
    """
    try:
        identity = await authenticator.authenticate(request)
    except Unauthorized as e:
        challenge = _challenge_text(authenticator)
        if challenge and "www_authenticate" not in e.details:
            e.details["www_authenticate"] = challenge
        raise
    if identity is None:
        raise Unauthorized(
            f"this request needs authentication ({authenticator.method});"
            " log in (for example kinit, or a token) and try again",
            details={"www_authenticate": _challenge_text(authenticator)},
        )
    problem = user_problem(identity.user)
    if problem:
        raise Unauthorized(
            f"the user name given by {authenticator.method} authentication"
            f" {problem}; ask the administrators of the identity provider",
            details={
                "user": shown(identity.user),
                "www_authenticate": _challenge_text(authenticator),
            },
        )
    return identity


def user_problem(user: str) -> str | None:
    """Why ``user`` cannot be a build's owner, or None.

    A user name is recorded (and indexed) and shown: it must be non-empty
    text of at most ``MAX_USER_LENGTH`` characters without NUL, lone
    surrogates or other control characters.
    """
    if not user:
        return "is empty"
    if len(user) > MAX_USER_LENGTH:
        return f"is {len(user)} characters long; at most {MAX_USER_LENGTH} are allowed"
    problem = text_problem(user)
    if problem:
        return problem
    if any(unicodedata.category(c) == "Cc" for c in user):
        return "must not contain control characters"
    return None


def _challenge_text(authenticator: Authenticator) -> str | None:
    value = authenticator.challenge().get(b"WWW-Authenticate")
    return value.decode("ascii") if value else None
