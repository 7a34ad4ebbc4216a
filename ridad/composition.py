"""The composition root: the one place that builds ridad's service tree.

:func:`compose` turns a validated configuration into the root
:class:`~ridad.service.RidadService`: the pool and stores, transitions, git,
the submission verifier, the APIs and their site, the leader's jobs (driving
builds in Koji, gated by Greenwave when configured, relaying the outbox), the
broker connection with the Koji and Greenwave event listeners, and the HTTP
listener last. It is called from
``ridad.tap.makeService`` with the reactor and starts nothing.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from twisted.application.service import IService
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import clientFromString
from twisted.internet.threads import deferToThreadPool
from twisted.web.server import Site

from ridad.api.app import RidadApi
from ridad.api.auth_setup import (
    Authentication,
    api_endpoint,
    auth_problems,
    make_authentication,
)
from ridad.api.change_feed import ChangeFeed, change_feed
from ridad.api.imports import (
    ModuleImporter,
    configured_base_modules,
    import_configured_base_modules,
)
from ridad.api.mbs import MbsApi
from ridad.api.site import make_site
from ridad.api.submission import SubmissionVerifier
from ridad.api.webhooks import webhook_receiver
from ridad.bus.connection import BusConnection
from ridad.bus.publisher import StompPublisher
from ridad.bus.subscriptions import Subscription
from ridad.config.model import Config, LiveConfig, MessagingConfig
from ridad.config.parse import parse_config
from ridad.db.builds import ModuleBuildStore, SchedulingStore
from ridad.db.cluster_access import make_state_dir
from ridad.db.embedded import EmbeddedPostgres
from ridad.db.mbs_queries import MbsQueryStore
from ridad.db.outbox import OutboxRelayStore
from ridad.db.pool import Pool
from ridad.domain.buildroot import conflicts_text
from ridad.domain.builds import ModuleBuild
from ridad.errors import ConfigError, Unprocessable
from ridad.koji.hub import KojiHub
from ridad.leader.lock import SchedulerLock
from ridad.leader.service import LeaderJob, LeaderService
from ridad.outbox.relay import OutboxRelay
from ridad.scheduler.cgimport import make_importer
from ridad.scheduler.driver import BuildDriver
from ridad.scheduler.events import event_subscriptions
from ridad.scheduler.gating import GreenwaveGate, greenwave_gate
from ridad.scheduler.koji_client import make_koji_client, tag_arches_reader
from ridad.scheduler.macros import MacrosSrpm, build_macros_srpm
from ridad.scheduler.sweeps import make_sweeps
from ridad.scm.git import GitClient
from ridad.scm.url import parse_repository
from ridad.scm.whitelist import Whitelist
from ridad.service import ApiListener, RidadService, fatal_stopper
from ridad.transitions import Transitions
from ridad.web.app import status_page_routes

OUTBOX_INTERVAL_SECONDS = 1.0


def thread_runner(reactor: Any) -> Callable[[Callable[[], Any]], Deferred[Any]]:
    """A ``run_blocking`` that runs blocking work (modulemd parsing, removing
    git workspaces, the final modulemd) in the reactor's thread pool."""
    return lambda f: deferToThreadPool(reactor, reactor.getThreadPool(), f)


