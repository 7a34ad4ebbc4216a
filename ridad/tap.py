"""The composition root: ``twistd ridad`` options and ``makeService``.

This module (with ``ridad/kojisim/tap.py``) is the only one that touches the
global reactor.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThreadPool
from twisted.python import usage

from ridad.api.app import RidadApi
from ridad.api.auth_setup import api_endpoint, auth_problems, make_authentication
from ridad.api.mbs import MbsApi
from ridad.api.site import make_site
from ridad.api.submission import SubmissionVerifier
from ridad.composition import compose_leader
from ridad.config.model import DEFAULT_CONFIG_PATH, Config, LiveConfig
from ridad.config.parse import parse_config
from ridad.db.builds import ModuleBuildStore
from ridad.db.embedded import EmbeddedPostgres
from ridad.db.mbs_queries import MbsQueryStore
from ridad.db.pool import Pool
from ridad.errors import ConfigError
from ridad.scm.git import GitClient
from ridad.scm.url import parse_repository
from ridad.scm.whitelist import Whitelist
from ridad.service import ApiListener, RidadService
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
    problems.extend(auth_problems(config))
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


def thread_runner(reactor: Any) -> Callable[[Callable[[], Any]], Deferred[Any]]:
    """A ``run_blocking`` that runs blocking work (modulemd parsing, removing
    git workspaces) in the reactor's thread pool."""
    return lambda f: deferToThreadPool(reactor, reactor.getThreadPool(), f)


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
    run_blocking = thread_runner(reactor)
    transitions = Transitions(pool=pool, builds=builds, clock=reactor)
    git = GitClient(
        reactor=reactor,
        timeout_seconds=config.scm.git_timeout_seconds,
        max_concurrent=config.scm.max_concurrent_git,
        run_blocking=run_blocking,
    )
    submissions = SubmissionVerifier(
        config=live,
        git=git,
        builds=builds,
        transitions=transitions,
        run_blocking=run_blocking,
    )
    leader = compose_leader(reactor, config, pool, transitions)
    scheduler = leader.scheduler
    authentication = make_authentication(reactor, config)
    api = RidadApi(
        builds=builds,
        submissions=submissions,
        transitions=transitions,
        database_status=pool.ping,
        scheduler_status=(lambda: scheduler.role) if scheduler else (lambda: "n/a"),
        authenticator=authentication.authenticator,
        authorizer=authentication.authorizer,
    )
    mbs = MbsApi(
        builds=builds,
        queries=MbsQueryStore(pool=pool),
        submissions=submissions,
        transitions=transitions,
        authenticator=authentication.authenticator,
        authorizer=authentication.authorizer,
    )
    root = RidadService(
        pool=pool,
        clock=reactor,
        on_fatal=reactor.stop,
        config=live,
        read_config=lambda: read_config(options["config"]),
        embedded=embedded,
    )
    for service in leader.services:
        service.setServiceParent(root)
    for warning in leader.warnings + list(authentication.warnings):
        root.log.warn(warning)
    site = make_site(
        api_resource=api.app.resource(),
        config=live,
        by_prefix={b"/module-build-service": mbs.app.resource()},
    )
    http = ApiListener(
        endpoint=api_endpoint(reactor, config),
        factory=site,
        on_fatal=reactor.stop,
        description=config.listen,
    )
    http.setServiceParent(root)
    signal.signal(
        signal.SIGHUP, lambda signum, frame: reactor.callFromThread(root.reload)
    )
    return root
