"""The ``koji``, ``messaging`` and ``auth`` sections of ``ridad.yaml``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ridad.config.model import (
    AUTH_METHODS,
    AuthConfig,
    KerberosConfig,
    KojiAuthConfig,
    KojiConfig,
    MessagingConfig,
    OidcConfig,
    SslConfig,
    StompConfig,
    Subscription,
)
from ridad.config.reader import (
    Reader,
    check_groups,
    check_http_url,
    check_non_negative_number,
    check_positive_int,
    check_positive_number,
    check_principal,
    check_string,
    check_string_map,
    check_strings,
    check_user_groups,
)

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
    "target_delete_hours",
    "garbage_days",
    "content_generator",
    "cg_tag",
    "weburl",
}
AUTH_KEYS = {
    "none": set(),
    "password": {"user", "password"},
    "ssl": {"cert", "key", "ca"},
    "gssapi": {"principal", "keytab"},
}


def parse_koji(reader: Reader, data: Any) -> KojiConfig:
    """The ``koji`` section."""
    section = reader.section(data, "koji", KOJI_KEYS)
    d = KojiConfig()
    p = "koji."
    hub = reader.value(section, p, "hub", None, check_string)
    profile = reader.value(section, p, "profile", None, check_string)
    if (hub is None) == (profile is None):
        reader.problems.append("koji: set exactly one of hub and profile")
    tags = reader.value(section, p, "base_module_tags", {}, check_string_map)
    for key in tags:
        if key.count(":") != 1:
            reader.problems.append(
                f"koji.base_module_tags.{key}: must be NAME:STREAM of a base module"
            )
    groups = reader.value(section, p, "build_groups", None, check_groups)

    def number(key: str, check: Callable[[Any], str | None]) -> Any:
        """The ``koji`` setting ``key``, or its default."""
        return reader.value(section, p, key, getattr(d, key), check)

    return KojiConfig(
        hub=hub,
        profile=profile,
        config=reader.value(section, p, "config", None, check_string),
        auth=_koji_auth(reader, section.get("auth")),
        base_module_tags=tuple(sorted(tags.items())),
        arches=tuple(reader.value(section, p, "arches", list(d.arches), check_strings)),
        tag_permission=reader.value(
            section, p, "tag_permission", d.tag_permission, check_string
        ),
        build_groups=(
            tuple((k, tuple(v)) for k, v in groups.items())
            if groups is not None
            else d.build_groups
        ),
        package_owner=reader.value(section, p, "package_owner", None, check_string),
        poll_interval_seconds=float(
            number("poll_interval_seconds", check_positive_number)
        ),
        max_concurrent_builds=number("max_concurrent_builds", check_positive_int),
        max_concurrent_builds_per_module=number(
            "max_concurrent_builds_per_module", check_positive_int
        ),
        task_timeout_hours=float(number("task_timeout_hours", check_positive_number)),
        give_up_after_seconds=float(
            number("give_up_after_seconds", check_positive_number)
        ),
        target_delete_hours=float(number("target_delete_hours", check_positive_number)),
        garbage_days=float(number("garbage_days", check_positive_number)),
        content_generator=reader.value(
            section, p, "content_generator", d.content_generator, check_string
        ),
        cg_tag=reader.value(section, p, "cg_tag", None, check_string),
        weburl=reader.value(section, p, "weburl", None, check_http_url),
    )


def _koji_auth(reader: Reader, data: Any) -> KojiAuthConfig:
    """The ``koji.auth`` section."""
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
        values[key] = reader.value(section, "koji.auth.", key, None, check_string)
    return KojiAuthConfig(method=method, **values)


#: Message formats of subscriptions: Koji's two, and Greenwave's decisions.
FORMATS = ("koji", "fedora", "greenwave")


def parse_messaging(reader: Reader, data: Any) -> MessagingConfig:
    """The ``messaging`` section."""
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
        endpoint=reader.value(stomp, sp, "endpoint", ds.endpoint, check_string),
        login=reader.value(stomp, sp, "login", None, check_string),
        passcode=reader.value(stomp, sp, "passcode", None, check_string),
        vhost=reader.value(stomp, sp, "vhost", None, check_string),
        heart_beat_ms=reader.value(
            stomp, sp, "heart_beat_ms", ds.heart_beat_ms, check_positive_int
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
        destination = reader.value(item, where + ".", "destination", None, check_string)
        fmt = item.get("format", "koji")
        if fmt not in FORMATS:
            reader.problems.append(
                f"{where}.format: must be one of " + ", ".join(FORMATS)
            )
        elif destination is None:
            reader.problems.append(f"{where}.destination: required")
        else:
            subscriptions.append(Subscription(destination=destination, format=fmt))
    return MessagingConfig(
        stomp=stomp_config,
        destination_prefix=reader.value(
            section, p, "destination_prefix", d.destination_prefix, check_string
        ),
        subscriptions=tuple(subscriptions),
        outbox_retention_days=float(
            reader.value(
                section,
                p,
                "outbox_retention_days",
                d.outbox_retention_days,
                check_positive_number,
            )
        ),
    )


AUTH_KEYS_TOP = {
    "method",
    "allowed_groups",
    "allowed_users",
    "admin_groups",
    "import_allowed_groups",
    "import_allowed_users",
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
    "cache_seconds",
}


def _required(
    reader: Reader,
    section: Mapping[str, Any],
    path: str,
    key: str,
    check: Callable[[Any], str | None],
    method: str,
) -> Any:
    """The required setting ``key`` of auth method ``method``."""
    if key not in section:
        reader.problems.append(f"{path}{key}: required for method {method}")
        return ""
    return reader.value(section, path, key, "", check)


def parse_auth(reader: Reader, data: Any) -> AuthConfig:
    """The ``auth`` section."""
    section = reader.section(data, "auth", AUTH_KEYS_TOP)
    method = section.get("method", "none") if section else "none"
    if method not in AUTH_METHODS:
        reader.problems.append("auth.method: must be one of " + ", ".join(AUTH_METHODS))
        method = "none"
    p = "auth."
    return AuthConfig(
        method=method,
        allowed_groups=tuple(
            reader.value(section, p, "allowed_groups", [], check_strings)
        ),
        allowed_users=tuple(
            reader.value(section, p, "allowed_users", [], check_strings)
        ),
        admin_groups=tuple(reader.value(section, p, "admin_groups", [], check_strings)),
        import_allowed_groups=tuple(
            reader.value(section, p, "import_allowed_groups", [], check_strings)
        ),
        import_allowed_users=tuple(
            reader.value(section, p, "import_allowed_users", [], check_strings)
        ),
        oidc=_oidc(reader, section.get("oidc"), method == "oidc"),
        kerberos=_kerberos(reader, section.get("kerberos"), method == "kerberos"),
        ssl=_ssl(reader, section.get("ssl"), method == "ssl"),
    )


def _method_section(
    reader: Reader, data: Any, name: str, known: set[str], used: bool
) -> Mapping[str, Any] | None:
    """The ``auth.<name>`` mapping; None when absent (a problem if ``used``)."""
    if data is None:
        if used:
            reader.problems.append(f"auth.{name}: required for method {name}")
        return None
    return reader.section(data, f"auth.{name}", known)


def _oidc(reader: Reader, data: Any, used: bool) -> OidcConfig | None:
    """The ``auth.oidc`` section; None when absent."""
    section = _method_section(reader, data, "oidc", OIDC_KEYS, used)
    if section is None:
        return None
    p = "auth.oidc."
    return OidcConfig(
        introspection_url=_required(
            reader, section, p, "introspection_url", check_http_url, "oidc"
        ),
        client_id=_required(reader, section, p, "client_id", check_string, "oidc"),
        client_secret=_required(
            reader, section, p, "client_secret", check_string, "oidc"
        ),
        required_scopes=tuple(
            reader.value(section, p, "required_scopes", [], check_strings)
        ),
        username_claim=reader.value(
            section, p, "username_claim", "username", check_string
        ),
        groups_claim=reader.value(section, p, "groups_claim", "groups", check_string),
        userinfo_url=reader.value(section, p, "userinfo_url", None, check_http_url),
        cache_seconds=float(
            reader.value(section, p, "cache_seconds", 60.0, check_non_negative_number)
        ),
    )


def _user_group_map(
    reader: Reader, section: Mapping[str, Any], path: str
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The ``groups`` setting: users and their groups, sorted."""
    groups = reader.value(section, path, "groups", {}, check_user_groups)
    return tuple(sorted((user, tuple(names)) for user, names in groups.items()))


def _kerberos(reader: Reader, data: Any, used: bool) -> KerberosConfig | None:
    """The ``auth.kerberos`` section; None when absent."""
    known = {"keytab", "principal", "groups"}
    section = _method_section(reader, data, "kerberos", known, used)
    if section is None:
        return None
    p = "auth.kerberos."
    return KerberosConfig(
        keytab=_required(reader, section, p, "keytab", check_string, "kerberos"),
        principal=_required(
            reader, section, p, "principal", check_principal, "kerberos"
        ),
        groups=_user_group_map(reader, section, p),
    )


def _ssl(reader: Reader, data: Any, used: bool) -> SslConfig | None:
    """The ``auth.ssl`` section; None when absent."""
    section = _method_section(
        reader, data, "ssl", {"ca", "cert", "key", "groups"}, used
    )
    if section is None:
        return None
    p = "auth.ssl."
    return SslConfig(
        ca=_required(reader, section, p, "ca", check_string, "ssl"),
        cert=_required(reader, section, p, "cert", check_string, "ssl"),
        key=_required(reader, section, p, "key", check_string, "ssl"),
        groups=_user_group_map(reader, section, p),
    )
