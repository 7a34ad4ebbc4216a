"""Configuration parsing: every problem reported at once, with its key path."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from ridad.config.model import Config, LiveConfig
from ridad.config.parse import parse_config
from ridad.errors import ConfigError

MINIMAL = 'scm: {rpms_default_repository: "git://h/rpms/"}'


def test_minimal_config_takes_defaults() -> None:
    """A config naming only the component repository takes defaults."""
    config = parse_config(MINIMAL)
    assert config.listen == "tcp:8080:interface=127.0.0.1"
    assert config.database.embedded
    assert config.api.max_body_bytes == 1048576
    assert config.api.request_timeout_seconds == 30.0
    assert config.api.max_connections == 512
    assert config.api.public_url is None
    assert config.base_module_names == ("platform",)


def test_sample_config_is_valid() -> None:
    """The commented production sample in etc/ parses."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "etc" / "ridad.yaml").read_text()
    config = parse_config(text)
    assert config.scm.allowed == ("git://pkgs.example.org/modules/",)


def test_every_problem_is_reported_with_its_path() -> None:
    """Several problems come back together, each with its key path."""
    with pytest.raises(ConfigError) as caught:
        parse_config(
            "listen: 5\nbogus: 1\ndatabase: {pool_size: 0}\n"
            "scm: {allowed: x}\napi: {maintenance: maybe}\n"
        )
    assert caught.value.messages == [
        "bogus: unknown setting",
        "listen: must be a non-empty string",
        "database.pool_size: must be a positive integer",
        "scm.rpms_default_repository: required",
        "scm.allowed: must be a list of non-empty strings",
        "api.maintenance: must be true or false",
    ]


def test_api_limits_and_public_url_are_read() -> None:
    """The api section's deadline, connection cap and public URL (its
    trailing slash dropped)."""
    config = parse_config(
        MINIMAL + "\napi: {request_timeout_seconds: 7.5, max_connections: 64,"
        ' public_url: "https://mbs.example.org/ridad/"}'
    )
    assert config.api.request_timeout_seconds == 7.5
    assert config.api.max_connections == 64
    assert config.api.public_url == "https://mbs.example.org/ridad"


def test_bad_api_limits_are_reported_with_their_paths() -> None:
    """A deadline or cap that is not positive is a problem naming its key."""
    with pytest.raises(ConfigError) as caught:
        parse_config(
            MINIMAL + "\napi: {request_timeout_seconds: 0, max_connections: true}"
        )
    assert caught.value.messages == [
        "api.request_timeout_seconds: must be a positive number",
        "api.max_connections: must be a positive integer",
    ]


@pytest.mark.parametrize(
    "url, problem",
    [
        ("mbs.example.org", "must be an http:// or https:// URL"),
        ("ftp://mbs.example.org", "must be an http:// or https:// URL"),
        ("http://[::1", "must be an http:// or https:// URL"),
        ("https://user@mbs.example.org", "without user, query or fragment"),
        ("https://mbs.example.org/?a=1", "without user, query or fragment"),
        ("https://mbs.example.org/#top", "without user, query or fragment"),
        ("https://mbs.example.org:0", "a port from 1 to 65535"),
        ("https://mbs.example.org:99999", "a port from 1 to 65535"),
        ("https://:8080", "must name a host"),
        ("https://mbs.example.org/a b", "without spaces or control characters"),
        ("https://mbs.exämple.org", "must be ASCII"),
        ("", "must be a non-empty string"),
    ],
)
def test_bad_public_url_is_refused(url: str, problem: str) -> None:
    """api.public_url must be an absolute http(s) base URL."""
    with pytest.raises(ConfigError) as caught:
        parse_config(MINIMAL + f"\napi: {{public_url: {url!r}}}")
    [message] = caught.value.messages
    assert message.startswith("api.public_url: ") and problem in message


def test_invalid_yaml_is_a_config_error() -> None:
    """Text that is not YAML is a ConfigError, not a traceback."""
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_config("a: [")


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=20,
    )
)
def test_garbage_gives_only_config_errors(data: object) -> None:
    """Any YAML value either parses or raises ConfigError."""
    try:
        result = parse_config(yaml.safe_dump(data))
    except ConfigError:
        return
    assert isinstance(result, Config)


def test_reload_adopts_runtime_settings_and_ignores_others() -> None:
    """SIGHUP takes maintenance and whitelists, not the listen address."""
    live = LiveConfig(parse_config(MINIMAL))
    ignored = live.reload(
        parse_config(
            MINIMAL.replace("}", ', allowed: ["git://h/m/"]}')
            + "\nlisten: tcp:9999:interface=127.0.0.1\napi: {maintenance: true}"
        )
    )
    assert ignored
    assert live.current.api.maintenance is True
    assert live.current.scm.allowed == ("git://h/m/",)
    assert live.current.listen == "tcp:8080:interface=127.0.0.1"


def test_scm_overrides_default_to_false_and_are_read() -> None:
    """The name, stream and version overrides are off unless set to true."""
    assert parse_config(MINIMAL).scm.allow_name_override is False
    assert parse_config(MINIMAL).scm.allow_stream_override is False
    assert parse_config(MINIMAL).scm.allow_version_override is False
    config = parse_config(
        "scm: {rpms_default_repository: x, allow_name_override: true,"
        " allow_stream_override: true, allow_version_override: true}"
    )
    assert config.scm.allow_name_override is True
    assert config.scm.allow_stream_override is True
    assert config.scm.allow_version_override is True
    with pytest.raises(ConfigError) as caught:
        parse_config("scm: {rpms_default_repository: x, allow_name_override: yes!}")
    assert caught.value.messages == ["scm.allow_name_override: must be true or false"]


