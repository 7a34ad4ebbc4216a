"""Gating values: the subject Greenwave decides about (a module build's NVR,
named as MBS names it) and a decision, with the reason a build shows for it.

Greenwave's answers become these in ``ridad.gating.greenwave``; the
scheduler (``ridad.scheduler.gating``) records them through ``transitions``.
"""

from __future__ import annotations

from dataclasses import dataclass

#: At most this many unsatisfied requirements are named in a reason.
MAX_NAMED_REQUIREMENTS = 5


def module_nvr(name: str, stream: str, version: int, context: str) -> str:
    """The NVR of a module build as MBS forms it (and Greenwave's
    ``subject_identifier`` for ``redhat-module``): the name, the stream with
    ``-`` as ``_``, and ``version.context``."""
    return f"{name}-{stream.replace('-', '_')}-{version}.{context}"


@dataclass(frozen=True)
class Requirement:
    """One unsatisfied requirement: its test case and Greenwave's type of it
    (``test-result-missing``, ``test-result-failed``, ...)."""

    testcase: str
    type: str


@dataclass(frozen=True)
class ProductDecision:
    """Greenwave's decision for one product version."""

    product_version: str
    satisfied: bool
    summary: str
    unsatisfied: tuple[Requirement, ...] = ()


@dataclass(frozen=True)
class GatingDecision:
    """What Greenwave decided about a subject in ridad's decision context.

    As under MBS, a subject is satisfied when the decision of at least one
    product version of the context's policies is; ``decisions`` holds the
    one that was (first), or every unsatisfied one. No decisions: Greenwave
    has no policy for the context and subject type, and holds the build.
    """

    decisions: tuple[ProductDecision, ...]
    decision_context: str
    subject_type: str

    @property
    def satisfied(self) -> bool:
        """Whether the build may move to ``ready``."""
        return any(d.satisfied for d in self.decisions)

    @property
    def reason(self) -> str:
        """The ``state_reason`` this decision gives the build."""
        if not self.decisions:
            return (
                "Waiting for Greenwave: it has no policy for decision context"
                f" {self.decision_context} and subject type {self.subject_type}"
            )
        if self.satisfied:
            passed = next(d for d in self.decisions if d.satisfied)
            return (
                f"Greenwave policies satisfied ({passed.product_version}):"
                f" {passed.summary}"
            )
        held = "; ".join(_held(d) for d in self.decisions)
        return f"Waiting for Greenwave {held}"


def _held(decision: ProductDecision) -> str:
    """``(product version): summary: what is missing or failed``."""
    text = f"({decision.product_version}): {decision.summary}"
    named = decision.unsatisfied[:MAX_NAMED_REQUIREMENTS]
    if named:
        text += ": " + ", ".join(f"{r.testcase} ({r.type})" for r in named)
        more = len(decision.unsatisfied) - len(named)
        if more:
            text += f" and {more} more"
    return text


def unreachable_reason(detail: str) -> str:
    """The ``state_reason`` of a done build whose first question to
    Greenwave got no decision."""
    return f"Waiting for Greenwave: it could not be asked ({detail})"
