"""A Kerberos principal whose user part is not clean text is refused with a
401, in process against the private realm's KDC and the service keytab.

MIT's KDC issues tickets for a principal with a control character; it
refuses principals that are not UTF-8 at ``kinit``, so those cannot be
tested here (ridad answers 401 for them too)."""

from __future__ import annotations

import base64

from twisted.internet.defer import Deferred
from twisted.web.test.requesthelper import DummyRequest

from ridad.api.auth import require_identity
from ridad.api.auth_kerberos import negotiate_authenticator
from ridad.config.model import KerberosConfig
from ridad.errors import Unauthorized
from tests.auth.fixtures import SERVICE_PRINCIPAL, kerberos_realm  # noqa: F401
from tests.auth.kdc import REALM, PrivateRealm, spnego_context
from tests.helpers import failure_of, result_of


def authenticated(realm: PrivateRealm, user: str) -> Deferred:
    """The outcome of ``require_identity`` for a fresh token of ``user``."""
    principal = f"{user}@{REALM}"
    if principal not in realm.keytabs:
        realm.add_principal(principal)
    token = base64.b64encode(spnego_context(realm.kinit(principal)).step())
    request = DummyRequest([b""])
    request.requestHeaders.setRawHeaders(b"authorization", [b"Negotiate " + token])
    authenticator = negotiate_authenticator(
        KerberosConfig(
            keytab=str(realm.keytabs[SERVICE_PRINCIPAL]), principal=SERVICE_PRINCIPAL
        )
    )
    return Deferred.fromCoroutine(require_identity(request, authenticator))


def test_a_principal_with_a_control_character_is_401(
    kerberos_realm: PrivateRealm,  # noqa: F811
) -> None:
    """``a<ESC>b@RIDAD.TEST`` holds a valid ticket, but is no user name."""
    failure = failure_of(authenticated(kerberos_realm, "a\x1bb"), Unauthorized)
    assert "control characters" in failure.value.message
    assert failure.value.details["user"] == "a\\x1bb"
    assert failure.value.details["www_authenticate"] == "Negotiate"


def test_a_plain_principal_is_still_its_user(
    kerberos_realm: PrivateRealm,  # noqa: F811
) -> None:
    """The same path accepts ``alice@RIDAD.TEST`` as ``alice``."""
    assert result_of(authenticated(kerberos_realm, "alice")).user == "alice"
