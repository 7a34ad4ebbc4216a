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

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twisted.internet.endpoints import serverFromString
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
from ridad.api.metrics import METRICS_PATH, MetricsResource
from ridad.api.site import make_site
from ridad.api.submission import SubmissionVerifier
from ridad.api.webhooks import webhook_receiver
from ridad.composition_leader import (
    Leader,
    compose_leader,
    thread_runner,
)
from ridad.config.model import Config, LiveConfig
from ridad.config.parse import parse_config
from ridad.db.builds import ModuleBuildStore
from ridad.db.embedded import EmbeddedPostgres
from ridad.db.mbs_queries import MbsQueryStore
from ridad.db.metrics_reads import MetricsStore
from ridad.db.pool import Pool
from ridad.errors import ConfigError, Unprocessable
from ridad.metrics.instruments import Metrics
from ridad.scheduler.koji_client import tag_arches_reader
from ridad.scm.git import GitClient
from ridad.scm.url import parse_repository
from ridad.scm.whitelist import Whitelist
from ridad.service import ApiListener, RidadService, fatal_stopper
from ridad.transitions import Transitions
from ridad.web.app import status_page_routes


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
    """What the API and the leader share: the pool, its stores, transitions,
    and the metrics they all report to."""

    pool: Pool
    builds: ModuleBuildStore
    transitions: Transitions
    embedded: EmbeddedPostgres | None
    metrics: Metrics


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
    leader = compose_leader(
        reactor, config, stores.pool, stores.transitions, stores.metrics
    )
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
    if config.metrics.listen is not None:  # GET /metrics on a port of its own
        scrape = metrics_resource(reactor, stores)
        ApiListener(
            endpoint=serverFromString(reactor, config.metrics.listen),
            factory=make_site(api_resource=scrape, config=live, reactor=reactor),
            on_fatal=on_fatal,
            description=config.metrics.listen,
            name="metrics",
        ).setServiceParent(root)
    return root


def metrics_resource(reactor: Any, stores: Stores) -> MetricsResource:
    """What answers ``GET /metrics``."""
    return MetricsResource(
        metrics=stores.metrics,
        store=MetricsStore(pool=stores.pool),
        clock=reactor,
        run_blocking=thread_runner(reactor),
    )


def make_stores(reactor: Any, config: Config) -> Stores:
    """The pool (on the embedded cluster if configured), stores, transitions."""
    embedded, metrics = None, Metrics()
    if config.database.embedded:
        embedded = EmbeddedPostgres(state_dir=config.state_dir, reactor=reactor)
    pool = Pool(
        dsn=None if embedded else config.database.dsn,
        reactor=reactor,
        size=config.database.pool_size,
        statement_timeout_seconds=config.database.statement_timeout_seconds,
        metrics=metrics,
    )
    builds = ModuleBuildStore(pool=pool)
    transitions = Transitions(pool=pool, clock=reactor, metrics=metrics)
    return Stores(pool, builds, transitions, embedded, metrics)


def make_git(
    reactor: Any,
    config: Config,
    run_blocking: Callable[[Callable[[], Any]], Any],
    metrics: Metrics | None = None,
) -> GitClient:
    """The git client of submissions and imports, with ``scm``'s limits."""
    return GitClient(
        reactor=reactor,
        timeout_seconds=config.scm.git_timeout_seconds,
        max_concurrent=config.scm.max_concurrent_git,
        first_byte_timeout_seconds=config.scm.git_first_byte_timeout_seconds,
        max_fetch_bytes=config.scm.max_fetch_bytes,
        run_blocking=run_blocking,
        metrics=metrics,
    )


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
    git = make_git(reactor, config, run_blocking, stores.metrics)
    submissions = SubmissionVerifier(
        config=live, git=git, builds=stores.builds, pool=stores.pool,
        transitions=stores.transitions, run_blocking=run_blocking, clock=reactor,
        tag_arches=tag_arches_reader(reactor, config.koji, stores.metrics),
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
            **more_routes(reactor, config, live, stores),
        },
        metrics=stores.metrics,
    )


def more_routes(
    reactor: Any, config: Config, live: LiveConfig, stores: Stores
) -> dict[bytes, Any]:
    """The status page's paths, and ``/metrics`` unless ``metrics.listen``
    serves it on a port of its own."""
    routes: dict[bytes, Any] = status_page_routes(
        stores.pool, stores.builds, live, reactor
    )
    if config.metrics.listen is None:
        routes[METRICS_PATH] = metrics_resource(reactor, stores)
    return routes
