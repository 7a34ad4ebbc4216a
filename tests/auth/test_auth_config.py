"""The ``auth`` section: parsed into frozen values, every problem reported
at once with its key path, and a public ``listen`` needing it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from twisted.python import usage

from ridad.config.model import (
    AuthConfig,
    Config,
    KerberosConfig,
    LiveConfig,
    OidcConfig,
    SslConfig,
)
from ridad.config.parse import listen_is_local, parse_config
from ridad.errors import ConfigError
from ridad.tap import Options

SCM = {"rpms_default_repository": "git://h/rpms/"}


def parse(**top: object) -> Config:
    """Parse a configuration made of ``top`` plus the required scm section."""
    return parse_config(yaml.safe_dump({"scm": SCM, **top}))


def problems_of(**top: object) -> list[str]:
    """The problems ``parse`` reports."""
    with pytest.raises(ConfigError) as caught:
        parse(**top)
    return caught.value.messages


def test_oidc_section_is_parsed_with_defaults() -> None:
    """An oidc section becomes OidcConfig; claims default to username/groups."""
    config = parse(
        auth={
            "method": "oidc",
            "allowed_groups": ["packager"],
            "admin_groups": ["admins"],
            "oidc": {
                "introspection_url": "https://id.example.org/introspect",
                "client_id": "ridad",
                "client_secret": "hush",
                "required_scopes": ["openid", "submit"],
            },
        }
    )
    assert config.auth == AuthConfig(
        method="oidc",
        allowed_groups=("packager",),
        admin_groups=("admins",),
        oidc=OidcConfig(
            introspection_url="https://id.example.org/introspect",
            client_id="ridad",
            client_secret="hush",
            required_scopes=("openid", "submit"),
        ),
    )
    assert "hush" not in repr(config)


def test_oidc_cache_seconds_defaults_to_60_and_may_be_0() -> None:
    """auth.oidc.cache_seconds caps how long an identity is trusted."""
    section = {
        "introspection_url": "https://id.example.org/introspect",
        "client_id": "ridad",
        "client_secret": "hush",
    }
    default = parse(auth={"method": "oidc", "oidc": section})
    assert default.auth is not None and default.auth.oidc is not None
    assert default.auth.oidc.cache_seconds == 60.0
    never = parse(auth={"method": "oidc", "oidc": {**section, "cache_seconds": 0}})
    assert never.auth is not None and never.auth.oidc is not None
    assert never.auth.oidc.cache_seconds == 0.0
    assert problems_of(
        auth={"method": "oidc", "oidc": {**section, "cache_seconds": -1}}
    ) == ["auth.oidc.cache_seconds: must be a number, zero or more"]
    assert problems_of(
        auth={"method": "oidc", "oidc": {**section, "cache_seconds": True}}
    ) == ["auth.oidc.cache_seconds: must be a number, zero or more"]


def test_kerberos_and_ssl_sections_are_parsed() -> None:
    """Keytab, principal, certificates and user groups are read."""
    kerberos = parse(
        auth={
            "method": "kerberos",
            "allowed_users": ["alice"],
            "kerberos": {
                "keytab": "/etc/ridad/http.keytab",
                "principal": "HTTP/rida.example.org@EXAMPLE.ORG",
                "groups": {"alice": ["packager"], "bob": []},
            },
        }
    ).auth
    assert kerberos is not None and kerberos.kerberos == KerberosConfig(
        keytab="/etc/ridad/http.keytab",
        principal="HTTP/rida.example.org@EXAMPLE.ORG",
        groups=(("alice", ("packager",)), ("bob", ())),
    )
    ssl = parse(
        listen="tcp:8443",
        auth={"method": "ssl", "ssl": {"ca": "c", "cert": "s", "key": "k"}},
    ).auth
    assert ssl is not None and ssl.ssl == SslConfig(ca="c", cert="s", key="k")


def test_every_auth_problem_is_reported_at_once() -> None:
    """Bad method settings, types and missing keys come back together."""
    assert problems_of(
        auth={
            "method": "kerberos",
            "allowed_groups": "packager",
            "colour": "blue",
            "kerberos": {
                "principal": "alice@EXAMPLE.ORG",
                "groups": {"alice": "packager"},
            },
            "oidc": {"introspection_url": "ftp://x", "client_id": "", "extra": 1},
        }
    ) == [
        "auth.colour: unknown setting",
        "auth.allowed_groups: must be a list of non-empty strings",
        "auth.oidc.extra: unknown setting",
        "auth.oidc.introspection_url: must be an http:// or https:// URL",
        "auth.oidc.client_id: must be a non-empty string",
        "auth.oidc.client_secret: required for method oidc",
        "auth.kerberos.keytab: required for method kerberos",
        "auth.kerberos.principal: must be a service principal such as"
        " HTTP/host.example.org@REALM",
        "auth.kerberos.groups: must map user names to lists of group names",
    ]


def test_unknown_method_and_missing_method_section_are_problems() -> None:
    """method must be known, and the chosen method needs its section."""
    assert problems_of(auth={"method": "ldap"}) == [
        "auth.method: must be one of none, oidc, kerberos, ssl"
    ]
    assert problems_of(auth={"method": "oidc"}) == [
        "auth.oidc: required for method oidc"
    ]


def test_ssl_method_needs_a_tcp_listen() -> None:
    """ridad adds TLS itself, so the listen string must be plain tcp:."""
    messages = problems_of(
        listen="ssl:8443:privateKey=k.pem",
        auth={"method": "ssl", "ssl": {"ca": "c", "cert": "s", "key": "k"}},
    )
    assert messages == [
        "listen: must be a tcp: endpoint with auth.method ssl"
        " (ridad adds the TLS itself)"
    ]


@pytest.mark.parametrize(
    "listen",
    ["tcp:8080", "tcp:8080:interface=0.0.0.0", "tcp:80:interface=10.0.0.5"],
)
def test_public_listen_without_auth_section_is_refused(listen: str) -> None:
    """Listening beyond loopback without an auth section is a config error."""
    (message,) = problems_of(listen=listen)
    assert message.startswith(f"auth: required because listen ({listen})")


def test_public_listen_with_explicit_none_is_accepted() -> None:
    """Writing auth.method none is a deliberate choice, even on a public port."""
    config = parse(listen="tcp:8080", auth={"method": "none"})
    assert config.auth == AuthConfig()


def test_loopback_listen_without_auth_section_means_none() -> None:
    """No auth section on loopback: auth is None (method none, logged)."""
    assert parse(listen="tcp:8080:interface=127.0.0.1").auth is None


@pytest.mark.parametrize(
    ("listen", "local"),
    [
        ("tcp:8080:interface=127.0.0.1", True),
        ("tcp:8080:interface=127.9.9.9", True),
        ("tcp:8080:interface=localhost", True),
        ("tcp6:8080:interface=\\:\\:1", True),
        ("unix:/run/ridad.sock", True),
        ("tcp:8080", False),
        ("tcp:8080:interface=\\:\\:", False),
        ("tcp:8080:interface=rida.example.org", False),
        ("ssl:443:interface=192.0.2.1", False),
        ("systemd:domain=INET:index=0", False),
    ],
)
def test_listen_is_local_only_for_loopback_and_unix(listen: str, local: bool) -> None:
    """Only loopback interfaces and unix sockets count as local."""
    assert listen_is_local(listen) is local


def test_auth_changes_need_a_restart() -> None:
    """SIGHUP does not change the auth section; it reports it as ignored."""
    live = LiveConfig(parse(auth={"method": "none"}))
    ignored = live.reload(
        parse(
            auth={
                "method": "oidc",
                "oidc": {
                    "introspection_url": "https://id/x",
                    "client_id": "a",
                    "client_secret": "b",
                },
            }
        )
    )
    assert ignored and "auth" in ignored[0]
    assert live.current.auth == AuthConfig()


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "method",
                        "oidc",
                        "kerberos",
                        "ssl",
                        "groups",
                        "allowed_groups",
                        "keytab",
                        "principal",
                        "introspection_url",
                        "client_id",
                        "client_secret",
                        "ca",
                        "cert",
                        "key",
                    ]
                ),
                inner,
                max_size=4,
            )
        ),
        max_leaves=15,
    )
)
def test_garbage_auth_section_gives_only_config_errors(data: object) -> None:
    """Any value of ``auth`` either parses or raises ConfigError."""
    try:
        result = parse(auth=data)
    except ConfigError:
        return
    assert isinstance(result, Config)


def test_start_up_refuses_public_listen_without_auth(tmp_path: Path) -> None:
    """``twistd ridad`` stops before starting: a usage error naming auth."""
    path = tmp_path / "ridad.yaml"
    path.write_text(yaml.safe_dump({"scm": SCM, "listen": "tcp:8080"}))
    with pytest.raises(usage.UsageError, match=r"auth: required because listen"):
        Options().parseOptions(["--config", str(path)])
