"""How ridad logs in to Koji, and reading a standard koji client profile."""

from __future__ import annotations

import configparser
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import koji

from ridad.errors import ConfigError


@dataclass(frozen=True)
class PasswordAuth:
    """Koji's ``login(user, password)``: plain-text passwords, test hubs only."""

    user: str
    password: str

    def __repr__(self) -> str:
        return f"PasswordAuth(user={self.user!r}, password='***')"


@dataclass(frozen=True)
class SslAuth:
    """Koji's ``sslLogin`` with a TLS client certificate.

    ``cert`` and ``key`` are PEM files (they may be the same file, as koji's
    ``client.crt`` usually is); ``ca`` verifies the hub, None meaning the
    platform's trust store. The hub URL should be ``https://``.
    """

    cert: str
    key: str
    ca: str | None = None


#: Runs a blocking function away from the reactor thread (a thread pool).
RunBlocking = Callable[[Callable[[], Any]], Awaitable[Any]]


@dataclass(frozen=True)
class GssapiAuth:
    """Koji's ``gssapi_login``: SPNEGO to ``sslLogin`` at ``<hub>/ssllogin``.

    ``principal`` gets its tickets from ``keytab`` (kept in a private
    in-memory ccache). Getting a ticket talks to the KDC, so the token is
    made through ``run_blocking`` (a thread pool in production; None runs it
    inline).
    """

    principal: str
    keytab: str
    run_blocking: RunBlocking | None = field(default=None, compare=False, repr=False)


#: The ways the client can log in; None in its place means anonymous.
KojiAuth = PasswordAuth | SslAuth | GssapiAuth


@dataclass(frozen=True)
class ProfileSettings:
    """What ridad uses from a koji client profile (``~/.koji/config`` style)."""

    profile: str
    server: str
    authtype: str | None
    cert: str | None
    serverca: str | None

    def auth(self) -> KojiAuth | None:
        """The login the profile asks for: SslAuth, or None for anonymous.

        :raises ConfigError: for an authtype ridad cannot use (kerberos,
            gssapi, password: the profile holds no password), or ``ssl``
            without a certificate.
        """
        if self.authtype in (None, "", "noauth"):
            return None
        if self.authtype != "ssl":
            raise ConfigError(
                [
                    f"koji profile {self.profile}: authtype {self.authtype!r} is "
                    "not supported (use ssl, or noauth)"
                ]
            )
        if not self.cert:
            raise ConfigError([f"koji profile {self.profile}: ssl needs a cert"])
        return SslAuth(cert=self.cert, key=self.cert, ca=self.serverca)


def hub_from_profile(profile: str, config_file: str | None) -> ProfileSettings:
    """Read profile ``profile`` the way the koji CLI does (``koji.read_config``).

    The files are ``/etc/koji.conf.d``, ``/etc/koji.conf`` and then
    ``config_file`` (or ``~/.koji/config.d`` and ``~/.koji/config`` when it is
    None); later files win. This reads files synchronously: call it only from
    ``makeService``, before the reactor runs.

    :raises ConfigError: when the profile or the given file does not exist, or
        the files cannot be parsed.
    """
    try:
        options = koji.read_config(profile, user_config=config_file)
    except (koji.GenericError, configparser.Error, OSError) as exc:
        raise ConfigError([f"koji profile {profile}: {exc}"]) from exc
    return ProfileSettings(
        profile=profile,
        server=str(options["server"]),
        authtype=options.get("authtype") or None,
        cert=options.get("cert") or None,
        serverca=options.get("serverca") or None,
    )
