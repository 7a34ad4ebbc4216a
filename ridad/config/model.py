"""ridad's configuration values: the frozen dataclasses ``parse_config`` builds.

``Config`` and its sections (``DatabaseConfig``, ``ScmConfig``, ``ApiConfig``, ``BuildsConfig``,
``KojiConfig``, ``MessagingConfig``, ``AuthConfig``, ``GreenwaveConfig`` and theirs), the defaults,
and ``LiveConfig``, the configuration in force that SIGHUP reloads.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ridad.domain.rebuild import CHANGED_AND_AFTER, REBUILD_STRATEGIES

if TYPE_CHECKING:  # ridad.config.webhooks imports this module's neighbours
    from ridad.config.webhooks import WebhooksConfig

DEFAULT_CONFIG_PATH = "/etc/ridad/ridad.yaml"
EMBEDDED = "embedded"


@dataclass(frozen=True)
class DatabaseConfig:
    """``database``: where the state lives."""

    dsn: str = EMBEDDED
    pool_size: int = 4
    statement_timeout_seconds: float = 30.0

    @property
    def embedded(self) -> bool:
        """Whether ridad runs its own PostgreSQL cluster under ``state_dir``."""
        return self.dsn == EMBEDDED


@dataclass(frozen=True)
class ScmConfig:
    """``scm``: where modules and components may come from."""

    allowed: tuple[str, ...] = ()
    rpms_default_repository: str = ""
    rpms_allowed: tuple[str, ...] = ()
    rpms_default_ref: str = "master"
    git_timeout_seconds: float = 120.0
    git_first_byte_timeout_seconds: float = 10.0
    max_concurrent_git: int = 8
    #: A modulemd may name another module than its repository.
    allow_name_override: bool = False
    #: A modulemd may name another stream than the branch.
    allow_stream_override: bool = False
    #: A modulemd may set its own version.
    allow_version_override: bool = False
    max_fetch_bytes: int = 52428800


@dataclass(frozen=True)
class ApiConfig:
    """``api``: limits, maintenance mode and public address of the HTTP API.

    ``public_url`` is the absolute URL clients reach ridad at (no trailing
    slash), or None: paging links are then relative.
    """

    max_body_bytes: int = 1048576
    maintenance: bool = False
    request_timeout_seconds: float = 30.0
    max_connections: int = 512
    public_url: str | None = None
    #: Origins (``scheme://host[:port]``, normalised) besides the API's own
    #: whose browser pages may write.
    allowed_origins: tuple[str, ...] = ()
    max_components: int = 1000
    #: The most module builds one submission may expand into (MSE siblings).
    max_expansions: int = 64
    #: Event streams (``.../events``) open at once; more get 503.
    max_event_streams: int = 256
    #: Events that may wait for a slow stream reader; past it, dropped.
    event_stream_queue: int = 1000
    #: ``compact``, ``full`` (Twisted's combined format) or ``off``; the share logged.
    access_log: str = "compact"
    access_log_sample: float = 1.0


@dataclass(frozen=True)
class BuildsConfig:
    """``builds``: what a submission may ask for beyond an SCM URL.

    Read at each submission, so SIGHUP changes them.
    """

    #: The rebuild strategy of a submission that names none.
    rebuild_strategy_default: str = CHANGED_AND_AFTER
    #: The strategies a submission may name (the default always included).
    rebuild_strategies_allowed: tuple[str, ...] = tuple(REBUILD_STRATEGIES)
    #: Whether scratch builds (``scratch: true``) are accepted.
    allow_scratch: bool = True
    #: Regular expressions (``re.search``) of branches that may only be
    #: built as scratch builds.
    scratch_branches: tuple[str, ...] = ()
    #: Whether a modulemd given in the body (not fetched from git) is
    #: accepted for builds that are not scratch builds.
    allow_yaml_submissions: bool = False


DEFAULT_BUILD_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "build",
        (
            "bash",
            "bzip2",
            "coreutils",
            "cpio",
            "diffutils",
            "findutils",
            "gawk",
            "gcc",
            "gcc-c++",
            "grep",
            "gzip",
            "info",
            "make",
            "module-build-macros",
            "patch",
            "redhat-rpm-config",
            "rpm-build",
            "sed",
            "shadow-utils",
            "tar",
            "unzip",
            "util-linux",
            "which",
            "xz",
        ),
    ),
    (
        "srpm-build",
        (
            "bash",
            "fedora-release",
            "fedpkg-minimal",
            "gnupg2",
            "module-build-macros",
            "redhat-rpm-config",
            "rpm-build",
            "shadow-utils",
        ),
    ),
)


@dataclass(frozen=True)
class KojiAuthConfig:
    """``koji.auth``: how ridad logs in to Koji."""

    method: str = "none"
    user: str | None = None
    password: str | None = None
    cert: str | None = None
    key: str | None = None
    ca: str | None = None
    principal: str | None = None
    keytab: str | None = None


@dataclass(frozen=True)
class KojiConfig:
    """``koji``: the Koji hub and how module builds are laid out in it."""

    hub: str | None = None
    profile: str | None = None
    config: str | None = None
    auth: KojiAuthConfig = field(default_factory=KojiAuthConfig)
    base_module_tags: tuple[tuple[str, str], ...] = ()
    arches: tuple[str, ...] = ("x86_64",)
    tag_permission: str | None = "admin"
    build_groups: tuple[tuple[str, tuple[str, ...]], ...] = DEFAULT_BUILD_GROUPS
    package_owner: str | None = None
    poll_interval_seconds: float = 10.0
    max_concurrent_builds: int = 50
    max_concurrent_builds_per_module: int = 10
    task_timeout_hours: float = 48.0
    give_up_after_seconds: float = 3600.0
    #: The build target is deleted this long after the build ended.
    target_delete_hours: float = 24.0
    #: A failed build is collected (untagged, ``garbage``) this long after.
    garbage_days: float = 180.0
    #: The content generator ridad imports the module's Koji build as.
    content_generator: str = "module-build-service"
    #: The tag the module's Koji build is tagged into once imported (None: none).
    cg_tag: str | None = None
    #: Koji's web UI (``https://koji.fedoraproject.org/koji``): the status
    #: page links tasks and builds there (None: ids as text).
    weburl: str | None = None

    def base_module_tag(self, name: str, stream: str) -> str | None:
        """The Koji tag configured for base module ``name:stream``."""
        return dict(self.base_module_tags).get(f"{name}:{stream}")


@dataclass(frozen=True)
class StompConfig:
    """``messaging.stomp``: the broker connection."""

    endpoint: str = "tcp:127.0.0.1:61613"
    login: str | None = None
    passcode: str | None = None
    vhost: str | None = None
    heart_beat_ms: int = 10000


@dataclass(frozen=True)
class Subscription:
    """One bus event source (Koji or Greenwave): a destination and its
    message format."""

    destination: str
    format: str


@dataclass(frozen=True)
class MessagingConfig:
    """``messaging``: where state changes are announced, what is listened to."""

    stomp: StompConfig = field(default_factory=StompConfig)
    destination_prefix: str = "/topic/VirtualTopic.eng.rida."
    subscriptions: tuple[Subscription, ...] = ()
    outbox_retention_days: float = 7.0


#: The path of Greenwave's API under its address.
GREENWAVE_API = "/api/v1.0"


@dataclass(frozen=True)
class GreenwaveConfig:
    """``greenwave``: the gate between ``done`` and ``ready``.

    ``url`` is Greenwave's API root (ending in ``/api/v1.0``).
    """

    url: str
    decision_context: str
    subject_type: str = "redhat-module"
    timeout_seconds: float = 60.0
    #: A build Greenwave holds is asked about again this often (besides
    #: when a decision update about it arrives on the bus).
    recheck_minutes: float = 10.0


AUTH_METHODS = ("none", "oidc", "kerberos", "ssl")


@dataclass(frozen=True)
class OidcConfig:
    """``auth.oidc``: bearer tokens checked by introspection (RFC 7662)."""

    introspection_url: str
    client_id: str
    client_secret: str = field(repr=False)
    required_scopes: tuple[str, ...] = ()
    username_claim: str = "username"
    groups_claim: str = "groups"
    userinfo_url: str | None = None
    #: An identity is trusted this long at most, even when the token's
    #: ``exp`` is later (0: every request is introspected).
    cache_seconds: float = 60.0


@dataclass(frozen=True)
class KerberosConfig:
    """``auth.kerberos``: SPNEGO checked against the service keytab."""

    keytab: str
    principal: str
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class SslConfig:
    """``auth.ssl``: the API over TLS, users by client certificate CN."""

    ca: str
    cert: str
    key: str
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class AuthConfig:
    """``auth``: who may submit and cancel, and how they prove who they are."""

    method: str = "none"
    allowed_groups: tuple[str, ...] = ()
    allowed_users: tuple[str, ...] = ()
    admin_groups: tuple[str, ...] = ()
    #: Who may import modules (import-module); both empty: nobody.
    import_allowed_groups: tuple[str, ...] = ()
    import_allowed_users: tuple[str, ...] = ()
    oidc: OidcConfig | None = None
    kerberos: KerberosConfig | None = None
    ssl: SslConfig | None = None


@dataclass(frozen=True)
class MetricsConfig:
    """``metrics``: where ``GET /metrics`` is served."""

    #: A Twisted endpoint of its own (None: on the API's ``listen``).
    listen: str | None = None


@dataclass(frozen=True)
class Config:
    """The whole configuration."""

    listen: str = "tcp:8080:interface=127.0.0.1"
    state_dir: str = "/var/lib/ridad"
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    scm: ScmConfig = field(default_factory=ScmConfig)
    base_module_names: tuple[str, ...] = ("platform",)
    api: ApiConfig = field(default_factory=ApiConfig)
    builds: BuildsConfig = field(default_factory=BuildsConfig)
    koji: KojiConfig | None = None
    messaging: MessagingConfig | None = None
    auth: AuthConfig | None = None
    greenwave: GreenwaveConfig | None = None
    #: Build on push (SIGHUP): the forges whose deliveries may build.
    webhooks: WebhooksConfig | None = None
    #: A build without progress this long fails (init, wait, build).
    stuck_build_days: float = 7.0
    metrics: MetricsConfig = field(default_factory=MetricsConfig)

    def restart_part(self) -> tuple[Any, ...]:
        """The settings that only take effect at start-up."""
        return (
            self.listen,
            self.state_dir,
            self.database,
            self.scm.rpms_default_repository,
            self.scm.max_concurrent_git,
            self.scm.git_first_byte_timeout_seconds,
            self.base_module_names,
            self.koji,
            self.messaging,
            self.auth,
            self.greenwave,
            self.stuck_build_days,
            self.metrics,
        )


class LiveConfig:
    """The configuration in force; SIGHUP swaps in the reloadable settings.

    Readers take ``current`` each time they need a setting, so a reload is
    seen by the next request.
    """

    def __init__(self, config: Config) -> None:
        self.current = config

    def reload(self, new: Config) -> list[str]:
        """Adopt what may change at run time from ``new``.

        Returns the names of changed settings that need a restart (they
        are ignored until then).
        """
        ignored = []
        if new.restart_part() != self.current.restart_part():
            ignored.append(
                "listen, state_dir, database, base_module_names, koji, messaging,"
                " auth, greenwave, stuck_build_days, metrics,"
                " scm.rpms_default_repository, scm.max_concurrent_git or"
                " scm.git_first_byte_timeout_seconds"
            )
            new = Config(
                listen=self.current.listen,
                state_dir=self.current.state_dir,
                database=self.current.database,
                base_module_names=self.current.base_module_names,
                scm=replace(
                    new.scm,
                    rpms_default_repository=self.current.scm.rpms_default_repository,
                    git_first_byte_timeout_seconds=(
                        self.current.scm.git_first_byte_timeout_seconds
                    ),
                    max_concurrent_git=self.current.scm.max_concurrent_git,
                ),
                api=new.api,
                builds=new.builds,
                webhooks=new.webhooks,
                koji=self.current.koji,
                messaging=self.current.messaging,
                auth=self.current.auth,
                greenwave=self.current.greenwave,
                stuck_build_days=self.current.stuck_build_days,
                metrics=self.current.metrics,
            )
        self.current = new
        return ignored
