"""``twistd kojisim``: serve a simulated Koji hub at ``/kojihub``.

    twistd -n kojisim --listen tcp:8099:interface=127.0.0.1 --user admin:pw
        [--fail-package NAME]... [--fail-buildroot-package NAME]...
        [--build-seconds S] [--work-dir DIR]
        [--content-generator NAME | --no-content-generator]
        [--tls-cert FILE --tls-key FILE --tls-ca FILE]
        [--stomp ENDPOINT [--stomp-prefix /topic/koji.]
         [--stomp-login L --stomp-passcode P]]

Every ``--user`` is an admin and may import as the content generator
``--content-generator`` (default ``module-build-service``, with the build
type ``module``); ``--no-content-generator`` starts the hub as a new Koji
hub is, without either. With the TLS options the listen port speaks
HTTPS and asks for (but does not require) a client certificate signed by
``--tls-ca``; a verified certificate's CN logs in through ``sslLogin`` at
``/kojihub/ssllogin``. This module (with ``ridad/tap.py``) is the only one
that touches the global reactor.

With ``--stomp`` the hub publishes Koji's protonmsg bus messages to a STOMP
broker at the client endpoint ENDPOINT (``tcp:localhost:61613``), at
``--stomp-prefix`` + address (``/topic/koji.task.closed``, ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import IService, MultiService, Service
from twisted.internet.endpoints import (
    SSL4ServerEndpoint,
    clientFromString,
    serverFromString,
)
from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.internet.ssl import Certificate, CertificateOptions, PrivateCertificate
from twisted.python import usage
from twisted.web.server import Site

from ridad.kojisim.hub import DEFAULT_CONTENT_GENERATOR, DEFAULT_EVENT_PREFIX, KojiHub
from ridad.kojisim.stomp_publisher import StompSink

if TYPE_CHECKING:
    from ridad.bus.connection import BusConnection

__all__ = ["Options", "makeService", "tls_endpoint"]


class Options(usage.Options):
    """Command line of ``twistd kojisim``."""

    optParameters = [
        [
            "listen",
            "l",
            "tcp:8099:interface=127.0.0.1",
            "Endpoint to serve the hub on.",
        ],
        ["build-seconds", None, "1", "How long a build takes (0: at once)."],
        [
            "work-dir",
            None,
            None,
            "Where uploads go (default: a new temporary directory).",
        ],
        ["tls-cert", None, None, "Server certificate (PEM) for HTTPS."],
        ["tls-key", None, None, "Server private key (PEM)."],
        ["tls-ca", None, None, "CA (PEM) that signs accepted client certificates."],
        ["stomp", None, None, "STOMP broker endpoint to publish bus messages to."],
        ["stomp-prefix", None, DEFAULT_EVENT_PREFIX, "Destination prefix."],
        ["stomp-login", None, None, "STOMP login."],
        ["stomp-passcode", None, None, "STOMP passcode."],
        [
            "content-generator",
            None,
            DEFAULT_CONTENT_GENERATOR,
            "Content generator every --user may import as.",
        ],
    ]
    optFlags = [
        [
            "no-content-generator",
            None,
            "No content generator and no module build type, as on a new hub.",
        ],
    ]

    def __init__(self) -> None:
        """Start with no users and no failing packages."""
        super().__init__()
        self["users"] = {}
        self["fail-packages"] = []
        self["fail-buildroot-packages"] = []

    def opt_user(self, value: str) -> None:
        """An admin user, as NAME:PASSWORD (repeatable)."""
        name, sep, password = value.partition(":")
        if not name or not sep or not password:
            raise usage.UsageError(f"--user wants NAME:PASSWORD, not {value!r}")
        self["users"][name] = password

    def opt_fail_package(self, value: str) -> None:
        """A package whose builds fail as with a broken SPEC (repeatable)."""
        self["fail-packages"].append(value)

    def opt_fail_buildroot_package(self, value: str) -> None:
        """A package whose buildroot cannot be installed (repeatable)."""
        self["fail-buildroot-packages"].append(value)

    def postOptions(self) -> None:
        """Check the numbers and the TLS options.

        :raises usage.UsageError: a bad value.
        """
        try:
            self["build-seconds"] = float(self["build-seconds"])
        except ValueError:
            raise usage.UsageError("--build-seconds wants a number") from None
        if self["build-seconds"] < 0:
            raise usage.UsageError("--build-seconds cannot be negative")
        tls = [self["tls-cert"], self["tls-key"], self["tls-ca"]]
        if any(tls) and not all(tls):
            raise usage.UsageError("--tls-cert, --tls-key and --tls-ca go together")
        if (self["stomp-login"] is None) != (self["stomp-passcode"] is None):
            raise usage.UsageError("--stomp-login and --stomp-passcode go together")
        if self["stomp-login"] is not None and not self["stomp"]:
            raise usage.UsageError("--stomp-login needs --stomp")


class _HubService(Service):
    """Stops the hub's builder when the process stops."""

    def __init__(self, hub: KojiHub) -> None:
        """Watch ``hub``."""
        self._hub = hub

    def stopService(self) -> Any:
        """Stop the builder."""
        self._hub.stop()
        return super().stopService()


