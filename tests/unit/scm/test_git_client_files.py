"""Tests for L{ridad.scm.git.GitClient}'s file and branch questions against a fake process reactor.

These check what GitClient asks git to do and how it reads git's answers;
tests/integration/test_git_fetch.py and test_git_limits.py run the same
client against real git.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ridad.errors import Unprocessable
from ridad.scm.git import FetchedFile
from tests.unit.scm.gitclient_support import (
    MAIN,
    OTHER,
    REPO,
    client_on,
    next_process,
    outcome,
    start,
)

if TYPE_CHECKING:
    from tests.unit.scm.conftest import FakeProcessReactor


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
    _ls_tree_answers(process_reactor, repository, f"100644 blob {OTHER}")
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


def _ls_tree_answers(
    process_reactor: FakeProcessReactor, repository: str, entry: str
) -> None:
    """The next git process is ls-tree of MAIN's sub/foo.yaml; it answers ``entry``."""
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
    tree.finish(stdout=f"{entry}\tsub/foo.yaml\0".encode())
