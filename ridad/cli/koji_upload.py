"""``rida submit --srpm``: upload SRPMs to Koji with the user's own Koji
credentials, as fedpkg's ``module-build --srpm`` does.

The hub and the login come from a profile of koji's own configuration
(``/etc/koji.conf``, ``~/.koji/config``, or ``--koji-config``), read by
``koji.read_config``; the login is the one its ``authtype`` names (``ssl``:
the client certificate ``cert``; ``kerberos`` or none: GSSAPI with the
ticket of ``kinit``, or ``principal`` and ``keytab``). Each SRPM goes to its
own ``cli-build/<time>.<random>`` directory, named ``<Name>.src.rpm`` after
the Name in its header; the paths are what the build's ``srpms`` lists.

The koji library blocks: ``koji_uploads`` runs it in the reactor's thread
pool. Every failure becomes a ``CommandError`` that says what to do.
"""

from __future__ import annotations

import os
import random
import string
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from twisted.internet.interfaces import IReactorThreads
from twisted.internet.threads import deferToThreadPool

from ridad.cli.exits import CommandError, UsageError
from ridad.cli.srpm import srpm_name

DEFAULT_PROFILE = "koji"
UPLOAD_PREFIX = "cli-build"
#: Caps on koji's retries (its defaults, 30 tries 20 s apart, kept a bad
#: certificate silent for ten minutes before saying so).
MAX_RETRIES = 3
MAX_RETRY_INTERVAL_SECONDS = 5


@dataclass(frozen=True)
class KojiTarget:
    """Where and as whom SRPMs are uploaded."""

    #: The section of koji's configuration (``koji -p PROFILE``).
    profile: str = DEFAULT_PROFILE
    #: A koji configuration file read instead of ``~/.koji/config``.
    config: str | None = None
    #: The hub's URL, instead of the profile's ``server``.
    hub: str | None = None


@dataclass(frozen=True)
class Upload:
    """One uploaded SRPM: the local file and its Koji upload path."""

    file: str
    path: str


#: Uploads the SRPMs to the target; awaited on the reactor.
SrpmUploader = Callable[[Sequence[str], KojiTarget], Awaitable[list[Upload]]]
#: Makes a ``koji.ClientSession`` from a hub URL and session options.
SessionFactory = Callable[[str, dict[str, Any]], Any]


class KojiUploadError(CommandError):
    """Uploading to Koji failed; nothing was submitted."""


def unique_path(prefix: str = UPLOAD_PREFIX) -> str:
    """``prefix/<time>.<8 letters>``, as koji's CLI (and fedpkg) make one."""
    letters = "".join(random.choice(string.ascii_letters) for _ in range(8))
    return f"{prefix}/{time.time()!r}.{letters}"


def koji_uploads(reactor: IReactorThreads) -> SrpmUploader:
    """``upload_srpms`` in the reactor's thread pool."""

    async def upload(files: Sequence[str], target: KojiTarget) -> list[Upload]:
        pool = reactor.getThreadPool()
        return await deferToThreadPool(reactor, pool, upload_srpms, list(files), target)

    return upload


def upload_srpms(
    files: Sequence[str],
    target: KojiTarget,
    *,
    session_factory: SessionFactory | None = None,
) -> list[Upload]:
    """Log in to Koji and upload each SRPM (blocking; run it in a thread).

    :raises UsageError: a file is not a source RPM, or the Koji profile is
        missing or unusable.
    :raises KojiUploadError: the login or an upload failed.
    """
    names = [(file, f"{srpm_name(file)}.src.rpm") for file in files]
    koji = koji_library()
    options = koji_options(target)
    hub = options["server"]
    factory = session_factory or koji.ClientSession
    session = factory(hub, session_options(options))
    login(session, options, target)
    uploads = []
    try:
        for file, name in names:
            directory = unique_path()
            try:
                session.uploadWrapper(file, directory, name=name)
            except Exception as exc:
                raise KojiUploadError(
                    f"uploading {file} to Koji at {hub} failed: {_text(exc)};"
                    " check that the hub is up and your Koji account may upload,"
                    " then try again"
                ) from None
            uploads.append(Upload(file=file, path=f"{directory}/{name}"))
    finally:
        _logout(session)
    return uploads


