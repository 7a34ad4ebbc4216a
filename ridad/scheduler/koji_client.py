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
from ridad.koji.tls import make_http_client


def make_koji_client(reactor: Any, koji: KojiConfig) -> KojiClient:
    """The Koji client of the configuration (reads a koji profile if named)."""
    hub = koji.hub
    ca = koji.auth.ca
    if koji.profile is not None:
        profile = hub_from_profile(koji.profile, koji.config)
        hub = profile.server
        ca = ca or profile.serverca
    auth: Any = None
    if koji.auth.method == "password":
        auth = PasswordAuth(user=koji.auth.user, password=koji.auth.password)
    elif koji.auth.method == "ssl":
        auth = SslAuth(cert=koji.auth.cert, key=koji.auth.key, ca=ca)
    elif koji.auth.method == "gssapi":
        auth = GssapiAuth(
            principal=koji.auth.principal,
            keytab=koji.auth.keytab,
            run_blocking=lambda f: deferToThreadPool(
                reactor, reactor.getThreadPool(), f
            ),
        )
    assert hub is not None
    return KojiClient(
        http=make_http_client(reactor, auth, ca),
        hub_url=hub,
        clock=reactor,
        auth=auth,
        retry=RetryPolicy(give_up_after_seconds=koji.give_up_after_seconds),
    )
