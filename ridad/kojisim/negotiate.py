"""Optional Kerberos for ``/kojihub/ssllogin``: accept SPNEGO
(``Authorization: Negotiate``) against a keytab, as a hub behind
``mod_auth_gssapi`` does, so ``gssapi_login`` can be tested.

The user is the principal's short name (``ridad@REALM`` is ``ridad``), and
the mutual authentication token goes back in ``WWW-Authenticate``.
"""

from __future__ import annotations

import base64
import binascii

import gssapi
from gssapi.exceptions import GSSError

__all__ = ["NegotiateAcceptor"]


class NegotiateAcceptor:
    """Verifies Negotiate headers with the keys of ``keytab``."""

    def __init__(self, *, keytab: str, principal: str | None = None) -> None:
        """Accept for ``principal`` (any key of the keytab when None)."""
        name = (
            gssapi.Name(principal, gssapi.NameType.kerberos_principal)
            if principal
            else None
        )
        self._credentials = gssapi.Credentials(
            name=name, usage="accept", store={"keytab": keytab}
        )

    def accept(self, header: bytes) -> tuple[str, str] | None:
        """The user and ``WWW-Authenticate`` value of a good header, else None."""
        scheme, _, encoded = header.strip().partition(b" ")
        if scheme.lower() != b"negotiate":
            return None
        try:
            token = base64.b64decode(encoded.strip(), validate=True)
            context = gssapi.SecurityContext(creds=self._credentials, usage="accept")
            answer = context.step(token)
        except (binascii.Error, ValueError, GSSError):
            return None
        if not context.complete:
            return None
        user = str(context.initiator_name).rpartition("@")[0]
        reply = "Negotiate"
        if answer:
            reply += " " + base64.b64encode(answer).decode("ascii")
        return user, reply
