"""Greenwave's decision update messages: the STOMP form Greenwave's own
publisher sends (``{"msg": ..., "topic": ...}`` with headers), the flat
fedora-messaging body, the older ``subject`` list, and malformed ones."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ridad.bus.greenwave_events import DecisionUpdate, parse_greenwave_message

NVR = "nodejs-12-8010020190612143724.cdc1202b"
TOPIC = "/topic/VirtualTopic.eng.greenwave.decision.update"

#: A decision as Greenwave's messaging documentation shows it.
DECISION: dict[str, Any] = {
    "subject_type": "redhat-module",
    "subject_identifier": NVR,
    "product_version": "rhel-8",
    "decision_context": "osci_compose_gate_modules",
    "applicable_policies": ["osci_compose_modules"],
    "policies_satisfied": False,
    "summary": "Of 2 required tests, 1 result missing",
    "satisfied_requirements": [
        {
            "result_id": 7483048,
            "testcase": "osci.redhat-module.installability.functional",
            "type": "test-result-passed",
        }
    ],
    "unsatisfied_requirements": [
        {
            "item": {"item": NVR, "type": "redhat-module"},
            "scenario": None,
            "subject_identifier": NVR,
            "subject_type": "redhat-module",
            "testcase": "baseos-ci.redhat-module.tier1.functional",
            "type": "test-result-missing",
        }
    ],
    "subject": [{"item": NVR, "type": "redhat-module"}],
    "previous": {
        "policies_satisfied": False,
        "summary": "Of 2 required tests, 1 test failed",
    },
}
HEADERS = {
    "subject_type": "redhat-module",
    "subject_identifier": NVR,
    "product_version": "rhel-8",
    "decision_context": "osci_compose_gate_modules",
    "policies_satisfied": "false",
    "summary": "Of 2 required tests, 1 result missing",
}
EXPECTED = DecisionUpdate(
    subject_identifier=NVR,
    decision_context="osci_compose_gate_modules",
    subject_type="redhat-module",
    product_version="rhel-8",
    policies_satisfied=False,
)


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


def test_greenwave_stomp_message_is_read_from_msg_and_headers() -> None:
    """Greenwave's STOMP publisher: the decision under msg, copied to headers."""
    message = {"msg": DECISION, "topic": TOPIC}
    assert parse_greenwave_message(TOPIC, HEADERS, body(message)) == EXPECTED


def test_fedora_messaging_body_is_the_decision() -> None:
    """The fedora-messaging form: the decision is the body, no headers."""
    assert parse_greenwave_message(TOPIC, {}, body(DECISION)) == EXPECTED


def test_headers_alone_name_the_subject() -> None:
    """A body without the subject fields takes them from the headers."""
    update = parse_greenwave_message(TOPIC, HEADERS, body({"msg": {}}))
    assert update == EXPECTED


def test_older_subject_list_names_the_subject() -> None:
    """A decision with only the older subject list still names its subject."""
    old = {"decision_context": "c", "subject": [{"item": NVR, "type": "redhat-module"}]}
    assert parse_greenwave_message(TOPIC, {}, body(old)) == DecisionUpdate(
        subject_identifier=NVR, decision_context="c", subject_type="redhat-module"
    )


def test_satisfied_header_alone_is_read() -> None:
    """policies_satisfied "true" in the headers is True."""
    update = parse_greenwave_message(
        TOPIC, {**HEADERS, "policies_satisfied": "true"}, body({})
    )
    assert update.policies_satisfied is True


@pytest.mark.parametrize(
    "headers, payload, reason",
    [
        ({}, b"\xff", "not UTF-8"),
        ({}, b"[1]", "not an object"),
        ({}, body({"msg": "x"}), "msg is 'x', not an object"),
        ({}, body({"decision_context": "c"}), "no subject_identifier"),
        ({}, body({"subject_identifier": NVR}), "no decision_context"),
        ({}, body({**DECISION, "subject_identifier": 5}), "not a string"),
        ({**HEADERS, "subject_identifier": "other-1-1.c"}, body(DECISION), "disagrees"),
        ({}, body({**DECISION, "policies_satisfied": "no"}), "not a boolean"),
        ({**HEADERS, "policies_satisfied": "maybe"}, body({}), "not true or false"),
        ({**HEADERS, "policies_satisfied": "true"}, body(DECISION), "disagrees"),
    ],
)
def test_malformed_greenwave_messages_say_what_is_wrong(
    headers: dict[str, str], payload: bytes, reason: str
) -> None:
    """Malformed messages raise ValueError naming the problem."""
    with pytest.raises(ValueError, match=reason):
        parse_greenwave_message(TOPIC, headers, payload)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "msg",
                    "subject",
                    "subject_identifier",
                    "decision_context",
                    "item",
                    "type",
                    "subject_type",
                    "policies_satisfied",
                    "product_version",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=300, derandomize=True)
@given(
    value=json_values,
    headers=st.dictionaries(
        st.sampled_from(list(HEADERS)), st.text(max_size=6), max_size=3
    ),
    raw=st.none() | st.binary(max_size=20),
)
def test_any_message_gives_an_update_or_value_error(
    value: Any, headers: dict[str, str], raw: bytes | None
) -> None:
    """Whatever arrives, the parser answers an update or raises ValueError."""
    try:
        update = parse_greenwave_message(
            TOPIC, headers, raw if raw is not None else body(value)
        )
    except ValueError as e:
        assert str(e)
    else:
        assert isinstance(update, DecisionUpdate)
        assert update.subject_identifier and update.decision_context
