"""Tests of the gating (greenwave) and build-life settings of the configuration."""

from __future__ import annotations

import pytest

from ridad.config.model import LiveConfig
from ridad.config.parse import parse_config
from ridad.errors import ConfigError
from tests.unit.test_config import MINIMAL

GREENWAVE = (
    MINIMAL + '\ngreenwave: {url: "https://gw.example.org/",'
    " decision_context: osci_compose_gate_modules}"
)


def test_greenwave_section_takes_defaults_and_gets_the_api_path() -> None:
    """Only url and decision_context are needed; /api/v1.0 is added to the URL."""
    config = parse_config(GREENWAVE)
    assert config.greenwave is not None
    assert config.greenwave.url == "https://gw.example.org/api/v1.0"
    assert config.greenwave.decision_context == "osci_compose_gate_modules"
    assert config.greenwave.subject_type == "redhat-module"
    assert config.greenwave.timeout_seconds == 60.0
    assert config.greenwave.recheck_minutes == 10.0
    assert parse_config(MINIMAL).greenwave is None


def test_greenwave_url_of_mbs_keeps_its_api_path() -> None:
    """An MBS GREENWAVE_URL (ending in /api/v1.0, maybe with a slash) is kept."""
    config = parse_config(
        MINIMAL + '\ngreenwave: {url: "http://gw:8080/api/v1.0/",'
        " decision_context: c, subject_type: module, timeout_seconds: 5,"
        " recheck_minutes: 0.5}"
    )
    assert config.greenwave is not None
    assert config.greenwave.url == "http://gw:8080/api/v1.0"
    assert config.greenwave.subject_type == "module"
    assert config.greenwave.timeout_seconds == 5.0
    assert config.greenwave.recheck_minutes == 0.5


def test_greenwave_problems_are_reported_with_their_paths() -> None:
    """Missing keys, bad values and unknown keys of greenwave are named."""
    with pytest.raises(ConfigError) as caught:
        parse_config(
            MINIMAL + '\ngreenwave: {url: "ftp://gw", timeout_seconds: 0,'
            " recheck_minutes: never, subject_type: '', bogus: 1}"
        )
    assert caught.value.messages == [
        "greenwave.bogus: unknown setting",
        "greenwave.decision_context: required",
        "greenwave.url: must be an http:// or https:// URL",
        "greenwave.subject_type: must be a non-empty string",
        "greenwave.timeout_seconds: must be a positive number",
        "greenwave.recheck_minutes: must be a positive number",
    ]
    with pytest.raises(ConfigError) as caught:
        parse_config(MINIMAL + "\ngreenwave: []")
    assert caught.value.messages == ["greenwave: must be a mapping"]
    with pytest.raises(ConfigError) as caught:
        parse_config(MINIMAL + "\ngreenwave:")
    assert caught.value.messages == [
        "greenwave.url: required",
        "greenwave.decision_context: required",
    ]
    with pytest.raises(ConfigError) as caught:
        parse_config(
            MINIMAL + '\ngreenwave: {url: "https://gw/?x=1", decision_context: c}'
        )
    assert caught.value.messages == ["greenwave.url: must not have a query or fragment"]


def test_greenwave_subscription_needs_a_greenwave_section() -> None:
    """format: greenwave is a subscription format, and needs the section."""
    subscription = (
        "\nmessaging: {subscriptions: [{destination: /topic/x.>, format: koji},"
        " {destination: /topic/VirtualTopic.eng.greenwave.decision.update,"
        " format: greenwave}]}"
    )
    config = parse_config(GREENWAVE + subscription)
    assert config.messaging is not None
    assert [s.format for s in config.messaging.subscriptions] == ["koji", "greenwave"]
    with pytest.raises(ConfigError) as caught:
        parse_config(MINIMAL + subscription)
    assert caught.value.messages == [
        "messaging.subscriptions[1].format: greenwave needs a greenwave section"
        " (its decision updates gate done builds)"
    ]
    with pytest.raises(ConfigError) as caught:
        parse_config(
            MINIMAL + "\nmessaging: {subscriptions: [{destination: d, format: x}]}"
        )
    assert caught.value.messages == [
        "messaging.subscriptions[0].format: must be one of koji, fedora, greenwave"
    ]


