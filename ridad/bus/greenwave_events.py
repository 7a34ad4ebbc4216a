"""Greenwave's ``greenwave.decision.update`` messages as one value.

Greenwave publishes one when a decision changes (a new test result or
waiver). Its STOMP publisher sends ``{"msg": <decision>, "topic": ...}`` and
copies ``subject_type``, ``subject_identifier``, ``product_version``,
``decision_context``, ``policies_satisfied`` (``"true"``/``"false"``) and
``summary`` into headers; its fedora-messaging publisher sends the decision
itself as the body. A decision names its subject (``subject_type``,
``subject_identifier``; older ones only a ``subject`` list of
``{"type", "item"}``), ``decision_context``, ``product_version`` and
``policies_satisfied``. ``parse_greenwave_message`` reads either form and
raises ``ValueError`` saying what is wrong with a malformed one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ridad.bus.event_fields import (
    agree,
    header_text,
    json_object,
    shortened,
    typed_field,
)

__all__ = ["DecisionUpdate", "parse_greenwave_message"]

_BOOLEANS = {"true": True, "false": False}


@dataclass(frozen=True, kw_only=True)
class DecisionUpdate:
    """A changed Greenwave decision about one subject, as far as ridad cares.

    ``subject_type`` and ``policies_satisfied`` are None when the message
    does not say.
    """

    subject_identifier: str
    decision_context: str
    subject_type: str | None = None
    product_version: str | None = None
    policies_satisfied: bool | None = None


def parse_greenwave_message(
    destination: str, headers: Mapping[str, str], body: bytes
) -> DecisionUpdate:
    """The decision update of one message from Greenwave, as STOMP delivers it.

    :raises ValueError: the message is malformed or names no subject or
        decision context (the text says which).
    """
    if not isinstance(destination, str):
        raise ValueError(f"destination is {destination!r}, not a string")
    data = json_object(body)
    decision = data.get("msg", data)
    if not isinstance(decision, dict):
        raise ValueError(f"msg is {shortened(decision)}, not an object")
    subject_type, identifier = _subject(decision)
    identifier = agree(
        "subject_identifier", identifier, header_text(headers, "subject_identifier")
    )
    context = agree(
        "decision_context",
        typed_field(decision, "decision_context", "decision", str),
        header_text(headers, "decision_context"),
    )
    if not identifier:
        raise ValueError("no subject_identifier in the decision or the headers")
    if not context:
        raise ValueError("no decision_context in the decision or the headers")
    return DecisionUpdate(
        subject_identifier=identifier,
        decision_context=context,
        subject_type=agree(
            "subject_type", subject_type, header_text(headers, "subject_type")
        ),
        product_version=agree(
            "product_version",
            typed_field(decision, "product_version", "decision", str),
            header_text(headers, "product_version"),
        ),
        policies_satisfied=_satisfied(decision, headers),
    )


def _subject(decision: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The decision's subject type and identifier (from its ``subject`` list
    when it has no ``subject_identifier``)."""
    kind = typed_field(decision, "subject_type", "decision", str)
    identifier = typed_field(decision, "subject_identifier", "decision", str)
    if identifier is not None:
        return kind, identifier
    subjects = decision.get("subject")
    if isinstance(subjects, list) and subjects and isinstance(subjects[0], dict):
        first = subjects[0]
        item = typed_field(first, "item", "decision.subject[0]", str)
        return kind or typed_field(first, "type", "decision.subject[0]", str), item
    return kind, None


def _satisfied(decision: Mapping[str, Any], headers: Mapping[str, str]) -> bool | None:
    """``policies_satisfied`` of the decision or the headers, None if absent.

    :raises ValueError: not a boolean, or the two disagree.
    """
    value = decision.get("policies_satisfied")
    if value is not None and not isinstance(value, bool):
        raise ValueError(
            f"decision.policies_satisfied is {shortened(value)}, not a boolean"
        )
    header = header_text(headers, "policies_satisfied")
    if header is not None and header.lower() not in _BOOLEANS:
        raise ValueError(
            f"header policies_satisfied is {shortened(header)}, not true or false"
        )
    from_header = None if header is None else _BOOLEANS[header.lower()]
    if value is not None and from_header is not None and value != from_header:
        raise ValueError("policies_satisfied disagrees between body and header")
    return value if value is not None else from_header
