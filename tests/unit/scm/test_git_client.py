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
from ridad.scm.git import FetchedFile, ResolvedRef
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


def test_fetch_file_fetches_trees_then_the_one_blob_and_reads_it(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """fetch_file inits a bare repo, fetches the commit's trees at depth 1, looks the path up, fetches its blob, then reads it and the committer time."""
    client = client_on(process_reactor, tmp_path)
    d = start(client.fetch_file(REPO, MAIN, "sub/foo.yaml"))
    init = next_process(process_reactor)
    repository = init.git_args[-1]
    assert init.git_args[:-1] == ["init", "--quiet", "--bare", "--template=", "--"]
    init.finish()
    fetch = next_process(process_reactor)
    assert fetch.git_args == [
        f"--git-dir={repository}",
        "fetch",
        "--quiet",
        "--no-tags",
        "--depth",
        "1",
        "--filter=blob:none",
        "--",
        REPO.url,
        MAIN,
    ]
    fetch.finish()
    tree = next_process(process_reactor)
    assert tree.git_args == [
        f"--git-dir={repository}",
        "--literal-pathspecs",
        "ls-tree",
        "-z",
        "--full-tree",
        MAIN,
        "--",
        "sub/foo.yaml",
    ]
    tree.finish(stdout=f"100644 blob {OTHER}\tsub/foo.yaml\0".encode())
    blob_fetch = next_process(process_reactor)
    assert blob_fetch.git_args[1:] == [
        "fetch",
        "--quiet",
        "--no-tags",
        "--filter=blob:none",
        "--",
        REPO.url,
        OTHER,
    ]
    blob_fetch.finish()
    blob = next_process(process_reactor)
    assert blob.git_args == [f"--git-dir={repository}", "cat-file", "blob", OTHER]
    blob.finish(stdout=b"document: modulemd\n")
    log = next_process(process_reactor)
    assert log.git_args == [
        f"--git-dir={repository}",
        "log",
        "-1",
        "--format=%ct",
        MAIN,
        "--",
    ]
    log.finish(stdout=b"1700000000\n")
    assert outcome(d) == FetchedFile(
        content=b"document: modulemd\n", committer_time=1700000000
    )
    assert os.listdir(tmp_path) == []


def test_missing_file_names_file_commit_and_repository(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """A path cat-file cannot read gives a missing-file error naming all three."""
    client = client_on(process_reactor, tmp_path)
    d = start(client.fetch_file(REPO, MAIN, "foo.yaml"))
    next_process(process_reactor).finish()
    next_process(process_reactor).finish()
    next_process(process_reactor).finish(
        128, stderr=b"fatal: path 'foo.yaml' does not exist in '1111'\n"
    )
    error = outcome(d)
    assert isinstance(error, Unprocessable)
    assert error.details["reason"] == "missing-file"
    assert "'foo.yaml'" in error.message
    assert MAIN in error.message
    assert REPO.render() in error.message
    assert os.listdir(tmp_path) == []


def test_file_over_the_size_limit_is_too_large(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """A blob bigger than max_file_bytes kills cat-file and gives a too-large error."""
    client = client_on(process_reactor, tmp_path, max_file_bytes=4)
    d = start(client.fetch_file(REPO, MAIN, "foo.yaml"))
    next_process(process_reactor).finish()
    next_process(process_reactor).finish()
    next_process(process_reactor).finish(
        stdout=f"100644 blob {OTHER}\tfoo.yaml\0".encode()
    )
    next_process(process_reactor).finish()
    blob = next_process(process_reactor)
    blob.write(stdout=b"12345")
    assert blob.signals == ["KILL"]
    blob.finish(signal=9)
    error = outcome(d)
    assert isinstance(error, Unprocessable)
    assert error.details == {
        "reason": "too-large",
        "transient": False,
        "url": REPO.render(),
    }
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("exit_code", "output", "expected"),
    [
        (0, f"100644 blob {OTHER}\tfoo.spec\0".encode(), True),
        (0, f"100755 blob {OTHER}\tfoo.spec\0".encode(), True),
        (0, f"040000 tree {OTHER}\tfoo.spec\0".encode(), False),
        (0, f"160000 commit {OTHER}\tfoo.spec\0".encode(), False),
        (0, f"100644 blob {OTHER}\tfoo.spec.orig\0".encode(), False),
        (0, b"", False),
        (128, b"", False),
    ],
)
def test_has_file_is_true_only_for_an_existing_blob(
    process_reactor: FakeProcessReactor,
    tmp_path: Path,
    exit_code: int,
    output: bytes,
    expected: bool,
) -> None:
    """has_file reads the path's tree entry (never the blob) and accepts only a file."""
    client = client_on(process_reactor, tmp_path)
    d = start(client.has_file(REPO, MAIN, "foo.spec"))
    next_process(process_reactor).finish()
    next_process(process_reactor).finish()
    check = next_process(process_reactor)
    assert check.git_args[1:] == [
        "--literal-pathspecs",
        "ls-tree",
        "-z",
        "--full-tree",
        MAIN,
        "--",
        "foo.spec",
    ]
    check.finish(exit_code, stdout=output)
    assert outcome(d) is expected
    assert process_reactor.running == []


@pytest.mark.parametrize(("exit_code", "expected"), [(0, True), (1, False)])
def test_branch_contains_follows_merge_base(
    process_reactor: FakeProcessReactor,
    tmp_path: Path,
    exit_code: int,
    expected: bool,
) -> None:
    """branch_contains fetches the branch's history and asks merge-base --is-ancestor."""
    client = client_on(process_reactor, tmp_path)
    d = start(client.branch_contains(REPO, "f39", MAIN))
    next_process(process_reactor).finish()
    fetch = next_process(process_reactor)
    assert fetch.git_args[1:] == [
        "fetch",
        "--quiet",
        "--no-tags",
        "--filter=tree:0",
        "--",
        REPO.url,
        "+refs/heads/f39:refs/ridad/branch",
    ]
    fetch.finish()
    next_process(process_reactor).finish(0)
    ancestry = next_process(process_reactor)
    assert ancestry.git_args[1:] == [
        "merge-base",
        "--is-ancestor",
        "--",
        MAIN,
        "refs/ridad/branch",
    ]
    ancestry.finish(exit_code)
    assert outcome(d) is expected


def test_branch_does_not_contain_a_commit_absent_from_its_history(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """A commit missing from the fetched branch history is not contained, without merge-base."""
    client = client_on(process_reactor, tmp_path)
    d = start(client.branch_contains(REPO, "refs/heads/f39", MAIN))
    next_process(process_reactor).finish()
    fetch = next_process(process_reactor)
    assert fetch.git_args[-1] == "+refs/heads/f39:refs/ridad/branch"
    fetch.finish()
    next_process(process_reactor).finish(128)
    assert outcome(d) is False
    assert process_reactor.running == []
