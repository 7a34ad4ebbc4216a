"""The leader's part of the composition root: the build driver (Koji client,
macros, tracking, the module's import, sweeps, the Greenwave gate), the
broker connection with its subscriptions, the outbox relay, and the leader
service running them as jobs while this process holds the scheduler lock.
Only ``ridad.composition`` imports it.
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

from ridad.bus.connection import BusConnection
from ridad.bus.publisher import StompPublisher
from ridad.bus.subscriptions import Subscription
from ridad.config.model import Config, MessagingConfig
from ridad.db.builds import SchedulingStore
from ridad.db.cluster_access import make_state_dir
from ridad.db.outbox import OutboxRelayStore
from ridad.db.pool import Pool
from ridad.domain.buildroot import conflicts_text
from ridad.domain.builds import ModuleBuild
from ridad.koji.hub import KojiHub
from ridad.leader.lock import SchedulerLock
from ridad.leader.service import LeaderJob, LeaderService
from ridad.metrics.instruments import Metrics
from ridad.outbox.relay import OutboxRelay
from ridad.scheduler.cgimport import make_importer
from ridad.scheduler.driver import BuildDriver
from ridad.scheduler.events import event_subscriptions
from ridad.scheduler.gating import GreenwaveGate, greenwave_gate
from ridad.scheduler.koji_client import make_koji_client
from ridad.scheduler.macros import MacrosSrpm, build_macros_srpm
from ridad.scheduler.sweeps import make_sweeps
from ridad.transitions import Transitions

OUTBOX_INTERVAL_SECONDS = 1.0


def thread_runner(reactor: Any) -> Callable[[Callable[[], Any]], Deferred[Any]]:
    """A ``run_blocking`` that runs blocking work (modulemd parsing, removing
    git workspaces, the final modulemd) in the reactor's thread pool."""
    return lambda f: deferToThreadPool(reactor, reactor.getThreadPool(), f)


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
    metrics: Metrics | None = None,
) -> BuildDriver:
    """The build driver: Koji client, environment, macros, tracking, the
    module's import into Koji, sweeps, and the gate a done build passes
    (None: ``ready`` at once)."""
    koji_config = config.koji
    assert koji_config is not None
    koji = KojiHub(client=make_koji_client(reactor, koji_config, metrics=metrics))
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
        metrics=metrics,
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
    reactor: Any,
    config: Config,
    pool: Pool,
    transitions: Transitions,
    metrics: Metrics | None = None,
) -> Leader:
    """The broker connection and the leader service with its jobs, all
    reporting to ``metrics``."""
    leader = Leader()
    jobs: list[LeaderJob] = []
    subscriptions: list[Subscription] = []
    if config.koji is not None:
        gate = None
        if config.greenwave is not None:
            gate = greenwave_gate(reactor, config.greenwave, transitions)
        driver = make_driver(reactor, config, pool, transitions, gate, metrics)
        builds = LeaderJob(
            name="builds",
            interval_seconds=config.koji.poll_interval_seconds,
            run=driver.run,
            clock=reactor,
            on_stop=driver.close,
            metrics=metrics,
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
        outbox = outbox_job(reactor, config.messaging, pool, bus, metrics)
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
            metrics=metrics,
        )
        leader.services.append(leader.service)
    return leader


def outbox_job(
    reactor: Any,
    messaging: MessagingConfig,
    pool: Pool,
    bus: BusConnection,
    metrics: Metrics | None = None,
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
        metrics=metrics,
    )
