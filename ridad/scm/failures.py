"""How failed git commands become L{Unprocessable} errors.

Pure: git's exit status and stderr are classified into a reason, and the
error carries C{details={"reason", "transient", "url"}}.
"""

from __future__ import annotations

from ridad.errors import Unprocessable
from ridad.process import ProcessResult
from ridad.scm.url import RepoLocation

__all__ = [
    "TRANSIENT_REASONS",
    "classify_failure",
    "describe_failure",
    "git_failure",
]

# (reason, lower-case stderr fragments), checked in this order.
_FAILURE_PATTERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "missing-repository",
        (
            "access denied or repository not exported",
            "does not appear to be a git repository",
            "not a git repository",
            "repository not found",
            "' not found",
            "returned error: 404",
            "returned error: 401",
            "returned error: 403",
            "terminal prompts disabled",
            "authentication failed",
            "could not read username",
        ),
    ),
    (
        "missing-ref",
        (
            "couldn't find remote ref",
            "not our ref",
            "no such remote ref",
            "unadvertised object",
            "not a valid object name",
        ),
    ),
    (
        "unreachable",
        (
            "connection refused",
            "could not resolve host",
            "unable to look up",
            "unable to connect",
            "name or service not known",
            "temporary failure in name resolution",
            "network is unreachable",
            "no route to host",
            "failed to connect",
            "couldn't connect",
            "connection reset",
            "connection timed out",
            "hung up unexpectedly",
            "early eof",
            "returned error: 5",
        ),
    ),
)
TRANSIENT_REASONS = frozenset({"unreachable", "timeout", "slow"})


def classify_failure(result: ProcessResult) -> str:
    """
    Say why a git command that talked to a remote failed.

    @return: C{timeout}, C{slow} (the server did not answer within the
        first-byte time), C{missing-repository}, C{missing-ref} or
        C{unreachable} (also the answer for failures git does not explain,
        since retrying those is the safer advice).
    """
    if result.timed_out:
        return "timeout"
    if result.silent:
        return "slow"
    stderr = result.stderr.decode("utf-8", "replace").lower()
    for reason, fragments in _FAILURE_PATTERNS:
        if any(fragment in stderr for fragment in fragments):
            return reason
    return "unreachable"


def describe_failure(
    reason: str,
    location: RepoLocation,
    wanted: str,
    timeout_seconds: float,
    *,
    first_byte_seconds: float | None = None,
) -> str:
    """
    Word the message for a failed remote git command; C{wanted} names what
    was looked for (C{"ref 'main'"}) for the missing-ref message.

    @return: the message, telling the client to retry when that may help.
    """
    if reason == "slow":
        return (
            f"the git server of {location} is slow: it sent nothing within "
            f"{first_byte_seconds} seconds; this is probably temporary, "
            "retry later"
        )
    if reason == "timeout":
        return (
            f"git timed out after {timeout_seconds} seconds talking "
            f"to {location}; this is probably temporary, retry later"
        )
    if reason == "unreachable":
        return (
            f"could not reach the git server of {location}; this is "
            "probably temporary, retry later"
        )
    if reason == "missing-repository":
        return f"repository {location} does not exist or is not readable"
    return f"{wanted} not found in {location}"


def git_failure(reason: str, location: RepoLocation, message: str) -> Unprocessable:
    """
    Build the error for a git failure, with its C{details}.

    @return: the error to raise.
    """
    return Unprocessable(
        message,
        details={
            "reason": reason,
            "transient": reason in TRANSIENT_REASONS,
            "url": location.render(),
        },
    )