def read_config(path: str) -> Config:
    """Read and validate a configuration file, URLs included.

    :returns: the configuration.
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
    problems.extend(auth_problems(config))
    try:
        configured_base_modules(config)
    except Unprocessable as e:
        problems.append(f"koji.base_module_tags: {e.message}")
    if problems:
        raise ConfigError(problems)
    return config


@dataclass(frozen=True)
class Stores:
    """What the API and the leader share: the pool, its stores, transitions."""

    pool: Pool
    builds: ModuleBuildStore
    transitions: Transitions
    embedded: EmbeddedPostgres | None


def compose(reactor: Any, config: Config, config_path: str) -> RidadService:
    """Build the whole service tree of ``config``; nothing is started.

    ``config_path`` is the file SIGHUP reads again.

    :returns: the root service.
    :raises ConfigError: a certificate, key or keytab the configuration
        names cannot be used.
    """
    live = LiveConfig(config)
    on_fatal = fatal_stopper(reactor)
    stores = make_stores(reactor, config)
    leader = compose_leader(reactor, config, stores.pool, stores.transitions)
    authentication = make_authentication(reactor, config)
    root = RidadService(
        pool=stores.pool,
        clock=reactor,
        on_fatal=on_fatal,
        config=live,
        read_config=lambda: read_config(config_path),
        embedded=stores.embedded,
        from_thread=reactor,
        on_database=lambda: import_configured_base_modules(
            config, stores.builds, stores.transitions
        ),
    )
    for service in leader.services:
        service.setServiceParent(root)
    for warning in leader.warnings + list(authentication.warnings):
        root.log.warn(warning)
    feed = change_feed(reactor, lambda: live.current.api, stores.pool)
    feed.setServiceParent(root)
    site = make_api_site(reactor, config, live, stores, leader, authentication, feed)
    http = ApiListener(
        endpoint=api_endpoint(reactor, config),
        factory=site,
        on_fatal=on_fatal,
        description=config.listen,
    )
    http.setServiceParent(root)
    return root


def make_stores(reactor: Any, config: Config) -> Stores:
    """The pool (on the embedded cluster if configured), stores, transitions."""
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
    transitions = Transitions(pool=pool, clock=reactor)
    return Stores(pool=pool, builds=builds, transitions=transitions, embedded=embedded)


def make_api_site(
    reactor: Any,
    config: Config,
    live: LiveConfig,
    stores: Stores,
    leader: Leader,
    authentication: Authentication,
    feed: ChangeFeed | None = None,
) -> Site:
    """The HTTP site: ridad's API, the MBS-compatible one, the status page."""
    run_blocking = thread_runner(reactor)
    git = GitClient(
        reactor=reactor,
        timeout_seconds=config.scm.git_timeout_seconds,
        max_concurrent=config.scm.max_concurrent_git,
        first_byte_timeout_seconds=config.scm.git_first_byte_timeout_seconds,
        max_fetch_bytes=config.scm.max_fetch_bytes,
        run_blocking=run_blocking,
    )
    submissions = SubmissionVerifier(
        config=live, git=git, builds=stores.builds, pool=stores.pool,
        transitions=stores.transitions, run_blocking=run_blocking,
        clock=reactor, tag_arches=tag_arches_reader(reactor, config.koji),
    )  # fmt: skip
    importer = ModuleImporter(
        config=live, git=git, transitions=stores.transitions, run_blocking=run_blocking
    )
    service = leader.service

    def public_url() -> str | None:
        return live.current.api.public_url

    api = RidadApi(
        builds=stores.builds,
        submissions=submissions,
        transitions=stores.transitions,
        database_status=stores.pool.ping,
        scheduler_status=(lambda: service.role) if service else (lambda: "n/a"),
        authenticator=authentication.authenticator,
        authorizer=authentication.authorizer,
        public_url=public_url,
        importer=importer,
        feed=feed,
        webhooks=webhook_receiver(live, submissions, stores.transitions, stores.pool),
    )
    mbs = MbsApi(
        builds=stores.builds,
        queries=MbsQueryStore(pool=stores.pool),
        submissions=submissions,
        transitions=stores.transitions,
        authenticator=authentication.authenticator,
        authorizer=authentication.authorizer,
        public_url=public_url,
        importer=importer,
        cg_tag=lambda: live.current.koji.cg_tag if live.current.koji else None,
        builds_config=lambda: live.current.builds,
    )
    return make_site(
        api_resource=api.app.resource(),
        config=live,
        reactor=reactor,
        by_prefix={
            b"/module-build-service": mbs.app.resource(),
            **status_page_routes(stores.pool, stores.builds, live, reactor),
        },
    )