def test_sample_greenwave_block_parses_once_uncommented() -> None:
    """The commented greenwave block of etc/ridad.yaml is a valid section."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "etc" / "ridad.yaml").read_text()
    block = text[text.index("# greenwave:") :]
    lines = [line[2:] for line in block.splitlines() if not line.startswith("#   #")]
    config = parse_config(text + "\n" + "\n".join(lines) + "\n")
    assert config.greenwave is not None
    assert config.greenwave.url == "https://greenwave.example.org/api/v1.0"
    assert config.greenwave.decision_context == "osci_compose_gate_modules"


def test_reload_keeps_greenwave_until_restart() -> None:
    """A changed greenwave section needs a restart, like koji's."""
    live = LiveConfig(parse_config(GREENWAVE))
    ignored = live.reload(parse_config(MINIMAL))
    assert ignored and "greenwave" in ignored[0]
    assert live.current.greenwave is not None


KOJI = '\nkoji: {hub: "https://koji.example.org/kojihub"'


def test_life_settings_default_to_mbs_ages() -> None:
    """A build fails after 7 days without progress, its target goes 24 hours
    after it ended, a failed build is garbage after 180 days."""
    config = parse_config(MINIMAL + KOJI + "}")
    assert config.stuck_build_days == 7.0
    assert config.koji is not None
    assert (config.koji.target_delete_hours, config.koji.garbage_days) == (24.0, 180.0)
    assert parse_config(MINIMAL).stuck_build_days == 7.0


def test_life_settings_are_read() -> None:
    """stuck_build_days is top-level, the two Koji ages are under koji."""
    config = parse_config(
        MINIMAL
        + KOJI
        + ", target_delete_hours: 1.5, garbage_days: 30}\nstuck_build_days: 2"
    )
    assert config.stuck_build_days == 2.0
    assert config.koji is not None
    assert (config.koji.target_delete_hours, config.koji.garbage_days) == (1.5, 30.0)


def test_bad_life_settings_are_named_with_their_path() -> None:
    """Zero, negative or non-numbers are problems, each with its key path."""
    with pytest.raises(ConfigError) as caught:
        parse_config(
            MINIMAL
            + KOJI
            + ", target_delete_hours: 0, garbage_days: soon}\nstuck_build_days: -1"
        )
    assert caught.value.messages == [
        "koji.target_delete_hours: must be a positive number",
        "koji.garbage_days: must be a positive number",
        "stuck_build_days: must be a positive number",
    ]


def test_reload_keeps_stuck_build_days_until_restart() -> None:
    """stuck_build_days, like the koji section, takes effect at start-up."""
    live = LiveConfig(parse_config(MINIMAL))
    ignored = live.reload(parse_config(MINIMAL + "\nstuck_build_days: 1"))
    assert "stuck_build_days" in ignored[0]
    assert live.current.stuck_build_days == 7.0


def test_sample_builds_block_parses_once_uncommented() -> None:
    """The commented builds block of etc/ridad.yaml is a valid section with
    the defaults."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "etc" / "ridad.yaml").read_text()
    block = text[text.index("# builds:") :].split("\n\n", 1)[0]
    lines = [line[2:] for line in block.splitlines() if not line.startswith("#   #")]
    config = parse_config(text + "\n" + "\n".join(lines) + "\n")
    assert config.builds.rebuild_strategy_default == "changed-and-after"
    assert config.builds.rebuild_strategies_allowed == (
        "all",
        "changed-and-after",
        "only-changed",
    )
    assert config.builds.allow_scratch is True