def koji_library() -> Any:
    """The koji module (imported on use: ``rida --help`` need not load it).

    :raises UsageError: it is not installed.
    """
    try:
        import koji
    except ImportError:
        raise UsageError(
            "uploading SRPMs needs the koji Python library: pip install koji"
            " (or dnf install python3-koji), or upload them yourself and build"
            " from git"
        ) from None
    return koji


def session_options(options: dict[str, Any]) -> dict[str, Any]:
    """``koji.ClientSession``'s options from the profile's, retries capped."""
    koji = koji_library()
    opts: dict[str, Any] = koji.grab_session_options(options)
    opts["max_retries"] = min(int(opts.get("max_retries", MAX_RETRIES)), MAX_RETRIES)
    opts["retry_interval"] = min(
        int(opts.get("retry_interval", MAX_RETRY_INTERVAL_SECONDS)),
        MAX_RETRY_INTERVAL_SECONDS,
    )
    return opts


def koji_options(target: KojiTarget) -> dict[str, Any]:
    """The profile's options (``koji.read_config``), its hub replaced by
    ``target.hub``; without the profile, koji's defaults for that hub.

    :raises UsageError: no such profile (and no hub), or a bad config file.
    """
    koji = koji_library()

    if target.config and not os.path.isfile(os.path.expanduser(target.config)):
        raise UsageError(f"no Koji configuration file {target.config} (--koji-config)")
    try:
        options: dict[str, Any] = dict(
            koji.read_config(target.profile, user_config=target.config)
        )
    except koji.ConfigurationError as exc:
        if target.hub is None:
            where = target.config or "/etc/koji.conf, ~/.koji/config"
            raise UsageError(
                f"uploading SRPMs needs a Koji profile: {_text(exc)} (read {where});"
                " pass --koji-profile NAME (a [NAME] section with server = HUB URL"
                " and authtype), --koji-config FILE, or --koji-hub URL"
            ) from None
        options = {"authtype": None, "cert": "", "serverca": ""}
    if target.hub:
        options["server"] = target.hub
    return options


def login(session: Any, options: dict[str, Any], target: KojiTarget) -> None:
    """Log in as koji's CLI does for the profile's ``authtype``.

    :raises UsageError: an authtype that cannot upload from here.
    :raises KojiUploadError: the login failed (the message says how to fix it).
    """
    authtype = options.get("authtype")
    cert = options.get("cert") or ""
    hub = options["server"]
    if authtype == "noauth":
        raise UsageError(
            f"Koji profile {target.profile!r} has authtype = noauth, and uploads"
            " need a login: set authtype = kerberos or ssl in it"
        )
    kwargs: dict[str, Any] = {}
    if authtype == "ssl" or (authtype is None and cert and os.path.isfile(cert)):
        how = f"with the client certificate {cert or '(none: set cert =)'}"
        advice = "check the profile's cert (and serverca) files"
        method = session.ssl_login
        kwargs = {"cert": cert, "serverca": options.get("serverca") or None}
    elif authtype in ("kerberos", None):
        if options.get("principal"):
            kwargs["principal"] = options["principal"]
            if options.get("keytab"):
                kwargs["keytab"] = options["keytab"]
        how = "with Kerberos (GSSAPI)"
        advice = "run kinit (or set principal and keytab in the profile)"
        method = session.gssapi_login
    else:
        raise UsageError(
            f"Koji profile {target.profile!r} has authtype = {authtype}; rida"
            " logs in with kerberos or ssl only: set one of them in the profile"
        )
    try:
        method(**kwargs)
    except Exception as exc:
        raise KojiUploadError(
            f"cannot log in to Koji at {hub} {how}: {_text(exc)}; {advice},"
            " or pass --koji-profile for another Koji"
        ) from None
    if not getattr(session, "logged_in", True):
        raise KojiUploadError(f"cannot log in to Koji at {hub} {how}; {advice}")


def _logout(session: Any) -> None:
    try:
        session.logout()
    except Exception:  # the uploads are done; an expired session is no news
        return


def _text(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if len(text) > 300:
        text = text[:300] + "..."
    return text or type(exc).__name__
