"""``ridad.yaml`` parsed into a frozen ``Config``.

Every problem is collected with its key path and reported at once as a
``ConfigError``, before anything starts. The core sections (``database``,
``scm``, ``api``) are read here; ``builds`` in ``ridad.config.builds``, ``koji``, ``messaging`` and ``auth`` in
``ridad.config.sections``, ``greenwave`` in ``ridad.config.greenwave``,
``webhooks`` in ``ridad.config.webhooks``.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import yaml

from ridad.config.builds import parse_builds
from ridad.config.greenwave import check_greenwave_subscriptions, parse_greenwave
from ridad.config.model import (
    ApiConfig,
    Config,
    DatabaseConfig,
    MetricsConfig,
    ScmConfig,
)
from ridad.config.origins import normalise_origin
from ridad.config.reader import (
    Reader,
    check_boolean,
    check_positive_int,
    check_positive_number,
    check_public_url,
    check_string,
    check_strings,
)
from ridad.config.sections import parse_auth, parse_koji, parse_messaging
from ridad.config.webhooks import parse_webhooks
from ridad.errors import ConfigError

TOP_KEYS = {
    "listen",
    "state_dir",
    "database",
    "scm",
    "base_module_names",
    "api",
    "builds",
    "koji",
    "messaging",
    "auth",
    "greenwave",
    "stuck_build_days",
    "webhooks",
    "metrics",
}
#: The ``scm`` switches that let a modulemd differ from its SCM location.
OVERRIDES = ("allow_name_override", "allow_stream_override", "allow_version_override")


def parse_config(text: str) -> Config:
    """Parse the YAML text of a configuration file.

    :raises ConfigError: listing every problem with its key path.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError([f"not valid YAML: {e}"]) from None
    reader = Reader()
    top = reader.section(data if data is not None else {}, "", TOP_KEYS)
    defaults = Config()
    config = Config(
        listen=reader.value(top, "", "listen", defaults.listen, check_string),
        state_dir=reader.value(top, "", "state_dir", defaults.state_dir, check_string),
        database=_database(reader, top.get("database")),
        scm=_scm(reader, top.get("scm")),
        base_module_names=tuple(
            reader.value(top, "", "base_module_names", ["platform"], check_strings)
        ),
        api=_api(reader, top.get("api")),
        builds=parse_builds(reader, top.get("builds")),
        koji=parse_koji(reader, top["koji"]) if "koji" in top else None,
        messaging=(
            parse_messaging(reader, top["messaging"]) if "messaging" in top else None
        ),
        auth=parse_auth(reader, top["auth"]) if "auth" in top else None,
        greenwave=(
            parse_greenwave(reader, top["greenwave"]) if "greenwave" in top else None
        ),
        webhooks=parse_webhooks(reader, top["webhooks"]) if "webhooks" in top else None,
        stuck_build_days=float(
            reader.value(
                top,
                "",
                "stuck_build_days",
                defaults.stuck_build_days,
                check_positive_number,
            )
        ),
        metrics=_metrics(
            reader, top.get("metrics"), str(top.get("listen", defaults.listen))
        ),
    )
    _check_listen_auth(reader, config)
    check_greenwave_subscriptions(reader, config.messaging, config.greenwave)
    if reader.problems:
        raise ConfigError(reader.problems)
    return config


def _database(reader: Reader, data: Any) -> DatabaseConfig:
    """The ``database`` section."""
    known = {"dsn", "pool_size", "statement_timeout_seconds"}
    section = reader.section(data, "database", known)
    d = DatabaseConfig()
    p = "database."
    return DatabaseConfig(
        dsn=reader.value(section, p, "dsn", d.dsn, check_string),
        pool_size=reader.value(
            section, p, "pool_size", d.pool_size, check_positive_int
        ),
        statement_timeout_seconds=float(
            reader.value(
                section,
                p,
                "statement_timeout_seconds",
                d.statement_timeout_seconds,
                check_positive_number,
            )
        ),
    )


