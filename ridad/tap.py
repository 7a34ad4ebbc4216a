"""The composition root: ``twistd ridad`` options and ``makeService``.

This module (with ``ridad/kojisim/tap.py``) is the only one that touches the
global reactor.
"""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path
from typing import Any

from twisted.application.internet import StreamServerEndpointService
from twisted.internet.endpoints import serverFromString
from twisted.python import usage

from ridad.api.app import RidadApi
from ridad.api.site import make_site
from ridad.api.submission import SubmissionVerifier
from ridad.config import (
    DEFAULT_CONFIG_PATH,
    Config,
    KojiConfig,
    LiveConfig,
    parse_config,
)
from ridad.db.builds import ModuleBuildStore, SchedulingStore
from ridad.domain.builds import ModuleBuild
from ridad.koji.auth import hub_from_profile
from ridad.koji.client import KojiClient, PasswordAuth, RetryPolicy, SslAuth
from ridad.koji.tls import make_http_client
from ridad.modulemd.parse import load_modulemd
from ridad.scheduler.driver import BuildDriver
from ridad.scheduler.leader import SchedulerLock
from ridad.scheduler.macros import MacrosSrpm, build_macros_srpm
from ridad.scheduler.service import SchedulerService
from ridad.db.embedded import EmbeddedPostgres
from ridad.db.pool import Pool
from ridad.errors import ConfigError
from ridad.scm.git import GitClient
from ridad.scm.url import Whitelist, parse_repository
from ridad.service import RidadService
from ridad.transitions import Transitions


def read_config(path: str) -> Config:
    """Read and validate a configuration file, URLs included.

    :raises ConfigError: every problem found.
    :raises OSError: the file cannot be read.
    """
    config = parse_config(Path(path).read_text(encoding="utf-8"))
    problems = []
    for key, entries in (
        ("scm.allowed", config.scm.allowed),
        ("scm.rpms_allowed", config.scm.rpms_allowed),
    ):
        try:
            Whitelist(entries)
        except ValueError as e:
            problems.append(f"{key}: {e}")
    try:
        parse_repository(config.scm.rpms_default_repository)
    except Exception as e:  # noqa: BLE001 - reported as a config problem
        problems.append(f"scm.rpms_default_repository: {getattr(e, 'message', e)}")
    if problems:
        raise ConfigError(problems)
    return config


class Options(usage.Options):
    """Command line of ``twistd ridad``."""

    optParameters = [
        ["config", "c", DEFAULT_CONFIG_PATH, "The configuration file (YAML)."],
    ]

    def postOptions(self) -> None:
        """Read and validate the configuration before anything starts."""
        try:
            self["parsed_config"] = read_config(self["config"])
        except OSError as e:
            raise usage.UsageError(
                f"cannot read configuration {self['config']}: {e.strerror}"
            ) from None
        except ConfigError as e:
            listing = "\n  ".join(e.messages)
            raise usage.UsageError(
                f"configuration {self['config']} has problems:\n  {listing}"
            ) from None


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
    assert hub is not None
    return KojiClient(
        http=make_http_client(reactor, auth, ca),
        hub_url=hub,
        clock=reactor,
        auth=auth,
        retry=RetryPolicy(give_up_after_seconds=koji.give_up_after_seconds),
    )


def make_scheduler(
    reactor: Any, config: Config, pool: Pool, transitions: Transitions
) -> SchedulerService:
    """The scheduler service: lock, driver and poller."""
    koji_config = config.koji
    assert koji_config is not None
    koji = make_koji_client(reactor, koji_config)
    work_dir = str(Path(config.state_dir) / "tmp")

    async def build_macros(build: ModuleBuild) -> MacrosSrpm:
        Path(work_dir).mkdir(parents=True, exist_ok=True)
        document = load_modulemd(build.modulemd)
        return await build_macros_srpm(
            reactor=reactor,
            work_dir=work_dir,
            name=build.name,
            stream=build.stream,
            version=build.version,
            context=build.context,
            module_build_id=build.id,
            base_stream=build.base_stream,
            rpm_macros=document.rpm_macros,
        )

    driver = BuildDriver(
        store=SchedulingStore(pool=pool),
        koji=koji,
        transitions=transitions,
        config=koji_config,
        clock=reactor,
        build_macros=build_macros,
    )
    holder = f"{socket.gethostname()}:{os.getpid()}"
    return SchedulerService(
        driver=driver,
        lock_factory=lambda **callbacks: SchedulerLock(
            pool=pool, clock=reactor, holder=holder, **callbacks
        ),
        clock=reactor,
        interval_seconds=koji_config.poll_interval_seconds,
    )


def makeService(options: Options) -> RidadService:
    """Build the service tree from the options; nothing is started."""
    from twisted.internet import reactor

    config: Config = options["parsed_config"]
    live = LiveConfig(config)
    embedded = None
    if config.database.embedded:
        embedded = EmbeddedPostgres(state_dir=config.state_dir, reactor=reactor)
    pool = Pool(
        dsn=None if embedded else config.database.dsn,
        reactor=reactor,
        size=config.database.pool_size,
        statement_timeout_seconds=config.database.statement_timeout_seconds,
    )
    builds = ModuleBuildStore(pool=pool)
    transitions = Transitions(pool=pool, builds=builds, clock=reactor)
    git = GitClient(
        reactor=reactor,
        timeout_seconds=config.scm.git_timeout_seconds,
        max_concurrent=config.scm.max_concurrent_git,
    )
    submissions = SubmissionVerifier(
        config=live, git=git, builds=builds, transitions=transitions
    )
    scheduler = (
        make_scheduler(reactor, config, pool, transitions) if config.koji else None
    )
    api = RidadApi(
        builds=builds,
        submissions=submissions,
        transitions=transitions,
        database_status=pool.ping,
        scheduler_status=(lambda: scheduler.role) if scheduler else (lambda: "n/a"),
    )
    root = RidadService(
        pool=pool,
        clock=reactor,
        on_fatal=reactor.stop,
        config=live,
        read_config=lambda: read_config(options["config"]),
        embedded=embedded,
    )
    if scheduler is not None:
        scheduler.setServiceParent(root)
    else:
        root.log.warn("No koji section in the configuration: builds stay in init")
    site = make_site(api_resource=api.app.resource(), config=live)
    http = StreamServerEndpointService(serverFromString(reactor, config.listen), site)
    http.setName("http")
    http.setServiceParent(root)
    signal.signal(
        signal.SIGHUP, lambda signum, frame: reactor.callFromThread(root.reload)
    )
    return root
