"""The webhooks section: build on push, per forge."""

from __future__ import annotations

from pathlib import Path

import pytest

from ridad.config.model import LiveConfig
from ridad.config.parse import parse_config
from ridad.config.webhooks import ForgeHook
from ridad.errors import ConfigError
from tests.unit.test_config import MINIMAL

HOOKS = """
webhooks:
  branches: ["main", "f[0-9]+"]
  service_owner: modularity-bot
  github:
    secret: "gh secret"
    identities: {octocat: alice, hubot: bob}
  gitlab:
    secret: "gl token"
    branches: ["rhel-.*"]
    service_owner: gitlab-bot
  pagure:
    secret: "pg secret"
    git_url: "https://src.example.org"
"""


def test_forges_take_the_sections_defaults_unless_they_set_their_own() -> None:
    """branches and service_owner of the section apply to every forge that
    does not set them; identities are per forge; git_url gets its slash."""
    config = parse_config(MINIMAL + HOOKS)
    assert config.webhooks is not None
    github = config.webhooks.forge("github")
    assert github == ForgeHook(
        secret="gh secret",
        branches=("main", "f[0-9]+"),
        identities=(("hubot", "bob"), ("octocat", "alice")),
        service_owner="modularity-bot",
    )
    gitlab = config.webhooks.forge("gitlab")
    assert gitlab is not None
    assert (gitlab.branches, gitlab.service_owner) == (("rhel-.*",), "gitlab-bot")
    pagure = config.webhooks.forge("pagure")
    assert pagure is not None and pagure.git_url == "https://src.example.org/"
    assert config.webhooks.forge("gitea") is None
    assert parse_config(MINIMAL).webhooks is None
    assert "gh secret" not in repr(github)


def test_branch_patterns_match_whole_branch_names() -> None:
    """``f[0-9]+`` builds f41, not f41-test nor xf41."""
    hook = ForgeHook(secret="s", branches=("main", "f[0-9]+"))
    assert [hook.builds_branch(b) for b in ("main", "f41", "f41-test", "xf41")] == [
        True,
        True,
        False,
        False,
    ]


def test_webhooks_problems_are_named_with_their_paths() -> None:
    """A missing secret, a bad pattern, an owner in angle brackets, a bad
    identity, git_url outside Pagure and unknown keys are each reported."""
    with pytest.raises(ConfigError) as caught:
        parse_config(
            MINIMAL
            + """
webhooks:
  branches: ["(unclosed"]
  service_owner: "<anonymous>"
  github: {identities: {octocat: ""}, git_url: "x"}
  gitea: {secret: s, branches: [main], bogus: 1}
  sourcehut: {secret: s}
"""
        )
    assert caught.value.messages == [
        "webhooks.sourcehut: unknown setting",
        "webhooks.branches: '(unclosed' is not a regular expression:"
        " missing ), unterminated subpattern at position 0",
        "webhooks.service_owner: names in angle brackets are ridad's own",
        "webhooks.github.git_url: unknown setting",
        "webhooks.github.secret: required (the secret the forge's deliveries carry)",
        "webhooks.github.branches: no push would build; list the branches (regular"
        " expressions, matched whole) here or in webhooks.branches",
        "webhooks.github.identities: must map forge user names to ridad user names",
        "webhooks.gitea.bogus: unknown setting",
    ]


def test_a_webhooks_section_without_forges_is_a_problem() -> None:
    """webhooks must name at least one forge."""
    with pytest.raises(ConfigError) as caught:
        parse_config(MINIMAL + "\nwebhooks: {branches: [main]}")
    assert caught.value.messages == [
        "webhooks: name at least one forge (pagure, gitlab, github, forgejo, gitea)"
    ]


def test_reload_adopts_webhooks_and_keeps_builds_when_a_restart_is_needed() -> None:
    """webhooks changes on SIGHUP, even in a reload that also changes a
    setting needing a restart (which keeps builds and webhooks as read)."""
    live = LiveConfig(parse_config(MINIMAL))
    assert live.reload(parse_config(MINIMAL + HOOKS)) == []
    assert live.current.webhooks is not None
    changed = parse_config(
        MINIMAL + HOOKS + '\nlisten: "tcp:9090"\nauth: {method: none}\n'
        "builds: {allow_scratch: false}"
    )
    assert live.reload(changed)
    assert live.current.listen == "tcp:8080:interface=127.0.0.1"
    assert live.current.builds.allow_scratch is False
    assert live.current.webhooks == changed.webhooks


def test_sample_webhooks_block_parses_once_uncommented() -> None:
    """The commented webhooks block of etc/ridad.yaml is a valid section."""
    text = (Path(__file__).resolve().parents[2] / "etc" / "ridad.yaml").read_text()
    block = text[text.index("# webhooks:") :].split("\n\n", 1)[0]
    lines = [line[2:] for line in block.splitlines() if not line.startswith("#   #")]
    lines = [line for line in lines if not line.lstrip().startswith("#")]
    config = parse_config(text + "\n" + "\n".join(lines) + "\n")
    assert config.webhooks is not None
    assert [name for name, _ in config.webhooks.forges] == [
        "pagure",
        "gitlab",
        "github",
    ]
