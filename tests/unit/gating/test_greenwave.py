"""The Greenwave client against the stand-in through StubTreq: the policies'
product versions, one decision request per version as MBS sends it, the
decision as a value, and every way of getting no decision."""

from __future__ import annotations

from typing import Any

import pytest
from treq.testing import StubTreq
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock

from ridad.domain.gating import GatingDecision, ProductDecision, Requirement
from ridad.errors import GreenwaveUnavailable
from ridad.gating.greenwave import (
    GreenwaveClient,
    policy_product_versions,
    product_decision,
)
from tests.fakes.greenwave import (
    CONTEXT,
    SUBJECT_TYPE,
    TESTCASE,
    GreenwaveStandIn,
    StandInPolicy,
)
from tests.helpers import failure_of, result_of

NVR = "nodejs-12-8010020190612143724.cdc1202b"
API = "http://greenwave.test/api/v1.0"


def client(standin: GreenwaveStandIn, clock: Clock | None = None) -> GreenwaveClient:
    """A client of ``standin`` with a 30 s limit."""
    return GreenwaveClient(
        http=StubTreq(standin.app.resource()),
        api_root=API,
        decision_context=CONTEXT,
        subject_type=SUBJECT_TYPE,
        timeout_seconds=30,
        clock=clock or Clock(),
    )


def decide(standin: GreenwaveStandIn, subject: str = NVR) -> Deferred[Any]:
    """The client's decision about ``subject``, as a Deferred."""
    return Deferred.fromCoroutine(client(standin).decide(subject))


def unavailable(standin: GreenwaveStandIn) -> str:
    """The message of the GreenwaveUnavailable a decision fails with."""
    failure = failure_of(decide(standin), GreenwaveUnavailable)
    return str(failure.value.message)


def test_decision_request_is_what_mbs_sends() -> None:
    """GET /policies first, then one POST /decision with the context, the
    product version, the subject type and the NVR (not verbose)."""
    standin = GreenwaveStandIn()
    result_of(decide(standin))
    assert [(m, p) for m, p, _ in standin.requests] == [
        ("GET", "policies"),
        ("POST", "decision"),
    ]
    assert standin.decisions() == [
        {
            "decision_context": CONTEXT,
            "product_version": "rhel-8",
            "subject_type": SUBJECT_TYPE,
            "subject_identifier": NVR,
            "verbose": False,
        }
    ]


def test_missing_result_holds_with_greenwave_summary_and_test_case() -> None:
    """No result for the required test: not satisfied, and the reason quotes
    Greenwave's summary and names the test case."""
    decision = result_of(decide(GreenwaveStandIn()))
    assert decision == GatingDecision(
        (
            ProductDecision(
                "rhel-8",
                False,
                "Of 1 required test, 1 result missing",
                (Requirement(TESTCASE, "test-result-missing"),),
            ),
        ),
        CONTEXT,
        SUBJECT_TYPE,
    )
    assert not decision.satisfied
    assert decision.reason == (
        "Waiting for Greenwave (rhel-8): Of 1 required test, 1 result missing:"
        f" {TESTCASE} (test-result-missing)"
    )


def test_passed_result_satisfies() -> None:
    """A passed required test: satisfied, with Greenwave's summary."""
    standin = GreenwaveStandIn()
    standin.passes(NVR)
    decision = result_of(decide(standin))
    assert decision.satisfied
    assert decision.reason == (
        "Greenwave policies satisfied (rhel-8): All required tests (1 total)"
        " have passed or been waived"
    )


def test_one_satisfied_product_version_is_enough() -> None:
    """As under MBS: the versions are asked in order until one is satisfied."""
    standin = GreenwaveStandIn(
        policies=[
            StandInPolicy("a", ["rhel-8"], [TESTCASE]),
            StandInPolicy("b", ["rhel-9"], []),
            StandInPolicy("c", ["rhel-10"], [TESTCASE]),
        ]
    )
    decision = result_of(decide(standin))
    assert decision.satisfied
    assert [d["product_version"] for d in standin.decisions()] == [
        "rhel-10",
        "rhel-8",
        "rhel-9",
    ]
    assert decision.reason == (
        "Greenwave policies satisfied (rhel-9): No tests are required"
    )


def test_every_unsatisfied_version_is_in_the_reason() -> None:
    """Two product versions, neither satisfied: both summaries, in order."""
    standin = GreenwaveStandIn(
        policies=[StandInPolicy("a", ["rhel-9", "rhel-8"], [TESTCASE, "other"])]
    )
    standin.fails(NVR)
    decision = result_of(decide(standin))
    assert not decision.satisfied
    held = (
        "Of 2 required tests, 1 result missing, 1 test failed:"
        f" {TESTCASE} (test-result-failed), other (test-result-missing)"
    )
    assert decision.reason == (
        f"Waiting for Greenwave (rhel-8): {held}; (rhel-9): {held}"
    )


def test_only_policies_of_the_context_and_subject_type_count() -> None:
    """Policies of another context or subject type give no product version;
    the list forms of Greenwave 2 count like the single keys."""
    answer = {
        "policies": [
            StandInPolicy("x", ["f40"], [], decision_context="other").as_json(),
            StandInPolicy("y", ["f41"], [], subject_type="koji_build").as_json(),
            StandInPolicy("z", ["rhel-8", "rhel-9"], [], plural=True).as_json(),
            StandInPolicy("w", ["rhel-8"], []).as_json(),
        ]
    }
    assert policy_product_versions(answer, CONTEXT, SUBJECT_TYPE) == (
        "rhel-8",
        "rhel-9",
    )