def test_allowed_origins_are_normalised_and_bad_ones_named_by_index() -> None:
    """Origins lose their default port and case; a path or 'null' is a problem."""
    config = parse_config(
        MINIMAL + "\napi: {allowed_origins: ['HTTPS://UI.Example.org:443',"
        " 'http://127.0.0.1:8081', 'http://[::1]:80']}"
    )
    assert config.api.allowed_origins == (
        "https://ui.example.org",
        "http://127.0.0.1:8081",
        "http://[::1]",
    )
    assert parse_config(MINIMAL).api.allowed_origins == ()
    with pytest.raises(ConfigError) as caught:
        parse_config(
            MINIMAL + "\napi: {allowed_origins: ['https://ui.example.org/', null,"
            " 'ftp://h']}"
        )
    assert caught.value.messages == [
        "api.allowed_origins: must be a list of non-empty strings"
    ]
    with pytest.raises(ConfigError) as caught:
        parse_config(
            MINIMAL + "\napi: {allowed_origins: ['https://ui.example.org/', 'null',"
            " 'ftp://h', 'https://u:p@h']}"
        )
    assert [m.split(":", 1)[0] for m in caught.value.messages] == [
        "api.allowed_origins[0]",
        "api.allowed_origins[1]",
        "api.allowed_origins[2]",
        "api.allowed_origins[3]",
    ]
    assert "write scheme://host[:port]" in caught.value.messages[0]


def test_reload_adopts_the_overrides_and_allowed_origins() -> None:
    """scm.allow_*_override and api.allowed_origins change on SIGHUP."""
    live = LiveConfig(parse_config(MINIMAL))
    ignored = live.reload(
        parse_config(
            "scm: {rpms_default_repository: x, allow_stream_override: true}\n"
            "api: {allowed_origins: ['https://ui.example.org']}"
        )
    )
    assert ignored
    assert live.current.scm.allow_stream_override is True
    assert live.current.scm.rpms_default_repository == "git://h/rpms/"
    assert live.current.api.allowed_origins == ("https://ui.example.org",)


def test_git_and_submission_bounds_have_defaults() -> None:
    """Without settings: 10 s first-byte timeout, 50 MiB per submission, 1,000 components."""
    config = parse_config(MINIMAL)
    assert config.scm.git_first_byte_timeout_seconds == 10.0
    assert config.scm.max_fetch_bytes == 50 * 1024 * 1024
    assert config.api.max_components == 1000


def test_git_and_submission_bounds_are_read_and_checked() -> None:
    """The three bounds are read, and bad values are reported with their paths."""
    config = parse_config(
        'scm: {rpms_default_repository: "git://h/rpms/",'
        " git_first_byte_timeout_seconds: 2.5, max_fetch_bytes: 1048576}\n"
        "api: {max_components: 20}"
    )
    assert config.scm.git_first_byte_timeout_seconds == 2.5
    assert config.scm.max_fetch_bytes == 1048576
    assert config.api.max_components == 20
    with pytest.raises(ConfigError) as caught:
        parse_config(
            'scm: {rpms_default_repository: "git://h/rpms/",'
            " git_first_byte_timeout_seconds: 0, max_fetch_bytes: -1}\n"
            "api: {max_components: many}"
        )
    assert caught.value.messages == [
        "scm.git_first_byte_timeout_seconds: must be a positive number",
        "scm.max_fetch_bytes: must be a positive integer",
        "api.max_components: must be a positive integer",
    ]


def test_reload_adopts_the_fetch_and_component_bounds_not_the_first_byte_timeout() -> (
    None
):
    """max_fetch_bytes and max_components follow SIGHUP; the first-byte timeout needs a restart."""
    live = LiveConfig(parse_config(MINIMAL))
    ignored = live.reload(
        parse_config(
            MINIMAL.replace(
                "}",
                ", max_fetch_bytes: 4096, git_first_byte_timeout_seconds: 3}",
            )
            + "\napi: {max_components: 5}"
        )
    )
    assert ignored and "scm.git_first_byte_timeout_seconds" in ignored[0]
    assert live.current.scm.max_fetch_bytes == 4096
    assert live.current.api.max_components == 5
    assert live.current.scm.git_first_byte_timeout_seconds == 10.0


def test_metrics_listen_is_read_and_must_differ_from_the_api() -> None:
    """``metrics.listen`` is optional (None: the API's port); the API's own
    endpoint, unknown keys and empty values are problems; SIGHUP keeps it."""
    assert parse_config(MINIMAL).metrics.listen is None
    config = parse_config(MINIMAL + "\nmetrics: {listen: 'tcp:9464'}")
    assert config.metrics.listen == "tcp:9464"
    with pytest.raises(ConfigError) as caught:
        parse_config(MINIMAL + "\nmetrics: {listen: 'tcp:8080:interface=127.0.0.1'}")
    assert caught.value.messages[0].startswith(
        "metrics.listen: must differ from listen"
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(MINIMAL + "\nmetrics: {listen: '', port: 1}")
    assert sorted(caught.value.messages) == [
        "metrics.listen: must be a non-empty string",
        "metrics.port: unknown setting",
    ]
    live = LiveConfig(config)
    assert live.reload(parse_config(MINIMAL))
    assert live.current.metrics.listen == "tcp:9464"
