"""Composition of what only the active scheduler runs (driving builds in
Koji, publishing the outbox) and of the broker connection; called from
``ridad.tap.makeService`` with the reactor."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from twisted.application.service import IService
from twisted.internet.endpoints import clientFromString
from twisted.internet.threads import deferToThreadPool

from ridad.bus.connection import BusConnection
from ridad.bus.publisher import StompPublisher
from ridad.config.model import Config, KojiConfig, MessagingConfig
from ridad.db.builds import SchedulingStore
from ridad.db.outbox import OutboxRelayStore
from ridad.db.pool import Pool
from ridad.domain.builds import ModuleBuild
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
from ridad.scheduler.driver import BuildDriver
from ridad.scheduler.events import KojiEventListener
from ridad.scheduler.leader import SchedulerLock
from ridad.scheduler.macros import MacrosSrpm, build_macros_srpm
from ridad.scheduler.relay import OutboxRelay
from ridad.scheduler.service import LeaderJob, SchedulerService
from ridad.transitions import Transitions

OUTBOX_INTERVAL_SECONDS = 1.0


@dataclass
class Leader:
    """The services to add to the tree (in order) and start-up warnings."""

    scheduler: SchedulerService | None = None
    services: list[IService] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


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


def make_driver(
    reactor: Any, config: Config, pool: Pool, transitions: Transitions
) -> BuildDriver:
    """The build driver: Koji client, environment, macros, tracking."""
    koji_config = config.koji
    assert koji_config is not None
    koji = make_koji_client(reactor, koji_config)
    work_dir = str(Path(config.state_dir) / "tmp")

    async def build_macros(build: ModuleBuild) -> MacrosSrpm:
        Path(work_dir).mkdir(parents=True, exist_ok=True)
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
        )

    return BuildDriver(
        store=SchedulingStore(pool=pool),
        koji=KojiHub(client=koji),
        transitions=transitions,
        config=koji_config,
        clock=reactor,
        build_macros=build_macros,
    )


def make_bus(reactor: Any, messaging: MessagingConfig) -> BusConnection:
    """The broker connection (reconnecting with backoff)."""
    stomp = messaging.stomp
    return BusConnection(
        endpoint=clientFromString(reactor, stomp.endpoint),
        clock=reactor,
        login=stomp.login,
        passcode=stomp.passcode,
        vhost=stomp.vhost or "/",
        heart_beat_ms=(stomp.heart_beat_ms, stomp.heart_beat_ms),
    )


def compose_leader(
    reactor: Any, config: Config, pool: Pool, transitions: Transitions
) -> Leader:
    """The broker connection and the scheduler with its leader jobs."""
    leader = Leader()
    jobs: list[LeaderJob] = []
    driver = None
    if config.koji is not None:
        driver = make_driver(reactor, config, pool, transitions)
        jobs.append(
            LeaderJob("builds", config.koji.poll_interval_seconds, driver.cycle)
        )
    else:
        leader.warnings.append(
            "No koji section in the configuration: builds stay in init"
        )
    bus = None
    if config.messaging is not None:
        bus = make_bus(reactor, config.messaging)
        leader.services.append(bus)
        relay = OutboxRelay(
            store=OutboxRelayStore(pool=pool),
            publisher=StompPublisher(connection=bus),
            clock=reactor,
            destination_prefix=config.messaging.destination_prefix,
            retention=timedelta(days=config.messaging.outbox_retention_days),
        )
        jobs.append(
            LeaderJob("outbox", OUTBOX_INTERVAL_SECONDS, lambda epoch: relay.drain())
        )
    else:
        leader.warnings.append(
            "No messaging section in the configuration: state changes wait in"
            " the outbox and nothing is published"
        )
    if not jobs:
        return leader
    holder = f"{socket.gethostname()}:{os.getpid()}"
    scheduler = SchedulerService(
        jobs=jobs,
        lock_factory=lambda **callbacks: SchedulerLock(
            pool=pool, clock=reactor, holder=holder, **callbacks
        ),
        clock=reactor,
    )
    scheduler.driver = driver
    leader.scheduler = scheduler
    leader.services.append(scheduler)
    if driver is not None:
        # A state change (a submission, a cancel, or the driver's own step)
        # usually lets a build take its next step: run a cycle at once rather
        # than one poll interval later. Cycles that change no state end this.
        transitions.add_commit_listener(lambda: scheduler.poke("builds"))
    if bus is not None:
        transitions.add_commit_listener(lambda: scheduler.poke("outbox"))
        if driver is not None:
            scheduler.listeners = listen_to_koji(
                bus, config.messaging, driver, scheduler
            )
    return leader


def listen_to_koji(
    bus: BusConnection,
    messaging: MessagingConfig | None,
    driver: BuildDriver,
    scheduler: SchedulerService,
) -> list[KojiEventListener]:
    """Subscribe to Koji's bus events; a tracked one makes the scheduler poll."""
    listeners = []
    for subscription in messaging.subscriptions if messaging else ():
        listener = KojiEventListener(
            format=subscription.format,
            tracked_tasks=lambda: driver.tracked_tasks,
            tracked_tags=lambda: driver.tracked_tags,
            poke=lambda: scheduler.poke("builds"),
        )
        bus.subscribe(
            subscription.destination,
            lambda frame, listener=listener: listener.handle(
                frame.header("destination") or "", dict(frame.headers), frame.body
            ),
        )
        listeners.append(listener)
    return listeners