def test_no_policy_for_the_context_holds_the_build_saying_so() -> None:
    """No applicable policy: no decision request, not satisfied, and the
    reason names the context and subject type."""
    standin = GreenwaveStandIn(policies=[])
    decision = result_of(decide(standin))
    assert not decision.satisfied
    assert [p for _, p, _ in standin.requests] == ["policies"]
    assert decision.reason == (
        f"Waiting for Greenwave: it has no policy for decision context {CONTEXT}"
        f" and subject type {SUBJECT_TYPE}"
    )


def test_error_status_is_unavailable_with_greenwave_message() -> None:
    """A 503 from Greenwave is no decision; the error quotes its message."""
    standin = GreenwaveStandIn(error_status=503)
    assert unavailable(standin) == (
        "Greenwave answered the policies request with HTTP 503:"
        " The stand-in is told to fail"
    )


def test_unreachable_greenwave_is_unavailable() -> None:
    """A refused connection is no decision, saying it cannot be reached."""

    class Refusing:
        def get(self, url: str, **kwargs: Any) -> Deferred[Any]:
            d: Deferred[Any] = Deferred()
            d.errback(ConnectionRefusedError("Connection refused"))
            return d

    greenwave = GreenwaveClient(
        http=Refusing(),  # type: ignore[arg-type]
        api_root=API,
        decision_context=CONTEXT,
        subject_type=SUBJECT_TYPE,
        timeout_seconds=30,
        clock=Clock(),
    )
    failure = failure_of(
        Deferred.fromCoroutine(greenwave.decide(NVR)), GreenwaveUnavailable
    )
    assert failure.value.message == (
        "Greenwave cannot be reached (policies): ConnectionRefusedError:"
        " Connection refused"
    )


def test_no_answer_within_the_time_limit_is_unavailable() -> None:
    """A Greenwave that never answers is cut off after timeout_seconds."""
    clock = Clock()
    standin = GreenwaveStandIn(hang=True)
    asked = Deferred.fromCoroutine(client(standin, clock).decide(NVR))
    clock.advance(29)
    assert not asked.called
    clock.advance(1)
    failure = failure_of(asked, GreenwaveUnavailable)
    assert failure.value.message == (
        "Greenwave did not answer the policies request within 30 s"
    )
    assert clock.getDelayedCalls() == []


def test_no_policy_for_the_subject_is_unavailable() -> None:
    """Greenwave's 404 for a decision (no policy applies to the subject
    after all) is no decision either, quoting Greenwave."""
    standin = GreenwaveStandIn(decision_status=404)
    assert unavailable(standin) == (
        "Greenwave answered the decision request with HTTP 404: Found no"
        f" applicable policies for {SUBJECT_TYPE} subjects at gating point(s)"
        f" {CONTEXT} in rhel-8"
    )


@pytest.mark.parametrize(
    "body, problem",
    [
        (
            b"<html>oops</html>",
            "Greenwave's answer to the policies request is not a JSON object",
        ),
        (b"[]", "Greenwave's answer to the policies request is not a JSON object"),
        (b"{}", "Greenwave's policies answer has no policies list"),
        (
            b'{"policies": [{"id": "p", "decision_context": "osci_compose_gate_modules",'
            b' "subject_type": "redhat-module", "product_versions": "rhel-8"}]}',
            "Greenwave's policy 'p' has no list of product versions",
        ),
    ],
)
def test_nonsense_policies_answer_is_unavailable(body: bytes, problem: str) -> None:
    """An answer that is not Greenwave's policies list is no decision."""
    from klein import Klein

    app = Klein()

    @app.route("/api/v1.0/policies")
    def policies(request: Any) -> bytes:
        return body

    greenwave = GreenwaveClient(
        http=StubTreq(app.resource()),
        api_root=API,
        decision_context=CONTEXT,
        subject_type=SUBJECT_TYPE,
        timeout_seconds=30,
        clock=Clock(),
    )
    failure = failure_of(
        Deferred.fromCoroutine(greenwave.decide(NVR)), GreenwaveUnavailable
    )
    assert failure.value.message == problem


def test_decision_without_boolean_satisfied_is_unavailable() -> None:
    """A decision answer lacking a boolean policies_satisfied is no decision."""
    with pytest.raises(GreenwaveUnavailable) as caught:
        product_decision("rhel-8", {"policies_satisfied": "yes", "summary": "x"})
    assert caught.value.message == (
        "Greenwave's decision has no boolean policies_satisfied"
    )


def test_many_unsatisfied_requirements_are_cut_short() -> None:
    """At most five requirements are named; the rest are counted."""
    answer = {
        "policies_satisfied": False,
        "summary": "Of 7 required tests, 7 results missing",
        "unsatisfied_requirements": [
            {"testcase": f"t{i}", "type": "test-result-missing"} for i in range(7)
        ],
    }
    decision = GatingDecision(
        (product_decision("rhel-8", answer),), CONTEXT, SUBJECT_TYPE
    )
    assert decision.reason.endswith(
        "t3 (test-result-missing), t4 (test-result-missing) and 2 more"
    )
