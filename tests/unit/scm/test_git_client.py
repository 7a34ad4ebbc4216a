"""Tests for L{ridad.scm.git.GitClient} against a fake process reactor.

These check what GitClient asks git to do and how it reads git's answers;
tests/integration/test_git.py runs the same client against real git.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.logger import LogLevel, capturedLogs

from ridad.errors import InvalidRequest, Unprocessable
from ridad.process import ProcessResult
from ridad.scm.failures import classify_failure
from ridad.scm.git import FetchedFile, GitClient, ResolvedRef
from ridad.scm.url import RepoLocation, parse_repository

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from tests.unit.scm.conftest import FakeProcess, FakeProcessReactor

T = TypeVar("T")

MAIN = "1" * 40
TAG_OBJECT = "2" * 40
TAGGED = "3" * 40
OTHER = "4" * 40
REPO = parse_repository("git://pkgs.example.org/modules/foo.git")


def _client(reactor: FakeProcessReactor, tmp_path: Path, **overrides: Any) -> GitClient:
    """Build a GitClient on the fake reactor with workspaces under tmp_path."""
    arguments: dict[str, Any] = {
        "reactor": reactor,
        "timeout_seconds": 30.0,
        "max_concurrent": 4,
        "temp_dir": str(tmp_path),
        "run_blocking": maybeDeferred,
    }
    arguments.update(overrides)
    return GitClient(**arguments)


def _start(coroutine: Coroutine[Any, Any, T]) -> Deferred[T]:
    """Run a coroutine as a Deferred."""
    return Deferred.fromCoroutine(coroutine)


def _outcome(d: Deferred[Any]) -> Any:
    """Return what an already-fired Deferred holds: a value or the exception."""
    results: list[Any] = []
    d.addBoth(results.append)
    assert results, "the Deferred has not fired"
    result = results[0]
    return getattr(result, "value", result)


def _next(reactor: FakeProcessReactor) -> FakeProcess:
    """The single process currently running."""
    (process,) = reactor.running
    return process


def _listing(*lines: tuple[str, str]) -> bytes:
    """Format ls-remote output."""
    return "".join(f"{sha}\t{name}\n" for sha, name in lines).encode()


def test_ls_remote_gets_an_argument_list_with_one_protocol_allowed(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """resolve_ref runs ls-remote with only the URL's protocol allowed and '--' before the URL."""
    client = _client(process_reactor, tmp_path)
    _start(client.resolve_ref(REPO, "main"))
    process = _next(process_reactor)
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
    client = _client(process_reactor, tmp_path)
    _start(client.resolve_ref(REPO, "main"))
    process = _next(process_reactor)
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
        }
        for name in env
    )


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
    client = _client(process_reactor, tmp_path)
    _start(client.resolve_ref(parse_repository(text), "main"))
    process = _next(process_reactor)
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
    client = _client(process_reactor, tmp_path)
    d = _start(client.resolve_ref(REPO, ref))
    _next(process_reactor).finish(
        stdout=_listing(
            (MAIN, "refs/heads/main"),
            (TAG_OBJECT, "refs/tags/v1"),
            (TAGGED, "refs/tags/v1^{}"),
            (OTHER, "refs/tags/light"),
        )
    )
    assert _outcome(d) == expected


