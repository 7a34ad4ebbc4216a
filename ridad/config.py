"""ridad's configuration: ``ridad.yaml`` parsed into a frozen ``Config``.

Every problem is collected with its key path and reported at once as a
``ConfigError``, before anything starts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import yaml

from ridad.errors import ConfigError

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
    max_concurrent_git: int = 8


@dataclass(frozen=True)
class ApiConfig:
    """``api``: limits and maintenance mode of the HTTP API."""

    max_body_bytes: int = 1048576
    maintenance: bool = False


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
    """One Koji event source: a destination and its message format."""

    destination: str
    format: str


@dataclass(frozen=True)
class MessagingConfig:
    """``messaging``: where state changes are announced, what is listened to."""

    stomp: StompConfig = field(default_factory=StompConfig)
    destination_prefix: str = "/topic/VirtualTopic.eng.rida."
    subscriptions: tuple[Subscription, ...] = ()
    outbox_retention_days: float = 7.0


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
    oidc: OidcConfig | None = None
    kerberos: KerberosConfig | None = None
    ssl: SslConfig | None = None


@dataclass(frozen=True)
class Config:
    """The whole configuration."""

    listen: str = "tcp:8080:interface=127.0.0.1"
    state_dir: str = "/var/lib/ridad"
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    scm: ScmConfig = field(default_factory=ScmConfig)
    base_module_names: tuple[str, ...] = ("platform",)
    api: ApiConfig = field(default_factory=ApiConfig)
    koji: KojiConfig | None = None
    messaging: MessagingConfig | None = None
    auth: AuthConfig | None = None

    def restart_part(self) -> tuple[Any, ...]:
        """The settings that only take effect at start-up."""
        return (
            self.listen,
            self.state_dir,
            self.database,
            self.scm.rpms_default_repository,
            self.scm.max_concurrent_git,
            self.base_module_names,
            self.koji,
            self.messaging,
            self.auth,
        )


class _Reader:
    """Walks a parsed YAML mapping and collects every problem."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def section(self, data: Any, path: str, known: set[str]) -> Mapping[str, Any]:
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.problems.append(f"{path}: must be a mapping")
            return {}
        for key in data:
            if key not in known:
                where = f"{path}.{key}" if path else str(key)
                self.problems.append(f"{where}: unknown setting")
        return data

    def value(
        self,
        data: Mapping[str, Any],
        path: str,
        key: str,
        default: Any,
        check: Callable[[Any], str | None],
    ) -> Any:
        if key not in data:
            return default
        problem = check(data[key])
        if problem:
            self.problems.append(f"{path}{key}: {problem}")
            return default
        return data[key]


