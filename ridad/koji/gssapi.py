"""SPNEGO for Koji's ``gssapi_login``: a Negotiate token for the hub's
``HTTP@host`` service, made afresh for every attempt, and the check of the
hub's mutual authentication answer.

Like koji's client (``requests_gssapi`` with mutual authentication
required), a 200 answer must carry ``WWW-Authenticate: Negotiate <token>``
that completes the context. The client's tickets come from the keytab
through MIT's credential store (``client_keytab``) into a private in-memory
ccache (one per principal and keytab, reused until the tickets expire), so
the process environment and the user's ccache are left alone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import gssapi
from gssapi.exceptions import GSSError

from ridad.errors import KojiError, KojiUnavailable
from ridad.koji.auth import GssapiAuth

NEGOTIATE = b"Negotiate"
_SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
#: GSS minor-status texts that mean the KDC could not be reached (retryable).
_KDC_UNREACHABLE = ("Cannot contact any KDC", "Cannot find KDC", "timed out")


@dataclass
class NegotiateAuthorization:
    """The ``Authorization: Negotiate`` header of one attempt and its context."""

    header: bytes
    context: Any

    def check_reply(self, www_authenticate: Sequence[bytes]) -> None:
        """Complete the context with the hub's token (mutual authentication).

        :raises KojiError: no Negotiate token, or one that does not verify.
        """
        token = None
        for value in www_authenticate:
            scheme, _, rest = value.strip().partition(b" ")
            if scheme.lower() == NEGOTIATE.lower() and rest.strip():
                try:
                    token = base64.b64decode(rest.strip(), validate=True)
                except (binascii.Error, ValueError):
                    token = None
        if token is None:
            raise KojiError(
                "The Koji hub did not prove its identity: its sslLogin answer"
                " has no Negotiate token (mutual authentication failed)"
            )
        try:
            self.context.step(token)
        except GSSError as e:
            raise KojiError(
                f"The Koji hub's mutual authentication token does not verify: {_text(e)}"
            ) from None
        if not self.context.complete:
            raise KojiError("The Koji hub's Negotiate exchange did not complete")


def negotiate_for(
    auth: GssapiAuth, url: str
) -> Callable[[], Awaitable[NegotiateAuthorization]]:
    """What makes a fresh SPNEGO ``Authorization`` for ``url`` on each attempt."""
    host = urlsplit(url).hostname or ""
    identity = f"{auth.principal}\0{auth.keytab}".encode()
    ccache = f"MEMORY:ridad-koji-{hashlib.sha256(identity).hexdigest()[:16]}"

    def initiate() -> NegotiateAuthorization:
        return initiate_context(auth, host, ccache)

    async def authorize() -> NegotiateAuthorization:
        if auth.run_blocking is None:
            return initiate()
        result: NegotiateAuthorization = await auth.run_blocking(initiate)
        return result

    return authorize


def initiate_context(
    auth: GssapiAuth, host: str, ccache: str
) -> NegotiateAuthorization:
    """The first SPNEGO token for ``HTTP@host`` as ``auth.principal`` (blocking).

    :raises KojiUnavailable: the KDC cannot be reached.
    :raises KojiError: any other Kerberos failure (bad keytab, unknown
        principal or service).
    """
    try:
        credentials = gssapi.Credentials(
            name=gssapi.Name(auth.principal, gssapi.NameType.kerberos_principal),
            usage="initiate",
            store={"client_keytab": auth.keytab, "ccache": ccache},
        )
        context = gssapi.SecurityContext(
            name=gssapi.Name(f"HTTP@{host}", gssapi.NameType.hostbased_service),
            creds=credentials,
            usage="initiate",
            mech=_SPNEGO,
            flags=gssapi.RequirementFlag.mutual_authentication
            | gssapi.RequirementFlag.out_of_sequence_detection,
        )
        token = context.step()
    except GSSError as e:
        text = _text(e)
        message = f"Kerberos login to Koji as {auth.principal} failed: {text}"
        if any(marker in text for marker in _KDC_UNREACHABLE):
            raise KojiUnavailable(message) from None
        raise KojiError(message) from None
    return NegotiateAuthorization(
        header=NEGOTIATE + b" " + base64.b64encode(bytes(token or b"")),
        context=context,
    )


def _text(error: GSSError) -> str:
    return " ".join(str(error).split())
