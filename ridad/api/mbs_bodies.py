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
from ridad.api.submit_options import OPTION_FIELDS, SubmitOptions, parse_options
from ridad.domain.overrides import Overrides
from ridad.domain.states import ModuleState

#: The fields of a submission besides the options, and their types (None
#: is accepted for scmurl and branch: fedpkg sends them so with --file
#: outside a module's repository).
SUBMIT_FIELDS = {
    "scmurl": str,
    "branch": str,
    "buildrequire_overrides": dict,
    "require_overrides": dict,
}
ACCEPTED = ", ".join([*SUBMIT_FIELDS, *OPTION_FIELDS])


@dataclass(frozen=True)
class SubmitFields:
    """The fields of an MBS submission."""

    scmurl: str | None
    branch: str | None
    overrides: Mapping[str, Overrides] = field(default_factory=dict)
    options: SubmitOptions = field(default_factory=SubmitOptions)


def parse_submission(raw: bytes) -> SubmitFields:
    """Parse an MBS submission body, JSON whatever the Content-Type says.

    :raises InvalidRequest: not a JSON object, missing or unknown fields.
    """
    return submission_fields(json_object_body(raw))


def submission_fields(body: Mapping[str, object]) -> SubmitFields:
    """The fields of a submission body (JSON, or a multipart form's fields).

    ``scmurl`` and ``branch`` are required unless the body carries the
    modulemd itself.

    :raises InvalidRequest: missing, unknown or mistyped fields, all listed.
    """
    problems = Problems()
    for key, value in body.items():
        if key in OPTION_FIELDS:
            continue
        expected = SUBMIT_FIELDS.get(key)
        if expected is None:
            problems.add(shown(key), "ridad does not support this parameter; remove it")
            continue
        problem = (
            None
            if value is None and expected is str
            else (field_problem(value, expected))
        )
        if problem:
            problems.add(key, problem)
    options = parse_options(body, problems)
    if options.modulemd is None:
        for key, hint in (
            (
                "scmurl",
                "the module's location, as in git://host/modules/foo.git?#<commit>",
            ),
            ("branch", "the branch the commit is on"),
        ):
            if body.get(key) is None:
                problems.add(key, f"missing: give {hint}")
    problems.raise_any(
        "the submission has bad fields", f"; ridad accepts {ACCEPTED} only"
    )
    return SubmitFields(
        scmurl=_text_or_none(body.get("scmurl")),
        branch=_text_or_none(body.get("branch")),
        overrides=submission_overrides(body),
        options=options,
    )


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def parse_state_change(raw: bytes) -> ModuleState:
    """The state an MBS PATCH body asks for: ``{"state": "failed"}`` (or
    ``"4"``) to cancel, ``{"state": "garbage"}`` (or ``"6"``) to retire.

    :raises InvalidRequest: any other body.
    """
    body = json_object_body(raw)
    return requested_state(body["state"] if set(body) == {"state"} else None)
