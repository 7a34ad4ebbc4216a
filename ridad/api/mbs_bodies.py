"""Parsing of the bodies MBS clients send: a submission and a state change.

The body is JSON whatever the Content-Type says: fedpkg's Kerberos path
sends none. (A form's Content-Type is refused by the site before this:
``ridad.api.writeguard``.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ridad.api.inputs import field_problem, json_object_body, shown
from ridad.api.mbs_params import Problems
from ridad.api.state_change import requested_state
from ridad.api.submission_limits import submission_overrides
from ridad.domain.overrides import Overrides
from ridad.domain.states import ModuleState
from ridad.errors import Forbidden

SUBMIT_FIELDS = {
    "scmurl": str,
    "branch": str,
    "scratch": bool,
    "buildrequire_overrides": dict,
    "require_overrides": dict,
}


@dataclass(frozen=True)
class SubmitFields:
    """The fields of an MBS submission."""

    scmurl: str
    branch: str
    overrides: Mapping[str, Overrides] = field(default_factory=dict)


def parse_submission(raw: bytes) -> SubmitFields:
    """Parse an MBS submission body, JSON whatever the Content-Type says.

    :raises InvalidRequest: not a JSON object, missing or unknown fields.
    :raises Forbidden: a scratch build was asked for.
    """
    body = json_object_body(raw)
    problems = Problems()
    for key, value in body.items():
        expected = SUBMIT_FIELDS.get(key)
        if expected is None:
            problems.add(shown(key), "ridad does not support this parameter; remove it")
            continue
        problem = field_problem(value, expected)
        if problem:
            problems.add(key, problem)
    for key, hint in (
        ("scmurl", "the module's location, as in git://host/modules/foo.git?#<commit>"),
        ("branch", "the branch the commit is on"),
    ):
        if key not in body:
            problems.add(key, f"missing: give {hint}")
    problems.raise_any(
        "the submission has bad fields",
        "; ridad accepts scmurl, branch, scratch (false), buildrequire_overrides"
        " and require_overrides only",
    )
    if body.get("scratch") is True:
        raise Forbidden(
            "scratch builds are not enabled; submit without scratch"
            " (fedpkg module-build without --scratch)"
        )
    return SubmitFields(
        scmurl=body["scmurl"],
        branch=body["branch"],
        overrides=submission_overrides(body),
    )


def parse_state_change(raw: bytes) -> ModuleState:
    """The state an MBS PATCH body asks for: ``{"state": "failed"}`` (or
    ``"4"``) to cancel, ``{"state": "garbage"}`` (or ``"6"``) to retire.

    :raises InvalidRequest: any other body.
    """
    body = json_object_body(raw)
    return requested_state(body["state"] if set(body) == {"state"} else None)
