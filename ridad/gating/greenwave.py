"""Greenwave's decision API, asked the way MBS asks it.

``GET <api>/policies`` lists Greenwave's policies; the product versions of
those for ridad's decision context and subject type are then each asked
``POST <api>/decision`` about the subject (a module build's NVR). One
satisfied product version is enough, as under MBS. Every exchange has a time
limit; anything but a 200 with the JSON object Greenwave answers is a
``GreenwaveUnavailable`` saying what happened, never a decision.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from treq.client import HTTPClient
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime

from ridad.domain.gating import GatingDecision, ProductDecision, Requirement
from ridad.errors import GreenwaveUnavailable

JSON_HEADERS = {
    b"Content-Type": [b"application/json"],
    b"Accept": [b"application/json"],
}
ACCEPT_JSON = {b"Accept": [b"application/json"]}
#: Longest Greenwave message quoted in an error.
MAX_QUOTED = 300

Send = Callable[[], "Deferred[Any]"]


class GreenwaveClient:
    """Asks one Greenwave for decisions in one decision context."""

    def __init__(
        self,
        *,
        http: HTTPClient,
        api_root: str,
        decision_context: str,
        subject_type: str,
        timeout_seconds: float,
        clock: IReactorTime,
    ) -> None:
        self._http = http
        self._api = api_root.rstrip("/")
        self.decision_context = decision_context
        self.subject_type = subject_type
        self._timeout_seconds = timeout_seconds
        self._clock = clock

    async def decide(self, subject_identifier: str) -> GatingDecision:
        """Greenwave's decision about ``subject_identifier``.

        :return: the decision (satisfied by the first product version that
            is, else every product version's unsatisfied one).
        :raises GreenwaveUnavailable: Greenwave could not be asked, or one
            of its answers was not a decision.
        """
        held = []
        for version in await self.product_versions():
            decision = await self._decision(subject_identifier, version)
            if decision.satisfied:
                held = [decision]
                break
            held.append(decision)
        return GatingDecision(tuple(held), self.decision_context, self.subject_type)

    async def product_versions(self) -> tuple[str, ...]:
        """The product versions of the policies for ridad's decision context
        and subject type, sorted.

        :raises GreenwaveUnavailable: no usable answer.
        """
        url = f"{self._api}/policies"
        answer = await self._exchange(
            "policies", lambda: self._http.get(url, headers=ACCEPT_JSON)
        )
        return policy_product_versions(answer, self.decision_context, self.subject_type)

    async def _decision(self, subject: str, version: str) -> ProductDecision:
        payload = {
            "decision_context": self.decision_context,
            "product_version": version,
            "subject_type": self.subject_type,
            "subject_identifier": subject,
            "verbose": False,
        }
        url = f"{self._api}/decision"
        body = json.dumps(payload).encode()
        answer = await self._exchange(
            "decision", lambda: self._http.post(url, data=body, headers=JSON_HEADERS)
        )
        return product_decision(version, answer)

    async def _exchange(self, what: str, send: Send) -> Mapping[str, Any]:
        """The JSON object of a 200 answer within the time limit.

        :raises GreenwaveUnavailable: anything else.
        """
        exchange = Deferred.fromCoroutine(_read_response(send))
        timer = self._clock.callLater(self._timeout_seconds, exchange.cancel)
        try:
            code, body = await exchange
        except Exception as e:
            if not timer.active():
                raise GreenwaveUnavailable(
                    f"Greenwave did not answer the {what} request within"
                    f" {self._timeout_seconds:g} s"
                ) from None
            raise GreenwaveUnavailable(
                f"Greenwave cannot be reached ({what}): {type(e).__name__}: {e}"
            ) from None
        finally:
            if timer.active():
                timer.cancel()
        value = _json_object(body)
        if code != 200:
            message = value.get("message") if value is not None else None
            detail = f": {str(message)[:MAX_QUOTED]}" if message else ""
            raise GreenwaveUnavailable(
                f"Greenwave answered the {what} request with HTTP {code}{detail}"
            )
        if value is None:
            raise GreenwaveUnavailable(
                f"Greenwave's answer to the {what} request is not a JSON object"
            )
        return value


async def _read_response(send: Send) -> tuple[int, bytes]:
    """The status and body of the treq response to ``send()``."""
    response = await send()
    body: bytes = await response.content()
    return response.code, body


def _json_object(body: bytes) -> Mapping[str, Any] | None:
    """``body`` as a JSON object; None when it is not one."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _names(policy: Mapping[str, Any], plural: str, singular: str) -> list[Any]:
    """A policy's list attribute (``decision_contexts``), or its older single
    form (``decision_context``) as a list."""
    values = policy.get(plural)
    if values:
        return list(values) if isinstance(values, list) else []
    single = policy.get(singular)
    return [single] if single is not None else []


def policy_product_versions(
    answer: Mapping[str, Any], decision_context: str, subject_type: str
) -> tuple[str, ...]:
    """The product versions of the policies in a ``GET /policies`` answer
    that apply to ``decision_context`` and ``subject_type``, sorted.

    :raises GreenwaveUnavailable: the answer is not a list of policies.
    """
    policies = answer.get("policies")
    if not isinstance(policies, list) or not all(isinstance(p, dict) for p in policies):
        raise GreenwaveUnavailable("Greenwave's policies answer has no policies list")
    versions: set[str] = set()
    for policy in policies:
        contexts = _names(policy, "decision_contexts", "decision_context")
        types = _names(policy, "subject_types", "subject_type")
        if decision_context not in contexts or subject_type not in types:
            continue
        found = policy.get("product_versions")
        if not isinstance(found, list) or not all(isinstance(v, str) for v in found):
            raise GreenwaveUnavailable(
                f"Greenwave's policy {policy.get('id')!r} has no list of product"
                " versions"
            )
        versions.update(found)
    return tuple(sorted(versions))


def product_decision(version: str, answer: Mapping[str, Any]) -> ProductDecision:
    """A ``POST /decision`` answer as a value.

    :raises GreenwaveUnavailable: it has no boolean ``policies_satisfied``.
    """
    satisfied = answer.get("policies_satisfied")
    if not isinstance(satisfied, bool):
        raise GreenwaveUnavailable(
            "Greenwave's decision has no boolean policies_satisfied"
        )
    summary = answer.get("summary")
    unsatisfied = answer.get("unsatisfied_requirements")
    requirements = []
    for item in unsatisfied if isinstance(unsatisfied, list) else []:
        if isinstance(item, dict):
            requirements.append(
                Requirement(
                    testcase=str(item.get("testcase") or "?"),
                    type=str(item.get("type") or "unsatisfied"),
                )
            )
    return ProductDecision(
        product_version=version,
        satisfied=satisfied,
        summary=summary if isinstance(summary, str) and summary else "(no summary)",
        unsatisfied=tuple(requirements),
    )
