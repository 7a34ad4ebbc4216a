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