def _scm(reader: Reader, data: Any) -> ScmConfig:
    """The ``scm`` section."""
    known = {
        "allowed",
        "rpms_default_repository",
        "rpms_allowed",
        "rpms_default_ref",
        "git_timeout_seconds",
        "git_first_byte_timeout_seconds",
        "max_concurrent_git",
        *OVERRIDES,
        "max_fetch_bytes",
    }
    section = reader.section(data, "scm", known)
    d = ScmConfig()
    p = "scm."
    if "rpms_default_repository" not in section:
        reader.problems.append("scm.rpms_default_repository: required")
    return ScmConfig(
        allowed=tuple(reader.value(section, p, "allowed", [], check_strings)),
        rpms_default_repository=reader.value(
            section, p, "rpms_default_repository", "", check_string
        ),
        rpms_allowed=tuple(reader.value(section, p, "rpms_allowed", [], check_strings)),
        rpms_default_ref=reader.value(
            section, p, "rpms_default_ref", d.rpms_default_ref, check_string
        ),
        git_timeout_seconds=float(
            reader.value(
                section,
                p,
                "git_timeout_seconds",
                d.git_timeout_seconds,
                check_positive_number,
            )
        ),
        git_first_byte_timeout_seconds=float(
            reader.value(
                section,
                p,
                "git_first_byte_timeout_seconds",
                d.git_first_byte_timeout_seconds,
                check_positive_number,
            )
        ),
        max_concurrent_git=reader.value(
            section, p, "max_concurrent_git", d.max_concurrent_git, check_positive_int
        ),
        **{
            key: reader.value(section, p, key, False, check_boolean)
            for key in OVERRIDES
        },
        max_fetch_bytes=reader.value(
            section, p, "max_fetch_bytes", d.max_fetch_bytes, check_positive_int
        ),
    )


ACCESS_LOG_MODES = ("full", "compact", "off")


def _api(reader: Reader, data: Any) -> ApiConfig:
    """The ``api`` section."""
    known = {
        "max_body_bytes",
        "maintenance",
        "request_timeout_seconds",
        "max_connections",
        "public_url",
        "allowed_origins",
        "max_components",
        "max_expansions",
        "max_event_streams",
        "event_stream_queue",
        "access_log",
        "access_log_sample",
    }
    section = reader.section(data, "api", known)
    d = ApiConfig()
    public_url = reader.value(
        section, "api.", "public_url", d.public_url, check_public_url
    )
    return ApiConfig(
        max_body_bytes=reader.value(
            section, "api.", "max_body_bytes", d.max_body_bytes, check_positive_int
        ),
        maintenance=reader.value(
            section, "api.", "maintenance", d.maintenance, check_boolean
        ),
        request_timeout_seconds=float(
            reader.value(
                section,
                "api.",
                "request_timeout_seconds",
                d.request_timeout_seconds,
                check_positive_number,
            )
        ),
        max_connections=reader.value(
            section, "api.", "max_connections", d.max_connections, check_positive_int
        ),
        public_url=public_url.rstrip("/") if public_url else None,
        allowed_origins=_origins(reader, section),
        max_expansions=reader.value(
            section, "api.", "max_expansions", d.max_expansions, check_positive_int
        ),
        max_components=reader.value(
            section, "api.", "max_components", d.max_components, check_positive_int
        ),
        **_stream_limits(reader, section, d),
        **_access_log(reader, section, d),
    )


def _check_access_log(value: Any) -> str | None:
    return None if value in ACCESS_LOG_MODES else "must be full, compact or off"


def _check_fraction(value: Any) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return None if ok and 0 < value <= 1 else "must be a number in (0, 1]"


def _access_log(reader: Reader, section: Any, d: ApiConfig) -> dict[str, Any]:
    """``api.access_log`` and ``api.access_log_sample``."""
    return {
        "access_log": reader.value(
            section, "api.", "access_log", d.access_log, _check_access_log
        ),
        "access_log_sample": float(
            reader.value(
                section,
                "api.",
                "access_log_sample",
                d.access_log_sample,
                _check_fraction,
            )
        ),
    }


def _stream_limits(reader: Reader, section: Any, d: ApiConfig) -> dict[str, Any]:
    """``api.max_event_streams`` and ``api.event_stream_queue``."""
    return {
        key: reader.value(section, "api.", key, getattr(d, key), check_positive_int)
        for key in ("max_event_streams", "event_stream_queue")
    }


def _metrics(reader: Reader, data: Any, api_listen: str) -> MetricsConfig:
    """The ``metrics`` section: ``listen``, an endpoint other than the API's."""
    section = reader.section(data, "metrics", {"listen"})
    listen = reader.value(section, "metrics.", "listen", None, check_string)
    if listen is not None and listen.strip() == api_listen.strip():
        reader.problems.append(
            "metrics.listen: must differ from listen (leave it out to serve"
            " /metrics on the API's port)"
        )
    return MetricsConfig(listen=listen)


def _origins(reader: Reader, section: Any) -> tuple[str, ...]:
    """``api.allowed_origins``, each normalised; a bad entry is a problem."""
    entries = reader.value(section, "api.", "allowed_origins", [], check_strings)
    origins = []
    for index, entry in enumerate(entries):
        origin = normalise_origin(entry)
        if origin is None:
            reader.problems.append(
                f"api.allowed_origins[{index}]: {entry!r} is not an origin;"
                " write scheme://host[:port] (http or https, no path)"
            )
        else:
            origins.append(origin)
    return tuple(origins)


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


def _check_listen_auth(reader: Reader, config: Config) -> None:
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