def _string(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "must be a non-empty string"
    return None


def _strings(value: Any) -> str | None:
    if not isinstance(value, list) or not all(
        isinstance(v, str) and v.strip() for v in value
    ):
        return "must be a list of non-empty strings"
    return None


def _positive_int(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return "must be a positive integer"
    return None


def _positive_number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return "must be a positive number"
    return None


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


TOP_KEYS = {
    "listen",
    "state_dir",
    "database",
    "scm",
    "base_module_names",
    "api",
    "koji",
    "messaging",
    "auth",
}


def parse_config(text: str) -> Config:
    """Parse the YAML text of a configuration file.

    :raises ConfigError: listing every problem with its key path.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError([f"not valid YAML: {e}"]) from None
    reader = _Reader()
    top = reader.section(data if data is not None else {}, "", TOP_KEYS)
    defaults = Config()
    config = Config(
        listen=reader.value(top, "", "listen", defaults.listen, _string),
        state_dir=reader.value(top, "", "state_dir", defaults.state_dir, _string),
        database=_database(reader, top.get("database")),
        scm=_scm(reader, top.get("scm")),
        base_module_names=tuple(
            reader.value(top, "", "base_module_names", ["platform"], _strings)
        ),
        api=_api(reader, top.get("api")),
        koji=_koji(reader, top["koji"]) if "koji" in top else None,
        messaging=(
            _messaging(reader, top["messaging"]) if "messaging" in top else None
        ),
        auth=_auth(reader, top["auth"]) if "auth" in top else None,
    )
    _check_listen_auth(reader, config)
    if reader.problems:
        raise ConfigError(reader.problems)
    return config


def _database(reader: _Reader, data: Any) -> DatabaseConfig:
    known = {"dsn", "pool_size", "statement_timeout_seconds"}
    section = reader.section(data, "database", known)
    d = DatabaseConfig()
    p = "database."
    return DatabaseConfig(
        dsn=reader.value(section, p, "dsn", d.dsn, _string),
        pool_size=reader.value(section, p, "pool_size", d.pool_size, _positive_int),
        statement_timeout_seconds=float(
            reader.value(
                section,
                p,
                "statement_timeout_seconds",
                d.statement_timeout_seconds,
                _positive_number,
            )
        ),
    )


def _scm(reader: _Reader, data: Any) -> ScmConfig:
    known = {
        "allowed",
        "rpms_default_repository",
        "rpms_allowed",
        "rpms_default_ref",
        "git_timeout_seconds",
        "max_concurrent_git",
    }
    section = reader.section(data, "scm", known)
    d = ScmConfig()
    p = "scm."
    if "rpms_default_repository" not in section:
        reader.problems.append("scm.rpms_default_repository: required")
    return ScmConfig(
        allowed=tuple(reader.value(section, p, "allowed", [], _strings)),
        rpms_default_repository=reader.value(
            section, p, "rpms_default_repository", "", _string
        ),
        rpms_allowed=tuple(reader.value(section, p, "rpms_allowed", [], _strings)),
        rpms_default_ref=reader.value(
            section, p, "rpms_default_ref", d.rpms_default_ref, _string
        ),
        git_timeout_seconds=float(
            reader.value(
                section,
                p,
                "git_timeout_seconds",
                d.git_timeout_seconds,
                _positive_number,
            )
        ),
        max_concurrent_git=reader.value(
            section, p, "max_concurrent_git", d.max_concurrent_git, _positive_int
        ),
    )


def _api(reader: _Reader, data: Any) -> ApiConfig:
    section = reader.section(data, "api", {"max_body_bytes", "maintenance"})
    d = ApiConfig()
    return ApiConfig(
        max_body_bytes=reader.value(
            section, "api.", "max_body_bytes", d.max_body_bytes, _positive_int
        ),
        maintenance=reader.value(
            section, "api.", "maintenance", d.maintenance, _boolean
        ),
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
                " auth, scm.rpms_default_repository or scm.max_concurrent_git"
            )
            new = Config(
                listen=self.current.listen,
                state_dir=self.current.state_dir,
                database=self.current.database,
                base_module_names=self.current.base_module_names,
                scm=ScmConfig(
                    allowed=new.scm.allowed,
                    rpms_default_repository=self.current.scm.rpms_default_repository,
                    rpms_allowed=new.scm.rpms_allowed,
                    rpms_default_ref=new.scm.rpms_default_ref,
                    git_timeout_seconds=new.scm.git_timeout_seconds,
                    max_concurrent_git=self.current.scm.max_concurrent_git,
                ),
                api=new.api,
                koji=self.current.koji,
                messaging=self.current.messaging,
                auth=self.current.auth,
            )
        self.current = new
        return ignored


KOJI_KEYS = {
    "hub",
    "profile",
    "config",
    "auth",
    "base_module_tags",
    "arches",
    "tag_permission",
    "build_groups",
    "package_owner",
    "poll_interval_seconds",
    "max_concurrent_builds",
    "max_concurrent_builds_per_module",
    "task_timeout_hours",
    "give_up_after_seconds",
}
AUTH_KEYS = {
    "none": set(),
    "password": {"user", "password"},
    "ssl": {"cert", "key", "ca"},
    "gssapi": {"principal", "keytab"},
}


def _string_map(value: Any) -> str | None:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and k and v for k, v in value.items()
    ):
        return "must map strings to non-empty strings"
    return None


def _groups(value: Any) -> str | None:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and _strings(v) is None for k, v in value.items()
    ):
        return "must map group names to lists of package names"
    return None


def _koji(reader: _Reader, data: Any) -> KojiConfig:
    section = reader.section(data, "koji", KOJI_KEYS)
    d = KojiConfig()
    p = "koji."
    hub = reader.value(section, p, "hub", None, _string)
    profile = reader.value(section, p, "profile", None, _string)
    if (hub is None) == (profile is None):
        reader.problems.append("koji: set exactly one of hub and profile")
    tags = reader.value(section, p, "base_module_tags", {}, _string_map)
    for key in tags:
        if key.count(":") != 1:
            reader.problems.append(
                f"koji.base_module_tags.{key}: must be NAME:STREAM of a base module"
            )
    groups = reader.value(section, p, "build_groups", None, _groups)

    def number(key: str, check: Callable[[Any], str | None]) -> Any:
        return reader.value(section, p, key, getattr(d, key), check)

    return KojiConfig(
        hub=hub,
        profile=profile,
        config=reader.value(section, p, "config", None, _string),
        auth=_koji_auth(reader, section.get("auth")),
        base_module_tags=tuple(sorted(tags.items())),
        arches=tuple(reader.value(section, p, "arches", list(d.arches), _strings)),
        tag_permission=reader.value(
            section, p, "tag_permission", d.tag_permission, _string
        ),
        build_groups=(
            tuple((k, tuple(v)) for k, v in groups.items())
            if groups is not None
            else d.build_groups
        ),
        package_owner=reader.value(section, p, "package_owner", None, _string),
        poll_interval_seconds=float(number("poll_interval_seconds", _positive_number)),
        max_concurrent_builds=number("max_concurrent_builds", _positive_int),
        max_concurrent_builds_per_module=number(
            "max_concurrent_builds_per_module", _positive_int
        ),
        task_timeout_hours=float(number("task_timeout_hours", _positive_number)),
        give_up_after_seconds=float(number("give_up_after_seconds", _positive_number)),
    )


def _koji_auth(reader: _Reader, data: Any) -> KojiAuthConfig:
    if data is None:
        return KojiAuthConfig()
    if not isinstance(data, dict):
        reader.problems.append("koji.auth: must be a mapping")
        return KojiAuthConfig()
    method = data.get("method")
    if method not in AUTH_KEYS:
        reader.problems.append(
            "koji.auth.method: must be one of " + ", ".join(sorted(AUTH_KEYS))
        )
        return KojiAuthConfig()
    section = reader.section(data, "koji.auth", AUTH_KEYS[method] | {"method"})
    values = {}
    for key in AUTH_KEYS[method]:
        if key == "ca" and key not in section:
            continue
        if key not in section:
            reader.problems.append(f"koji.auth.{key}: required for method {method}")
        values[key] = reader.value(section, "koji.auth.", key, None, _string)
    return KojiAuthConfig(method=method, **values)


FORMATS = ("koji", "fedora")


def _messaging(reader: _Reader, data: Any) -> MessagingConfig:
    known = {"stomp", "destination_prefix", "subscriptions", "outbox_retention_days"}
    section = reader.section(data, "messaging", known)
    d = MessagingConfig()
    p = "messaging."
    stomp = reader.section(
        section.get("stomp"),
        "messaging.stomp",
        {"endpoint", "login", "passcode", "vhost", "heart_beat_ms"},
    )
    sp = "messaging.stomp."
    ds = StompConfig()
    stomp_config = StompConfig(
        endpoint=reader.value(stomp, sp, "endpoint", ds.endpoint, _string),
        login=reader.value(stomp, sp, "login", None, _string),
        passcode=reader.value(stomp, sp, "passcode", None, _string),
        vhost=reader.value(stomp, sp, "vhost", None, _string),
        heart_beat_ms=reader.value(
            stomp, sp, "heart_beat_ms", ds.heart_beat_ms, _positive_int
        ),
    )
    subscriptions = []
    raw = section.get("subscriptions", [])
    if not isinstance(raw, list):
        reader.problems.append("messaging.subscriptions: must be a list")
        raw = []
    for index, entry in enumerate(raw):
        where = f"messaging.subscriptions[{index}]"
        item = reader.section(entry, where, {"destination", "format"})
        destination = reader.value(item, where + ".", "destination", None, _string)
        fmt = item.get("format", "koji")
        if fmt not in FORMATS:
            reader.problems.append(f"{where}.format: must be one of koji, fedora")
        elif destination is None:
            reader.problems.append(f"{where}.destination: required")
        else:
            subscriptions.append(Subscription(destination=destination, format=fmt))
    return MessagingConfig(
        stomp=stomp_config,
        destination_prefix=reader.value(
            section, p, "destination_prefix", d.destination_prefix, _string
        ),
        subscriptions=tuple(subscriptions),
        outbox_retention_days=float(
            reader.value(
                section,
                p,
                "outbox_retention_days",
                d.outbox_retention_days,
                _positive_number,
            )
        ),
    )


AUTH_KEYS_TOP = {
    "method",
    "allowed_groups",
    "allowed_users",
    "admin_groups",
    "oidc",
    "kerberos",
    "ssl",
}
OIDC_KEYS = {
    "introspection_url",
    "client_id",
    "client_secret",
    "required_scopes",
    "username_claim",
    "groups_claim",
    "userinfo_url",
}


def _http_url(value: Any) -> str | None:
    if _string(value) is not None:
        return "must be a non-empty string"
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "must be an http:// or https:// URL"
    return None


def _user_groups(value: Any) -> str | None:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k and _strings(v) is None for k, v in value.items()
    ):
        return "must map user names to lists of group names"
    return None


def _required(
    reader: _Reader,
    section: Mapping[str, Any],
    path: str,
    key: str,
    check: Callable[[Any], str | None],
    method: str,
) -> Any:
    if key not in section:
        reader.problems.append(f"{path}{key}: required for method {method}")
        return ""
    return reader.value(section, path, key, "", check)


def _auth(reader: _Reader, data: Any) -> AuthConfig:
    section = reader.section(data, "auth", AUTH_KEYS_TOP)
    method = section.get("method", "none") if section else "none"
    if method not in AUTH_METHODS:
        reader.problems.append("auth.method: must be one of " + ", ".join(AUTH_METHODS))
        method = "none"
    p = "auth."
    return AuthConfig(
        method=method,
        allowed_groups=tuple(reader.value(section, p, "allowed_groups", [], _strings)),
        allowed_users=tuple(reader.value(section, p, "allowed_users", [], _strings)),
        admin_groups=tuple(reader.value(section, p, "admin_groups", [], _strings)),
        oidc=_oidc(reader, section.get("oidc"), method == "oidc"),
        kerberos=_kerberos(reader, section.get("kerberos"), method == "kerberos"),
        ssl=_ssl(reader, section.get("ssl"), method == "ssl"),
    )


def _method_section(
    reader: _Reader, data: Any, name: str, known: set[str], used: bool
) -> Mapping[str, Any] | None:
    """The ``auth.<name>`` mapping; None when absent (a problem if ``used``)."""
    if data is None:
        if used:
            reader.problems.append(f"auth.{name}: required for method {name}")
        return None
    return reader.section(data, f"auth.{name}", known)


def _oidc(reader: _Reader, data: Any, used: bool) -> OidcConfig | None:
    section = _method_section(reader, data, "oidc", OIDC_KEYS, used)
    if section is None:
        return None
    p = "auth.oidc."
    return OidcConfig(
        introspection_url=_required(
            reader, section, p, "introspection_url", _http_url, "oidc"
        ),
        client_id=_required(reader, section, p, "client_id", _string, "oidc"),
        client_secret=_required(reader, section, p, "client_secret", _string, "oidc"),
        required_scopes=tuple(
            reader.value(section, p, "required_scopes", [], _strings)
        ),
        username_claim=reader.value(section, p, "username_claim", "username", _string),
        groups_claim=reader.value(section, p, "groups_claim", "groups", _string),
        userinfo_url=reader.value(section, p, "userinfo_url", None, _http_url),
    )


def _principal(value: Any) -> str | None:
    if _string(value) is not None:
        return "must be a non-empty string"
    service, _, realm = value.partition("@")
    if not service or not realm or "/" not in service:
        return "must be a service principal such as HTTP/host.example.org@REALM"
    return None


def _user_group_map(
    reader: _Reader, section: Mapping[str, Any], path: str
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    groups = reader.value(section, path, "groups", {}, _user_groups)
    return tuple(sorted((user, tuple(names)) for user, names in groups.items()))


def _kerberos(reader: _Reader, data: Any, used: bool) -> KerberosConfig | None:
    known = {"keytab", "principal", "groups"}
    section = _method_section(reader, data, "kerberos", known, used)
    if section is None:
        return None
    p = "auth.kerberos."
    return KerberosConfig(
        keytab=_required(reader, section, p, "keytab", _string, "kerberos"),
        principal=_required(reader, section, p, "principal", _principal, "kerberos"),
        groups=_user_group_map(reader, section, p),
    )


def _ssl(reader: _Reader, data: Any, used: bool) -> SslConfig | None:
    section = _method_section(
        reader, data, "ssl", {"ca", "cert", "key", "groups"}, used
    )
    if section is None:
        return None
    p = "auth.ssl."
    return SslConfig(
        ca=_required(reader, section, p, "ca", _string, "ssl"),
        cert=_required(reader, section, p, "cert", _string, "ssl"),
        key=_required(reader, section, p, "key", _string, "ssl"),
        groups=_user_group_map(reader, section, p),
    )


def listen_is_local(listen: str) -> bool:
    """Whether endpoint string ``listen`` only accepts local connections.

    ``unix:`` sockets are local; ``tcp:``/``ssl:`` ones only with an
    ``interface=`` on loopback (no interface means every interface).
    """
    kind, _, rest = listen.partition(":")
    if kind == "unix":
        return True
    if kind not in ("tcp", "tcp6", "ssl"):
        return False
    for part in rest.replace("\\:", "\0").split(":"):
        name, _, value = part.partition("=")
        if name == "interface":
            address = value.replace("\0", ":")
            if address == "localhost":
                return True
            try:
                return ipaddress.ip_address(address).is_loopback
            except ValueError:
                return False
    return False


def _check_listen_auth(reader: _Reader, config: Config) -> None:
    """A public ``listen`` needs an ``auth`` section; ``ssl`` needs ``tcp:``."""
    if config.auth is None and not listen_is_local(config.listen):
        reader.problems.append(
            f"auth: required because listen ({config.listen}) is not on loopback;"
            " configure auth.method (oidc, kerberos or ssl), or none explicitly"
            " for development"
        )
    if config.auth is not None and config.auth.method == "ssl":
        if not config.listen.startswith("tcp:"):
            reader.problems.append(
                "listen: must be a tcp: endpoint with auth.method ssl"
                " (ridad adds the TLS itself)"
            )
