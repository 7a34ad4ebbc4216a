"""The gate between ``done`` and ``ready``: Greenwave's decision about a done
module build, asked when the build gets there and again on a slow schedule,
or as soon as a ``greenwave.decision.update`` about it arrives.

A satisfied decision moves the build to ``ready``; any other keeps it
``done`` with Greenwave's reason (written, and announced, only when it
changes). Greenwave unreachable, slow or answering nonsense never fails a
build: it is logged, and Greenwave is asked again one re-check interval
later (by the first build due then, not by every build in between).
"""

from __future__ import annotations

from typing import Any

from treq.client import HTTPClient
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.web.client import Agent, HTTPConnectionPool

from ridad.config.model import GreenwaveConfig
from ridad.domain.builds import ModuleBuild
from ridad.domain.gating import module_nvr, unreachable_reason
from ridad.errors import GreenwaveUnavailable
from ridad.gating.greenwave import GreenwaveClient
from ridad.transitions import Transitions


class GreenwaveGate:
    """Releases done builds to ``ready`` when Greenwave's policies allow it.

    What it remembers (when each done build is to be asked next, and which
    build a subject is) lives in memory: a restarted or new leader asks
    about every done build in its first cycle.
    """

    log = Logger()

    def __init__(
        self,
        *,
        greenwave: GreenwaveClient,
        transitions: Transitions,
        clock: IReactorTime,
        recheck_seconds: float,
    ) -> None:
        self._greenwave = greenwave
        self._transitions = transitions
        self._clock = clock
        self._recheck_seconds = recheck_seconds
        self._due: dict[int, float] = {}
        self._builds_by_subject: dict[str, int] = {}
        #: After a failed question: when to ask Greenwave again, and why not.
        self._down_until: float | None = None
        self._down_reason = ""

    @property
    def decision_context(self) -> str:
        """The decision context ridad asks Greenwave about."""
        return self._greenwave.decision_context

    @property
    def subject_type(self) -> str:
        """The subject type of module builds in Greenwave."""
        return self._greenwave.subject_type

    def ask_again(self, subject_identifier: str) -> bool:
        """Ask about ``subject_identifier`` in the next cycle (its decision
        changed, so Greenwave is up); False when it is no done build of ours."""
        module_build_id = self._builds_by_subject.get(subject_identifier)
        if module_build_id is None:
            return False
        self._due.pop(module_build_id, None)
        self._down_until = None
        return True

    async def release(self, build: ModuleBuild, epoch: int) -> None:
        """Ask Greenwave about the done ``build`` if that is due, and record
        the decision (``ready``, or the reason it stays ``done``).

        After Greenwave gave no decision, no build asks it again until the
        re-check interval has passed (one request per interval, not one per
        build, while it is down).

        :raises NotLeader: another process took the scheduler lease.
        """
        subject = module_nvr(build.name, build.stream, build.version, build.context)
        self._builds_by_subject[subject] = build.id
        now = self._clock.seconds()
        if self._due.get(build.id, now) > now:
            return
        if self._down_until is not None and self._down_until > now:
            await self._note_unreachable(build, epoch)
            return
        self._due[build.id] = now + self._recheck_seconds
        try:
            decision = await self._greenwave.decide(subject)
        except GreenwaveUnavailable as e:
            self._down_until, self._down_reason = now + self._recheck_seconds, e.message
            self.log.warn(
                "Greenwave gave no decision about module build {module_build_id}"
                " ({nvr}): {reason}; asking again in {delay_seconds} s",
                module_build_id=build.id,
                nvr=subject,
                reason=e.message,
                delay_seconds=self._recheck_seconds,
            )
            await self._note_unreachable(build, epoch)
            return
        self._down_until = None
        if decision.satisfied:
            self._forget(build.id, subject)
        elif decision.reason != build.state_reason:
            self.log.info(
                "Greenwave holds module build {module_build_id} ({nvr}) in done:"
                " {reason}",
                module_build_id=build.id,
                nvr=subject,
                reason=decision.reason,
            )
        await self._transitions.record_gating_decision(
            build.id, satisfied=decision.satisfied, reason=decision.reason, epoch=epoch
        )

    async def _note_unreachable(self, build: ModuleBuild, epoch: int) -> None:
        """Say why a build that never got a decision waits (a build with a
        reason keeps the reason of its last decision)."""
        if build.state_reason is None:
            reason = unreachable_reason(self._down_reason)
            await self._transitions.record_gating_decision(
                build.id, satisfied=False, reason=reason, epoch=epoch
            )

    def _forget(self, module_build_id: int, subject: str) -> None:
        self._due.pop(module_build_id, None)
        self._builds_by_subject.pop(subject, None)


def greenwave_gate(
    reactor: Any, settings: GreenwaveConfig, transitions: Transitions
) -> GreenwaveGate:
    """The gate of a ``greenwave`` section; each question to Greenwave goes
    over a new connection (they are minutes apart)."""
    pool = HTTPConnectionPool(reactor, persistent=False)
    client = GreenwaveClient(
        http=HTTPClient(Agent(reactor, pool=pool)),
        api_root=settings.url,
        decision_context=settings.decision_context,
        subject_type=settings.subject_type,
        timeout_seconds=settings.timeout_seconds,
        clock=reactor,
    )
    return GreenwaveGate(
        greenwave=client,
        transitions=transitions,
        clock=reactor,
        recheck_seconds=settings.recheck_minutes * 60,
    )
