"""Who may submit and cancel, how a 401 carries its challenge, and what
``auth`` builds at start-up."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from klein import Klein
from treq.testing import StubTreq
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.web.iweb import IRequest

from ridad.api.auth import (
    ANONYMOUS,
    Identity,
    NoAuthentication,
    is_reserved_user,
    provider_identity,
    require_identity,
)
from ridad.api.auth_setup import make_authentication, make_authorizer
from ridad.api.errors import install_error_handlers
from ridad.config.model import AuthConfig, Config, OidcConfig
from ridad.errors import Forbidden, Unauthorized
from tests.helpers import failure_of, result_of

AUTH = AuthConfig(
    method="kerberos",
    allowed_groups=("packager",),
    allowed_users=("carol",),
    admin_groups=("admins",),
)


def identity(user: str, *groups: str, method: str = "kerberos") -> Identity:
    """An identity of ``user`` in ``groups``."""
    return Identity(user=user, groups=frozenset(groups), method=method)


def test_allowed_groups_and_users_may_submit_others_get_403() -> None:
    """A packager or a listed user submits; anybody else is Forbidden."""
    authorizer = make_authorizer(AUTH)
    authorizer.check_submit(identity("alice", "packager"))
    authorizer.check_submit(identity("carol"))
    with pytest.raises(Forbidden, match="dave may not submit"):
        authorizer.check_submit(identity("dave", "users"))


def test_empty_allow_lists_let_nobody_submit_under_a_real_method() -> None:
    """With a real method and no allowed groups or users, submitting is closed."""
    authorizer = make_authorizer(AuthConfig(method="ssl"))
    with pytest.raises(Forbidden, match="none configured"):
        authorizer.check_submit(identity("alice", "packager"))


def test_owner_and_admins_may_cancel() -> None:
    """The owner or an admin group member cancels; another packager may not."""
    authorizer = make_authorizer(AUTH)
    authorizer.check_cancel(identity("alice", "packager"), "alice")
    authorizer.check_cancel(identity("root", "admins"), "alice")
    with pytest.raises(Forbidden, match="only alice"):
        authorizer.check_cancel(identity("erin", "packager"), "alice")


def test_only_admins_may_retire() -> None:
    """A member of an admin group retires; the owner who is no admin may not."""
    authorizer = make_authorizer(AUTH)
    authorizer.check_retire(identity("root", "admins"))
    with pytest.raises(Forbidden) as refused:
        authorizer.check_retire(identity("alice", "packager"))
    assert refused.value.message == (
        "alice may not retire module builds; only members of admins may"
    )


def test_without_admin_groups_nobody_may_retire_under_a_real_method() -> None:
    """No admin group configured: the refusal says so."""
    authorizer = make_authorizer(AuthConfig(method="ssl"))
    with pytest.raises(Forbidden, match="an admin group \\(none configured\\)"):
        authorizer.check_retire(identity("root", "admins"))


def test_method_none_lets_anonymous_do_everything() -> None:
    """Under none (or without a section) anonymous submits, cancels and retires."""
    for auth in (None, AuthConfig()):
        authorizer = make_authorizer(auth)
        anonymous = identity(ANONYMOUS, method="none")
        authorizer.check_submit(anonymous)
        authorizer.check_cancel(anonymous, "alice")
        authorizer.check_retire(anonymous)


def test_unauthenticated_owner_is_a_name_no_method_accepts() -> None:
    """Everybody is <anonymous> under none; a provider's "anonymous" is not them
    and may not cancel their builds; "<anonymous>" itself cannot log in."""
    assert ANONYMOUS == "<anonymous>"
    nobody = result_of(Deferred.fromCoroutine(NoAuthentication().authenticate(None)))
    assert nobody.user == ANONYMOUS
    authorizer = make_authorizer(AUTH)
    with pytest.raises(Forbidden, match="only <anonymous>"):
        authorizer.check_cancel(identity("anonymous", "packager"), ANONYMOUS)
    for user in (ANONYMOUS, "<system>"):
        assert is_reserved_user(user)
        with pytest.raises(Unauthorized, match="is reserved by ridad"):
            provider_identity(user, frozenset(), "kerberos")
    for user in ("anonymous", "a<b>", "<x", "x>"):
        assert provider_identity(user, frozenset(), "ssl").user == user


class Refusing:
    """An authenticator refusing every credential it is shown."""

    method = "kerberos"

    async def authenticate(self, request: IRequest) -> Identity | None:
        raise Unauthorized("bad ticket")

    def challenge(self) -> Mapping[bytes, bytes]:
        return {b"WWW-Authenticate": b"Negotiate"}


def test_bad_credentials_carry_the_challenge() -> None:
    """require_identity adds the method's challenge to an Unauthorized."""
    failure = failure_of(
        Deferred.fromCoroutine(require_identity(object(), Refusing())),  # type: ignore[arg-type]
        Unauthorized,
    )
    assert failure.value.details == {"www_authenticate": "Negotiate"}


class Guarded:
    """A tiny app answering through the real error handlers."""

    app = Klein()
    install_error_handlers(app)

    @app.route("/", methods=["POST"])
    async def post(self, request: IRequest) -> bytes:
        await require_identity(request, Refusing())
        return b"never"


def test_401_sends_www_authenticate_header_not_details() -> None:
    """The challenge goes in WWW-Authenticate; the JSON body has no details."""
    http = StubTreq(Guarded().app.resource())
    response = result_of(http.post("http://ridad/"))
    body = result_of(response.json())
    assert response.code == 401
    assert response.headers.getRawHeaders(b"www-authenticate") == [b"Negotiate"]
    assert body == {"status": 401, "error": "Unauthorized", "message": "bad ticket"}


def test_no_auth_section_warns_loudly_and_authenticates_anonymous() -> None:
    """Without auth, everybody is anonymous and start-up logs a warning."""
    built = make_authentication(Clock(), Config())
    assert isinstance(built.authenticator, NoAuthentication)
    (warning,) = built.warnings
    assert "AUTHENTICATION IS OFF" in warning and "no auth section" in warning


def test_real_method_without_allow_lists_warns() -> None:
    """A real method with empty allow lists warns that nobody may submit."""
    config = Config(
        auth=AuthConfig(
            method="oidc",
            oidc=OidcConfig(
                introspection_url="https://i/x", client_id="a", client_secret="b"
            ),
        )
    )
    built = make_authentication(Clock(), config)
    assert built.authenticator.method == "oidc"
    assert built.warnings == (
        "auth.allowed_groups and auth.allowed_users are empty: nobody may"
        " submit module builds",
    )
