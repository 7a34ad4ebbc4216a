"""``rida``'s command line: commands, options in either place, usage errors."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ridad.cli.exits import UsageError
from ridad.cli.options import parse_arguments
from ridad.cli.submit_body import branch_of
from tests.unit.cli.fakembs import Cli, FakeMbs


def parse(*argv: str):
    args = parse_arguments(argv, StringIO())
    assert args is not None
    return args


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(fake=FakeMbs(), home=tmp_path)


def test_help_documents_commands_settings_and_exit_statuses(cli: Cli) -> None:
    """rida --help exits 0 listing the commands, settings and exit statuses."""
    assert cli.run("--help") == 0
    out = cli.out.getvalue()
    for command in ("submit", "watch", "show", "list", "cancel", "about"):
        assert command in out
    for setting in ("RIDA_SERVER", "RIDA_TOKEN", "~/.config/rida/config.yaml"):
        assert setting in out
    assert "exit statuses:" in out
    for status in (
        "0  success",
        "1  a watched build failed",
        "2  usage",
        "3  the server",
    ):
        assert status in out
    assert cli.fake.requests == []


def test_command_help_lists_its_options(cli: Cli) -> None:
    """rida submit --help shows --branch, --watch, --interval."""
    assert cli.run("submit", "--help") == 0
    out = cli.out.getvalue()
    assert "--branch" in out and "--watch" in out and "--interval" in out


def test_no_command_is_a_usage_error(cli: Cli) -> None:
    """rida alone exits 2 with the usage."""
    assert cli.run() == 2
    err = cli.err.getvalue()
    assert err.startswith("rida: the following arguments are required: COMMAND")
    assert "usage: rida" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["show"],
        ["show", "x"],
        ["show", "0"],
        ["watch"],
        ["watch", "1", "--interval", "0"],
        ["watch", "1", "--interval", "nan"],
        ["list", "--limit", "-1"],
        ["frobnicate"],
        ["cancel", "1", "2"],
    ],
)
def test_bad_arguments_exit_2_without_a_request(cli: Cli, argv: list[str]) -> None:
    """Bad arguments exit 2 and send nothing."""
    assert cli.run(*argv) == 2
    assert cli.err.getvalue().startswith("rida: ")
    assert "usage:" in cli.err.getvalue()
    assert cli.fake.requests == []


def test_common_options_go_before_or_after_the_command() -> None:
    """--server, --token and --json work before and after the command name."""
    before = parse("--server", "http://a", "--token", "t", "--json", "show", "1")
    after = parse("show", "1", "--server", "http://a", "--token", "t", "--json")
    for args in (before, after):
        assert (args.server, args.token, args.json, args.id) == (
            "http://a",
            "t",
            True,
            1,
        )


def test_defaults() -> None:
    """Without options: no server flag, text output, 5 s polls."""
    args = parse("watch", "1", "2")
    assert (args.server, args.json, args.ids, args.interval) == (
        None,
        False,
        [1, 2],
        5.0,
    )
    args = parse("submit", "git://h/m.git?#main")
    assert (args.branch, args.watch) == (None, False)
    args = parse("list")
    assert (args.state, args.mine, args.limit) == (None, False, None)


@pytest.mark.parametrize(
    ("scmurl", "branch"),
    [
        ("git://h/modules/demo.git?#main", "main"),
        ("https://h/modules/demo.git/demo.yaml?#f40", "f40"),
        ("git://h/modules/demo.git#stream-1.10", "stream-1.10"),
        ("git://h/modules/demo.git?#abc123", "abc123"),  # too short for a hash
    ],
)
def test_branch_of_takes_a_branch_ref(scmurl: str, branch: str) -> None:
    """The ref of an scmurl is the branch when it is not a commit hash."""
    assert branch_of(scmurl) == branch


@pytest.mark.parametrize(
    "scmurl",
    [
        "git://h/modules/demo.git?#3f2a1c0",
        "git://h/modules/demo.git?#" + "a" * 40,
        "git://h/modules/demo.git",
        "git://h/modules/demo.git?#",
        "http://[#3f2a1c0",
    ],
)
def test_branch_of_refuses_commits_and_missing_refs(scmurl: str) -> None:
    """A commit hash or no ref cannot give the branch."""
    with pytest.raises(UsageError):
        branch_of(scmurl)


@given(st.text())
def test_branch_of_anything_is_a_ref_or_a_usage_error(scmurl: str) -> None:
    """branch_of raises only UsageError, and a branch it gives is in the URL."""
    try:
        branch = branch_of(scmurl)
    except UsageError:
        return
    assert branch and branch in scmurl
