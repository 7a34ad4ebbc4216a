"""A small Greenwave for the tests: ``GET /api/v1.0/policies`` and ``POST
/api/v1.0/decision`` answering in Greenwave's shapes (policies with
``decision_context``/``decision_contexts``, ``subject_type``/``subject_types``
and ``product_versions``; decisions with ``policies_satisfied``, ``summary``,
``satisfied_requirements``, ``unsatisfied_requirements`` and
``applicable_policies``; a 404 with a ``message`` when no policy applies).
A Klein app served on 127.0.0.1 port 0 (``listen``) or through StubTreq.

Policies require test cases; the test sets results (``PASSED``/``FAILED``)
per subject and test case, and may make every answer an error status or
never answer at all.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from klein import Klein
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IListeningPort
from twisted.web.iweb import IRequest
from twisted.web.server import Site

CONTEXT = "osci_compose_gate_modules"
SUBJECT_TYPE = "redhat-module"
TESTCASE = "baseos-ci.redhat-module.tier0.functional"


@dataclass
class StandInPolicy:
    """One policy: where it applies and the test cases it requires."""

    id: str
    product_versions: list[str]
    testcases: list[str]
    decision_context: str = CONTEXT
    subject_type: str = SUBJECT_TYPE
    #: Written as Greenwave 2 does (lists) rather than the older single keys.
    plural: bool = False

    def as_json(self) -> dict[str, Any]:
        """The policy as ``GET /policies`` lists it."""
        rules = [
            {"type": "PassingTestCaseRule", "test_case_name": t, "scenario": None}
            for t in self.testcases
        ]
        return {
            "id": self.id,
            "product_versions": self.product_versions,
            "decision_context": None if self.plural else self.decision_context,
            "decision_contexts": [self.decision_context] if self.plural else [],
            "subject_type": None if self.plural else self.subject_type,
            "subject_types": [self.subject_type] if self.plural else [],
            "rules": rules,
            "excluded_packages": [],
            "packages": [],
        }


@dataclass
class GreenwaveStandIn:
    """Policies, results, and every request it was sent."""

    policies: list[StandInPolicy] = field(
        default_factory=lambda: [StandInPolicy("osci_modules", ["rhel-8"], [TESTCASE])]
    )
    #: subject identifier -> test case -> PASSED or FAILED (else missing).
    results: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Answer every request with this status (and a message) when set.
    error_status: int | None = None
    #: Answer decision requests with this status, as if no policy applied.
    decision_status: int | None = None
    #: Never answer when true (for time limits).
    hang: bool = False
    requests: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    app = Klein()

    def passes(self, subject: str, testcase: str = TESTCASE) -> None:
        """Record a passed result of ``testcase`` for ``subject``."""
        self.results.setdefault(subject, {})[testcase] = "PASSED"

    def fails(self, subject: str, testcase: str = TESTCASE) -> None:
        """Record a failed result of ``testcase`` for ``subject``."""
        self.results.setdefault(subject, {})[testcase] = "FAILED"

    def decisions(self) -> list[dict[str, Any]]:
        """The bodies of the decision requests received, in order."""
        return [
            body
            for _, path, body in self.requests
            if path.endswith("decision") and body
        ]

    def listen(self, reactor: Any, port: int = 0) -> IListeningPort:
        """Serve on 127.0.0.1, a free port (or ``port`` again, after a stop)."""
        site = Site(self.app.resource())
        return reactor.listenTCP(port, site, interface="127.0.0.1")

    def _refusal(self, request: IRequest) -> bytes | Deferred[bytes] | None:
        request.setHeader(b"Content-Type", b"application/json")
        if self.hang:
            return Deferred()
        if self.error_status is not None:
            request.setResponseCode(self.error_status)
            return json.dumps({"message": "The stand-in is told to fail"}).encode()
        return None

    @app.route("/api/v1.0/policies", methods=["GET"])
    def get_policies(self, request: IRequest) -> bytes | Deferred[bytes]:
        """Every policy."""
        self.requests.append(("GET", "policies", None))
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        return json.dumps({"policies": [p.as_json() for p in self.policies]}).encode()

    @app.route("/api/v1.0/decision", methods=["POST"])
    def post_decision(self, request: IRequest) -> bytes | Deferred[bytes]:
        """A decision about one subject in one decision context and product
        version, from the results of the policies' test cases."""
        body = json.loads(request.content.read())
        self.requests.append(("POST", "decision", body))
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        applicable = [
            p
            for p in self.policies
            if p.decision_context == body["decision_context"]
            and p.subject_type == body["subject_type"]
            and body["product_version"] in p.product_versions
        ]
        if not applicable or self.decision_status is not None:
            request.setResponseCode(self.decision_status or 404)
            return json.dumps(
                {
                    "message": "Found no applicable policies for"
                    f" {body['subject_type']} subjects at gating point(s)"
                    f" {body['decision_context']} in {body['product_version']}"
                }
            ).encode()
        return json.dumps(_decision(body, applicable, self.results)).encode()


def _decision(
    body: dict[str, Any],
    applicable: list[StandInPolicy],
    results: dict[str, dict[str, str]],
) -> dict[str, Any]:
    subject = body["subject_identifier"]
    outcomes = results.get(subject, {})
    satisfied, unsatisfied = [], []
    for testcase in [t for p in applicable for t in p.testcases]:
        outcome = outcomes.get(testcase)
        if outcome == "PASSED":
            satisfied.append(
                {
                    "result_id": 1000 + len(satisfied),
                    "testcase": testcase,
                    "type": "test-result-passed",
                }
            )
            continue
        item = {
            "item": {"item": subject, "type": body["subject_type"]},
            "scenario": None,
            "subject_identifier": subject,
            "subject_type": body["subject_type"],
            "testcase": testcase,
            "type": "test-result-failed" if outcome else "test-result-missing",
        }
        unsatisfied.append(item)
    return {
        "policies_satisfied": not unsatisfied,
        "summary": _summary(len(satisfied) + len(unsatisfied), unsatisfied),
        "satisfied_requirements": satisfied,
        "unsatisfied_requirements": unsatisfied,
        "applicable_policies": [p.id for p in applicable],
    }


def _summary(count: int, unsatisfied: list[dict[str, Any]]) -> str:
    """Greenwave's one-sentence summary of the answers."""
    if not count:
        return "No tests are required"
    if not unsatisfied:
        return f"All required tests ({count} total) have passed or been waived"
    texts = {
        "test-result-missing": "result{s} missing",
        "test-result-failed": "test{s} failed",
    }
    kinds = Counter(texts[u["type"]] for u in unsatisfied)
    parts = [
        f"{n} " + text.format(s="s" if n != 1 else "")
        for text, n in sorted(kinds.items())
    ]
    plural = "s" if count != 1 else ""
    return f"Of {count} required test{plural}, " + ", ".join(parts)