def tls_endpoint(
    reactor: Any, listen: str, *, cert: str, key: str, ca: str
) -> IStreamServerEndpoint:
    """An HTTPS endpoint on ``listen``'s port that verifies optional client certificates.

    :raises usage.UsageError: ``listen`` is not ``tcp:PORT[:interface=ADDR]``.
    """
    parts = listen.split(":")
    if parts[0] != "tcp" or len(parts) < 2 or not parts[1].isdigit():
        raise usage.UsageError("with TLS, --listen must be tcp:PORT[:interface=ADDR]")
    options = dict(p.split("=", 1) for p in parts[2:] if "=" in p)
    server = PrivateCertificate.loadPEM(
        Path(cert).read_bytes() + Path(key).read_bytes()
    )
    authority = Certificate.loadPEM(Path(ca).read_bytes())
    context = CertificateOptions(
        privateKey=server.privateKey.original,
        certificate=server.original,
        verify=True,
        caCerts=[authority.original],
        requireCertificate=False,
    )
    return SSL4ServerEndpoint(
        reactor, int(parts[1]), context, interface=options.get("interface", "")
    )


def bus_connection(reactor: Any, options: Options) -> BusConnection:
    """The STOMP connection service for ``--stomp`` (not started)."""
    from ridad.bus.connection import BusConnection

    return BusConnection(
        endpoint=clientFromString(reactor, options["stomp"]),
        login=options["stomp-login"],
        passcode=options["stomp-passcode"],
        clock=reactor,
    )


def makeService(options: Options) -> IService:
    """The hub behind an HTTP(S) server on ``--listen``, publishing with ``--stomp``."""
    from twisted.internet import reactor

    service = MultiService()
    sink = None
    if options["stomp"]:
        bus = bus_connection(reactor, options)
        bus.setServiceParent(service)
        sink = StompSink(publisher=bus)
    hub = KojiHub(
        clock=reactor,
        reactor=reactor,
        users=options["users"],
        build_seconds=options["build-seconds"],
        fail_packages=options["fail-packages"],
        fail_buildroot_packages=options["fail-buildroot-packages"],
        upload_dir=options["work-dir"],
        event_sink=sink,
        event_prefix=options["stomp-prefix"],
        content_generator=None
        if options["no-content-generator"]
        else options["content-generator"],
    )
    if options["tls-cert"]:
        endpoint = tls_endpoint(
            reactor,
            options["listen"],
            cert=options["tls-cert"],
            key=options["tls-key"],
            ca=options["tls-ca"],
        )
    else:
        endpoint = serverFromString(reactor, options["listen"])
    _HubService(hub).setServiceParent(service)
    StreamServerEndpointService(endpoint, Site(hub.resource())).setServiceParent(
        service
    )
    return service
