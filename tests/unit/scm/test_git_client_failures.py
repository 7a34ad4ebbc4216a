"""Tests for L{ridad.scm.git.GitClient} against a fake process reactor:
time limits, the concurrency bound, how git failures are classified and
logged (the other half of test_git_client.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from twisted.internet.defer import maybeDeferred
from twisted.logger import LogLevel, capturedLogs

from ridad.errors import Unprocessable
from ridad.process import ProcessResult
from ridad.scm.failures import classify_failure
from ridad.scm.git import GitClient
from ridad.scm.url import RepoLocation, parse_repository
from tests.unit.scm.gitclient_support import (
    MAIN,
    REPO,
    client_on,
    listing,
    next_process,
    outcome,
    start,
)

if TYPE_CHECKING:
    from tests.unit.scm.conftest import FakeProcessReactor


def test_timeout_kills_git_and_gives_a_transient_error(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """A git process past the time limit is killed and reported as a transient timeout."""
    client = client_on(process_reactor, tmp_path, timeout_seconds=5.0)
    d = start(client.resolve_ref(REPO, "main"))
    process = next_process(process_reactor)
    process_reactor.advance(5)
    assert process.signals == ["KILL"]
    process.finish(signal=9)
    error = outcome(d)
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
    client = client_on(process_reactor, tmp_path, max_concurrent=2)
    calls = [start(client.resolve_ref(REPO, "main")) for _ in range(3)]
    assert len(process_reactor.running) == 2
    process_reactor.running[0].finish(stdout=listing((MAIN, "refs/heads/main")))
    assert len(process_reactor.running) == 2
    assert len(process_reactor.processes) == 3
    for process in process_reactor.running:
        process.finish(stdout=listing((MAIN, "refs/heads/main")))
    assert [outcome(d).commit for d in calls] == [MAIN] * 3


def test_failure_is_logged_with_repository_and_duration(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """A failed git call logs a warning keyed by repository and duration_seconds."""
    client = client_on(process_reactor, tmp_path)
    with capturedLogs() as events:
        d = start(client.resolve_ref(REPO, "main"))
        process_reactor.advance(1.5)
        next_process(process_reactor).finish(128, stderr=b"errno=Connection refused\n")
    outcome(d)
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
    client = client_on(process_reactor, tmp_path)
    d = start(client.resolve_ref(location, "main"))
    next_process(process_reactor).finish(128, stderr=stderr)
    error = outcome(d)
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
    client = client_on(process_reactor, tmp_path, timeout_seconds=5.0)
    d = start(client.fetch_file(REPO, MAIN, "foo.yaml"))
    next_process(process_reactor).finish()
    next_process(process_reactor).finish()
    blob = next_process(process_reactor)
    process_reactor.advance(5)
    blob.finish(signal=9)
    error = outcome(d)
    assert isinstance(error, Unprocessable)
    assert error.details["reason"] == "timeout"
    assert os.listdir(tmp_path) == []


def test_permanent_failures_are_logged_below_warning(
    process_reactor: FakeProcessReactor, tmp_path: Path
) -> None:
    """A missing repository is the submitter's problem, so it is logged at info, not warn."""
    client = client_on(process_reactor, tmp_path)
    with capturedLogs() as events:
        d = start(client.resolve_ref(REPO, "main"))
        next_process(process_reactor).finish(
            128, stderr=b"access denied or repository not exported"
        )
    outcome(d)
    assert [e["log_level"] for e in events if "repository" in e] == [LogLevel.info]
