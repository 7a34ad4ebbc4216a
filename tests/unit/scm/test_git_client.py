"""Tests for L{ridad.scm.git.GitClient} against a fake process reactor.

These check what GitClient asks git to do and how it reads git's answers;
tests/integration/test_git_fetch.py and test_git_limits.py run the same
client against real git.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ridad.errors import InvalidRequest, Unprocessable
from ridad.scm.git import ResolvedRef
from ridad.scm.url import parse_repository
from tests.unit.scm.gitclient_support import (
    MAIN,
    OTHER,
    REPO,
    TAG_OBJECT,
    TAGGED,
    client_on,
    listing,
    next_process,
    outcome,
    start,
)

if TYPE_CHECKING:
    from tests.unit.scm.conftest import FakeProcessReactor


def test_ls_remote_gets_an_argument_list_with_one_protocol_allowed(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """resolve_ref runs ls-remote with only the URL's protocol allowed and '--' before the URL."""
    client = client_on(process_reactor, tmp_path)
    start(client.resolve_ref(REPO, "main"))
    process = next_process(process_reactor)
    assert os.path.isabs(process.executable)
    assert process.args[:5] == [
        "git",
        "-c",
        "protocol.allow=never",
        "-c",
        "protocol.git.allow=always",
    ]
    assert process.git_args[:3] == ["ls-remote", "--", REPO.url]
    assert "refs/heads/main" in process.git_args
    assert "refs/tags/main^{}" in process.git_args


def test_git_runs_without_user_or_system_configuration(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """git gets no prompts, no system config, a private HOME and the C locale."""
    client = client_on(process_reactor, tmp_path)
    start(client.resolve_ref(REPO, "main"))
    process = next_process(process_reactor)
    env = process.env
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert env["GIT_ASKPASS"] == "/bin/true"
    assert env["GIT_CONFIG_NOSYSTEM"] == "1"
    assert env["LC_ALL"] == "C"
    assert env["HOME"].startswith(str(tmp_path))
    assert os.listdir(env["HOME"]) == []
    assert process.path is not None and process.path.startswith(str(tmp_path))
    assert env["GIT_CEILING_DIRECTORIES"] == str(tmp_path)
    assert not any(
        name.startswith("GIT_")
        and name
        not in {
            "GIT_TERMINAL_PROMPT",
            "GIT_ASKPASS",
            "GIT_CONFIG_NOSYSTEM",
            "GIT_CEILING_DIRECTORIES",
            "GIT_TRACE_PACKET",
        }
        for name in env
    )
    assert env["GIT_TRACE_PACKET"] == "3"


@pytest.mark.parametrize(
    ("text", "protocol", "url"),
    [
        ("git+https://h/r.git", "https", "https://h/r.git"),
        ("https://h:8443/r.git", "https", "https://h:8443/r.git"),
        ("http://h/r.git", "http", "http://h/r.git"),
        ("file:///srv/r.git", "file", "file:///srv/r.git"),
    ],
)
def test_each_scheme_allows_only_its_own_protocol(
    process_reactor: FakeProcessReactor,
    tmp_path: Path,
    text: str,
    protocol: str,
    url: str,
) -> None:
    """git+https is handed to git as https, and only that protocol is allowed."""
    client = client_on(process_reactor, tmp_path)
    start(client.resolve_ref(parse_repository(text), "main"))
    process = next_process(process_reactor)
    assert process.args[4] == f"protocol.{protocol}.allow=always"
    assert process.git_args[:3] == ["ls-remote", "--", url]


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("main", ResolvedRef(commit=MAIN, is_branch=True, branch="main")),
        ("v1", ResolvedRef(commit=TAGGED, is_branch=False, branch=None)),
        ("light", ResolvedRef(commit=OTHER, is_branch=False, branch=None)),
        ("refs/heads/main", ResolvedRef(commit=MAIN, is_branch=True, branch="main")),
        ("refs/tags/v1", ResolvedRef(commit=TAGGED, is_branch=False, branch=None)),
    ],
)
def test_resolve_ref_reads_branches_and_peeled_tags(
    process_reactor: FakeProcessReactor,
    tmp_path: Path,
    ref: str,
    expected: ResolvedRef,
) -> None:
    """A branch gives its tip, an annotated tag its peeled commit, a lightweight tag its commit."""
    client = client_on(process_reactor, tmp_path)
    d = start(client.resolve_ref(REPO, ref))
    next_process(process_reactor).finish(
        stdout=listing(
            (MAIN, "refs/heads/main"),
            (TAG_OBJECT, "refs/tags/v1"),
            (TAGGED, "refs/tags/v1^{}"),
            (OTHER, "refs/tags/light"),
        )
    )
    assert outcome(d) == expected


def test_branch_wins_over_a_tag_of_the_same_name(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """When a branch and a tag share a name, the branch is used."""
    client = client_on(process_reactor, tmp_path)
    d = start(client.resolve_ref(REPO, "f39"))
    next_process(process_reactor).finish(
        stdout=listing((OTHER, "refs/tags/f39"), (MAIN, "refs/heads/f39"))
    )
    assert outcome(d) == ResolvedRef(commit=MAIN, is_branch=True, branch="f39")


def test_full_commit_hash_is_used_as_is_after_checking_the_repository(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """A 40-hex ref still runs ls-remote (the repository must exist) and is returned lower-cased."""
    client = client_on(process_reactor, tmp_path)
    d = start(client.resolve_ref(REPO, "AB" * 20))
    next_process(process_reactor).finish(stdout=b"")
    assert outcome(d) == ResolvedRef(commit="ab" * 20, is_branch=False, branch=None)


def test_unknown_ref_is_unprocessable_naming_ref_and_repository(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """A ref ls-remote does not list gives a missing-ref error naming both."""
    client = client_on(process_reactor, tmp_path)
    d = start(client.resolve_ref(REPO, "nope"))
    next_process(process_reactor).finish(stdout=listing((MAIN, "refs/heads/main")))
    error = outcome(d)
    assert isinstance(error, Unprocessable)
    assert "'nope'" in error.message and REPO.render() in error.message
    assert error.details == {
        "reason": "missing-ref",
        "transient": False,
        "url": REPO.render(),
    }


@pytest.mark.parametrize(
    "ref", ["-upload-pack=evil", "--foo", "a..b", "ext::sh", "x:y", "@{1}", "a b"]
)
def test_bad_refs_never_reach_git(
    process_reactor: FakeProcessReactor, tmp_path: Path, ref: str
) -> None:
    """Option-like or invalid refs are refused before any process starts."""
    client = client_on(process_reactor, tmp_path)
    d = start(client.resolve_ref(REPO, ref))
    assert isinstance(outcome(d), InvalidRequest)
    assert process_reactor.processes == []
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("commit", "path"),
    [
        ("main", "foo.yaml"),
        ("1" * 39, "foo.yaml"),
        (MAIN, "-foo.yaml"),
        (MAIN, "/etc/passwd"),
        (MAIN, "../foo.yaml"),
        (MAIN, "a//b"),
        (MAIN, ""),
        (MAIN, "a\nb"),
    ],
)
def test_bad_commits_and_paths_never_reach_git(
    process_reactor: FakeProcessReactor, tmp_path: Path, commit: str, path: str
) -> None:
    """fetch_file and has_file refuse malformed commits and paths before running git."""
    client = client_on(process_reactor, tmp_path)
    assert isinstance(
        outcome(start(client.fetch_file(REPO, commit, path))), InvalidRequest
    )
    assert isinstance(
        outcome(start(client.has_file(REPO, commit, path))), InvalidRequest
    )
    assert process_reactor.processes == []