def test_branch_wins_over_a_tag_of_the_same_name(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """When a branch and a tag share a name, the branch is used."""
    client = _client(process_reactor, tmp_path)
    d = _start(client.resolve_ref(REPO, "f39"))
    _next(process_reactor).finish(
        stdout=_listing((OTHER, "refs/tags/f39"), (MAIN, "refs/heads/f39"))
    )
    assert _outcome(d) == ResolvedRef(commit=MAIN, is_branch=True, branch="f39")


def test_full_commit_hash_is_used_as_is_after_checking_the_repository(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """A 40-hex ref still runs ls-remote (the repository must exist) and is returned lower-cased."""
    client = _client(process_reactor, tmp_path)
    d = _start(client.resolve_ref(REPO, "AB" * 20))
    _next(process_reactor).finish(stdout=b"")
    assert _outcome(d) == ResolvedRef(commit="ab" * 20, is_branch=False, branch=None)


def test_unknown_ref_is_unprocessable_naming_ref_and_repository(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """A ref ls-remote does not list gives a missing-ref error naming both."""
    client = _client(process_reactor, tmp_path)
    d = _start(client.resolve_ref(REPO, "nope"))
    _next(process_reactor).finish(stdout=_listing((MAIN, "refs/heads/main")))
    error = _outcome(d)
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
    client = _client(process_reactor, tmp_path)
    d = _start(client.resolve_ref(REPO, ref))
    assert isinstance(_outcome(d), InvalidRequest)
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
    client = _client(process_reactor, tmp_path)
    assert isinstance(
        _outcome(_start(client.fetch_file(REPO, commit, path))), InvalidRequest
    )
    assert isinstance(
        _outcome(_start(client.has_file(REPO, commit, path))), InvalidRequest
    )
    assert process_reactor.processes == []


def test_fetch_file_fetches_one_commit_and_reads_blob_and_time(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """fetch_file inits a bare repo, fetches the commit at depth 1, then reads the blob and committer time."""
    client = _client(process_reactor, tmp_path)
    d = _start(client.fetch_file(REPO, MAIN, "sub/foo.yaml"))
    init = _next(process_reactor)
    repository = init.git_args[-1]
    assert init.git_args[:-1] == ["init", "--quiet", "--bare", "--template=", "--"]
    init.finish()
    fetch = _next(process_reactor)
    assert fetch.git_args == [
        f"--git-dir={repository}",
        "fetch",
        "--quiet",
        "--no-tags",
        "--depth",
        "1",
        "--",
        REPO.url,
        MAIN,
    ]
    fetch.finish()
    blob = _next(process_reactor)
    assert blob.git_args == [
        f"--git-dir={repository}",
        "cat-file",
        "blob",
        "--",
        f"{MAIN}:sub/foo.yaml",
    ]
    blob.finish(stdout=b"document: modulemd\n")
    log = _next(process_reactor)
    assert log.git_args == [
        f"--git-dir={repository}",
        "log",
        "-1",
        "--format=%ct",
        MAIN,
        "--",
    ]
    log.finish(stdout=b"1700000000\n")
    assert _outcome(d) == FetchedFile(
        content=b"document: modulemd\n", committer_time=1700000000
    )
    assert os.listdir(tmp_path) == []


def test_missing_file_names_file_commit_and_repository(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """A path cat-file cannot read gives a missing-file error naming all three."""
    client = _client(process_reactor, tmp_path)
    d = _start(client.fetch_file(REPO, MAIN, "foo.yaml"))
    _next(process_reactor).finish()
    _next(process_reactor).finish()
    _next(process_reactor).finish(
        128, stderr=b"fatal: path 'foo.yaml' does not exist in '1111'\n"
    )
    error = _outcome(d)
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
    client = _client(process_reactor, tmp_path, max_file_bytes=4)
    d = _start(client.fetch_file(REPO, MAIN, "foo.yaml"))
    _next(process_reactor).finish()
    _next(process_reactor).finish()
    blob = _next(process_reactor)
    blob.write(stdout=b"12345")
    assert blob.signals == ["KILL"]
    blob.finish(signal=9)
    error = _outcome(d)
    assert isinstance(error, Unprocessable)
    assert error.details == {
        "reason": "too-large",
        "transient": False,
        "url": REPO.render(),
    }
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("exit_code", "output", "expected"),
    [(0, b"blob\n", True), (0, b"tree\n", False), (128, b"", False)],
)
def test_has_file_is_true_only_for_an_existing_blob(
    process_reactor: FakeProcessReactor,
    tmp_path: Path,
    exit_code: int,
    output: bytes,
    expected: bool,
) -> None:
    """has_file asks cat-file for the object's type and accepts only a blob."""
    client = _client(process_reactor, tmp_path)
    d = _start(client.has_file(REPO, MAIN, "foo.spec"))
    _next(process_reactor).finish()
    _next(process_reactor).finish()
    check = _next(process_reactor)
    assert check.git_args[1:] == ["cat-file", "-t", "--", f"{MAIN}:foo.spec"]
    check.finish(exit_code, stdout=output)
    assert _outcome(d) is expected


@pytest.mark.parametrize(("exit_code", "expected"), [(0, True), (1, False)])
def test_branch_contains_follows_merge_base(
    process_reactor: FakeProcessReactor,
    tmp_path: Path,
    exit_code: int,
    expected: bool,
) -> None:
    """branch_contains fetches the branch's history and asks merge-base --is-ancestor."""
    client = _client(process_reactor, tmp_path)
    d = _start(client.branch_contains(REPO, "f39", MAIN))
    _next(process_reactor).finish()
    fetch = _next(process_reactor)
    assert fetch.git_args[1:] == [
        "fetch",
        "--quiet",
        "--no-tags",
        "--",
        REPO.url,
        "+refs/heads/f39:refs/ridad/branch",
    ]
    fetch.finish()
    _next(process_reactor).finish(0)
    ancestry = _next(process_reactor)
    assert ancestry.git_args[1:] == [
        "merge-base",
        "--is-ancestor",
        "--",
        MAIN,
        "refs/ridad/branch",
    ]
    ancestry.finish(exit_code)
    assert _outcome(d) is expected


def test_branch_does_not_contain_a_commit_absent_from_its_history(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """A commit missing from the fetched branch history is not contained, without merge-base."""
    client = _client(process_reactor, tmp_path)
    d = _start(client.branch_contains(REPO, "refs/heads/f39", MAIN))
    _next(process_reactor).finish()
    fetch = _next(process_reactor)
    assert fetch.git_args[-1] == "+refs/heads/f39:refs/ridad/branch"
    fetch.finish()
    _next(process_reactor).finish(128)
    assert _outcome(d) is False
    assert process_reactor.running == []


def test_timeout_kills_git_and_gives_a_transient_error(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """A git process past the time limit is killed and reported as a transient timeout."""
    client = _client(process_reactor, tmp_path, timeout_seconds=5.0)
    d = _start(client.resolve_ref(REPO, "main"))
    process = _next(process_reactor)
    process_reactor.advance(5)
    assert process.signals == ["KILL"]
    process.finish(signal=9)
    error = _outcome(d)
    assert isinstance(error, Unprocessable)
    assert error.details == {
        "reason": "timeout",
        "transient": True,
        "url": REPO.render(),
    }
    assert "retry later" in error.message
    assert os.listdir(tmp_path) == []


def test_at_most_max_concurrent_git_processes_run(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """Calls beyond max_concurrent wait for a running git process to end."""
    client = _client(process_reactor, tmp_path, max_concurrent=2)
    calls = [_start(client.resolve_ref(REPO, "main")) for _ in range(3)]
    assert len(process_reactor.running) == 2
    process_reactor.running[0].finish(stdout=_listing((MAIN, "refs/heads/main")))
    assert len(process_reactor.running) == 2
    assert len(process_reactor.processes) == 3
    for process in process_reactor.running:
        process.finish(stdout=_listing((MAIN, "refs/heads/main")))
    assert [_outcome(d).commit for d in calls] == [MAIN] * 3


def test_failure_is_logged_with_repository_and_duration(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """A failed git call logs a warning keyed by repository and duration_seconds."""
    client = _client(process_reactor, tmp_path)
    with capturedLogs() as events:
        d = _start(client.resolve_ref(REPO, "main"))
        process_reactor.advance(1.5)
        _next(process_reactor).finish(128, stderr=b"errno=Connection refused\n")
    _outcome(d)
    (event,) = [e for e in events if e["log_level"] == LogLevel.warn]
    assert event["repository"] == REPO.render()
    assert event["duration_seconds"] == 1.5


def _failure(stderr: bytes, timed_out: bool = False) -> ProcessResult:
    """A failed git run with this stderr."""
    return ProcessResult(
        exit_code=None if timed_out else 128,
        signal=9 if timed_out else None,
        stdout=b"",
        stderr=stderr,
        timed_out=timed_out,
        stdout_overflowed=False,
        duration_seconds=1.0,
    )


@pytest.mark.parametrize(
    ("stderr", "reason"),
    [
        (
            (
                b"fatal: remote error: access denied or repository not exported:"
                b" /modules/nope.git\n"
            ),
            "missing-repository",
        ),
        (
            (
                b"fatal: '/srv/nope.git' does not appear to be a git repository\n"
                b"fatal: Could not read from remote repository.\n"
            ),
            "missing-repository",
        ),
        (
            b"remote: Not Found\nfatal: repository 'https://h/nope.git/' not found\n",
            "missing-repository",
        ),
        (
            (
                b"fatal: unable to access 'https://h/x.git/': The requested URL "
                b"returned error: 403\n"
            ),
            "missing-repository",
        ),
        (
            (
                b"fatal: could not read Username for 'https://h': terminal prompts "
                b"disabled\n"
            ),
            "missing-repository",
        ),
        (b"fatal: couldn't find remote ref refs/heads/nope\n", "missing-ref"),
        (
            b"fatal: remote error: upload-pack: not our ref " + MAIN.encode(),
            "missing-ref",
        ),
        (b"fatal: git upload-pack: not our ref " + MAIN.encode(), "missing-ref"),
        (
            (
                b"fatal: unable to connect to 127.0.0.1:\n127.0.0.1[0: 127.0.0.1]: "
                b"errno=Connection refused\n"
            ),
            "unreachable",
        ),
        (
            (
                b"fatal: unable to look up nope.invalid (port 9418) (Name or service "
                b"not known)\n"
            ),
            "unreachable",
        ),
        (
            (
                b"fatal: unable to access 'https://nope.invalid/x.git/': Could not "
                b"resolve host: nope.invalid\n"
            ),
            "unreachable",
        ),
        (
            (
                b"fatal: unable to access 'https://h/x.git/': Failed to connect to h "
                b"port 443 after 0 ms: Couldn't connect to server\n"
            ),
            "unreachable",
        ),
        (
            (
                b"fatal: unable to access 'https://h/x.git/': The requested URL "
                b"returned error: 503\n"
            ),
            "unreachable",
        ),
        (b"fatal: the remote end hung up unexpectedly\n", "unreachable"),
        (b"something git never said before\n", "unreachable"),
    ],
)
def test_git_failures_are_classified_from_stderr(stderr: bytes, reason: str) -> None:
    """git's messages for git://, file:// and http(s):// map to the documented reasons."""
    assert classify_failure(_failure(stderr)) == reason


def test_timed_out_run_is_classified_as_timeout() -> None:
    """A run killed at its deadline is a timeout whatever it printed."""
    assert (
        classify_failure(_failure(b"Connection refused", timed_out=True)) == "timeout"
    )


@pytest.mark.parametrize(
    ("stderr", "reason", "transient"),
    [
        (b"errno=Connection refused", "unreachable", True),
        (b"access denied or repository not exported", "missing-repository", False),
    ],
)
def test_remote_failure_details_say_reason_transience_and_url(
    process_reactor: FakeProcessReactor,
    tmp_path: Path,
    stderr: bytes,
    reason: str,
    transient: bool,
) -> None:
    """A failing ls-remote becomes Unprocessable with reason, transient and the URL."""
    location: RepoLocation = parse_repository("git+https://h.example.org/r.git")
    client = _client(process_reactor, tmp_path)
    d = _start(client.resolve_ref(location, "main"))
    _next(process_reactor).finish(128, stderr=stderr)
    error = _outcome(d)
    assert isinstance(error, Unprocessable)
    assert error.details == {
        "reason": reason,
        "transient": transient,
        "url": "git+https://h.example.org/r.git",
    }
    assert ("retry later" in error.message) is transient


def test_unknown_git_binary_is_refused_at_construction(
    process_reactor: FakeProcessReactor,
) -> None:
    """A git_binary that is not on PATH raises ValueError when the client is built."""
    with pytest.raises(ValueError, match="not found"):
        GitClient(
            reactor=process_reactor,
            git_binary="/nonexistent/git",
            timeout_seconds=1.0,
            max_concurrent=1,
            run_blocking=maybeDeferred,
        )


def test_timeout_while_reading_the_fetched_file_is_a_timeout(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """A local git command killed at its deadline is a transient timeout, not a missing file."""
    client = _client(process_reactor, tmp_path, timeout_seconds=5.0)
    d = _start(client.fetch_file(REPO, MAIN, "foo.yaml"))
    _next(process_reactor).finish()
    _next(process_reactor).finish()
    blob = _next(process_reactor)
    process_reactor.advance(5)
    blob.finish(signal=9)
    error = _outcome(d)
    assert isinstance(error, Unprocessable)
    assert error.details["reason"] == "timeout"
    assert os.listdir(tmp_path) == []


def test_permanent_failures_are_logged_below_warning(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """A missing repository is the submitter's problem, so it is logged at info, not warn."""
    client = _client(process_reactor, tmp_path)
    with capturedLogs() as events:
        d = _start(client.resolve_ref(REPO, "main"))
        _next(process_reactor).finish(
            128, stderr=b"access denied or repository not exported"
        )
    _outcome(d)
    assert [e["log_level"] for e in events if "repository" in e] == [LogLevel.info]
