"""The Koji client a configuration names: hub (or koji profile), CA and the
way ridad logs in (password, SSL certificate, GSSAPI/Kerberos), with the
retry policy of the ``koji`` section."""

from __future__ import annotations

from typing import Any

from twisted.internet.threads import deferToThreadPool

from ridad.config.model import KojiConfig
from ridad.koji.auth import hub_from_profile
from ridad.koji.client import (
    GssapiAuth,
    KojiClient,
    PasswordAuth,
    RetryPolicy,
    SslAuth,
)
from ridad.koji.hub import KojiHub
from ridad.koji.tls import make_http_client
from ridad.metrics.instruments import Metrics

#: How long a submission waits for Koji to tell a base module tag's arches
#: before it is accepted without them (the wait step reads them again).
SUBMISSION_KOJI_SECONDS = 10.0


def _auth(reactor: Any, koji: KojiConfig, ca: str | None) -> Any:
    """The login of ``koji.auth`` (None: anonymous)."""
    if koji.auth.method == "password":
        return PasswordAuth(user=koji.auth.user, password=koji.auth.password)
    if koji.auth.method == "ssl":
        return SslAuth(cert=koji.auth.cert, key=koji.auth.key, ca=ca)
    if koji.auth.method == "gssapi":
        return GssapiAuth(
            principal=koji.auth.principal,
            keytab=koji.auth.keytab,
            run_blocking=lambda f: deferToThreadPool(
                reactor, reactor.getThreadPool(), f
            ),
        )
    return None


def make_koji_client(
    reactor: Any,
    koji: KojiConfig,
    *,
    anonymous: bool = False,
    within_seconds: float | None = None,
    metrics: Metrics | None = None,
) -> KojiClient:
    """The Koji client of the configuration (reads a koji profile if named);
    ``anonymous``: one that never logs in (reads only); ``within_seconds``:
    no request waits longer and no call retries later than that (default:
    the client's request timeout and ``koji.give_up_after_seconds``); its
    calls are timed in ``metrics``."""
    hub = koji.hub
    ca = koji.auth.ca
    if koji.profile is not None:
        profile = hub_from_profile(koji.profile, koji.config)
        hub = profile.server
        ca = ca or profile.serverca
    auth = None if anonymous else _auth(reactor, koji, ca)
    assert hub is not None
    bounds: dict[str, Any] = {
        "retry": RetryPolicy(give_up_after_seconds=koji.give_up_after_seconds)
    }
    if within_seconds is not None:
        bounds = {
            "retry": RetryPolicy(give_up_after_seconds=within_seconds),
            "timeout_seconds": within_seconds,
        }
    return KojiClient(
        http=make_http_client(reactor, auth, ca),
        hub_url=hub,
        clock=reactor,
        auth=auth,
        metrics=metrics,
        **bounds,
    )


def tag_arches_reader(
    reactor: Any, koji: KojiConfig | None, metrics: Metrics | None = None
) -> Any:
    """What submissions read base module tag arches with: ``tag_arches`` of
    an anonymous Koji client of their own, so a submission never waits
    behind the scheduler's session (None without Koji)."""
    if koji is None:
        return None
    client = make_koji_client(
        reactor,
        koji,
        anonymous=True,
        within_seconds=min(SUBMISSION_KOJI_SECONDS, koji.give_up_after_seconds),
        metrics=metrics,
    )
    return KojiHub(client=client).tag_arches