@dataclass
class Leader:
    """The services to add to the tree (in order) and start-up warnings."""

    service: LeaderService | None = None
    services: list[IService] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def make_driver(
    reactor: Any,
    config: Config,
    pool: Pool,
    transitions: Transitions,
    gate: GreenwaveGate | None = None,
) -> BuildDriver:
    """The build driver: Koji client, environment, macros, tracking, the
    module's import into Koji, sweeps, and the gate a done build passes
    (None: ``ready`` at once)."""
    koji_config = config.koji
    assert koji_config is not None
    koji = KojiHub(client=make_koji_client(reactor, koji_config))
    work_dir = str(Path(config.state_dir) / "tmp")

    async def build_macros(build: ModuleBuild, dist: str) -> MacrosSrpm:
        make_state_dir(config.state_dir)
        Path(work_dir).mkdir(mode=0o750, exist_ok=True)
        return await build_macros_srpm(
            reactor=reactor,
            work_dir=work_dir,
            name=build.name,
            stream=build.stream,
            version=build.version,
            context=build.context,
            module_build_id=build.id,
            base_stream=build.base_stream,
            rpm_macros=build.rpm_macros,
            conflicts=conflicts_text(build.buildrequires),
            dist=dist,
        )

    return BuildDriver(
        store=SchedulingStore(pool=pool),
        koji=koji,
        transitions=transitions,
        config=koji_config,
        clock=reactor,
        build_macros=build_macros,
        importer=make_importer(
            pool=pool,
            koji=koji,
            transitions=transitions,
            config=koji_config,
            clock=reactor,
            run_blocking=thread_runner(reactor),
        ),
        gate=gate,
        sweeps=make_sweeps(config, pool, transitions, koji=koji, clock=reactor),
    )


def make_bus(
    reactor: Any, messaging: MessagingConfig, subscriptions: list[Subscription]
) -> BusConnection:
    """The broker connection (reconnecting with backoff) and its subscriptions."""
    stomp = messaging.stomp
    return BusConnection(
        endpoint=clientFromString(reactor, stomp.endpoint),
        clock=reactor,
        login=stomp.login,
        passcode=stomp.passcode,
        vhost=stomp.vhost or "/",
        heart_beat_ms=(stomp.heart_beat_ms, stomp.heart_beat_ms),
        subscriptions=subscriptions,
    )


def compose_leader(
    reactor: Any, config: Config, pool: Pool, transitions: Transitions
) -> Leader:
    """The broker connection and the leader service with its jobs."""
    leader = Leader()
    jobs: list[LeaderJob] = []
    subscriptions: list[Subscription] = []
    if config.koji is not None:
        gate = None
        if config.greenwave is not None:
            gate = greenwave_gate(reactor, config.greenwave, transitions)
        driver = make_driver(reactor, config, pool, transitions, gate)
        builds = LeaderJob(
            name="builds",
            interval_seconds=config.koji.poll_interval_seconds,
            run=driver.cycle,
            clock=reactor,
            on_stop=driver.close,
        )
        jobs.append(builds)
        # A state change (a submission, a cancel, or the driver's own step)
        # usually lets a build take its next step: run a cycle at once rather
        # than one poll interval later. Cycles that change no state end this.
        transitions.add_commit_listener(builds.poke)
        subscriptions = event_subscriptions(
            config.messaging, driver=driver, gate=gate, poke=builds.poke
        )
    else:
        leader.warnings.append(
            "No koji section in the configuration: builds stay in init"
        )
    if config.messaging is not None:
        bus = make_bus(reactor, config.messaging, subscriptions)
        leader.services.append(bus)
        outbox = outbox_job(reactor, config.messaging, pool, bus)
        jobs.append(outbox)
        transitions.add_commit_listener(outbox.poke)
    else:
        leader.warnings.append(
            "No messaging section in the configuration: state changes wait in"
            " the outbox and nothing is published"
        )
    if jobs:
        holder = f"{socket.gethostname()}:{os.getpid()}"
        leader.service = LeaderService(
            jobs=jobs,
            lock_factory=lambda **callbacks: SchedulerLock(
                pool=pool, clock=reactor, holder=holder, **callbacks
            ),
        )
        leader.services.append(leader.service)
    return leader


def outbox_job(
    reactor: Any, messaging: MessagingConfig, pool: Pool, bus: BusConnection
) -> LeaderJob:
    """The leader job that relays the outbox to the broker."""
    relay = OutboxRelay(
        store=OutboxRelayStore(pool=pool),
        publisher=StompPublisher(connection=bus),
        clock=reactor,
        destination_prefix=messaging.destination_prefix,
        retention=timedelta(days=messaging.outbox_retention_days),
    )
    return LeaderJob(
        name="outbox",
        interval_seconds=OUTBOX_INTERVAL_SECONDS,
        run=lambda epoch: relay.drain(),
        clock=reactor,
    )
