"""The simulated build host: it takes FREE tasks and runs them on the clock.

Tasks are taken in priority order (lower first, then oldest), at most
``capacity`` at a time. A task opens a short tick after it is taken; a
``build`` closes ``build_seconds`` after its NVR is known, a ``tagBuild`` or
``newRepo`` a tick after opening. Even with ``build_seconds=0`` everything
happens on later clock turns, never within the call that created the task.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import koji
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.internet.task import deferLater
from twisted.logger import Logger
from twisted.python.failure import Failure

from ridad.kojisim.build_logs import BuildOutputs, SimulatedOutputs
from ridad.kojisim.build_task import BuildRun
from ridad.kojisim.context import Call, HubCore
from ridad.kojisim.host_tasks import run_new_repo, run_tag_build
from ridad.kojisim.sessions import Credentials
from ridad.kojisim.sources import SourceInspector
from ridad.kojisim.tasks import fail_task

__all__ = ["Builder"]

T = TypeVar("T")
TASK = koji.TASK_STATES


class Builder:
    """Runs the hub's tasks as one build host in the default and createrepo channels."""

    log = Logger()

    def __init__(
        self,
        *,
        core: HubCore,
        clock: IReactorTime,
        inspector: SourceInspector,
        build_seconds: float,
        capacity: int = 4,
        tick_seconds: float = 0.1,
        outputs: BuildOutputs | None = None,
        wait_for_repo: bool = True,
    ) -> None:
        """Run tasks of ``core`` on ``clock``; NVRs come from ``inspector``,
        the logs of failed builds from ``outputs``."""
        self._core = core
        self._clock = clock
        self._inspector = inspector
        self.build_seconds = build_seconds
        self.wait_for_repo = wait_for_repo
        self.outputs = outputs or SimulatedOutputs()
        self._capacity = capacity
        self._tick = tick_seconds
        self._claimed: set[int] = set()
        #: Build tasks waiting for their build tag's first READY repo.
        self.repo_waits: set[int] = set()
        self._opening: dict[int, IDelayedCall] = {}
        self._running: dict[int, Deferred[None]] = {}
        self._scan_call: IDelayedCall | None = None
        self._paused = False
        self._stopped = False

    @property
    def tick_seconds(self) -> float:
        """How long opening a task (and a tagBuild or newRepo) takes."""
        return min(self._tick, self.build_seconds)

    @property
    def repo_poll_seconds(self) -> float:
        """How often a build waiting for its build tag's repo looks again."""
        return max(self._tick, 0.05)

    @property
    def busy(self) -> bool:
        """Whether a task is being opened or run."""
        return bool(self._claimed)

    @property
    def active(self) -> bool:
        """Whether a task is being opened or run, not counting builds that
        only wait for a repo (they move once someone asks for one)."""
        return bool(self._claimed - self.repo_waits)

    def pause(self) -> None:
        """Take no new tasks (tasks already taken go on)."""
        self._paused = True

    def resume(self) -> None:
        """Take tasks again."""
        self._paused = False
        self.wake()

    def stop(self) -> None:
        """Stop for good: forget pending work and cancel running tasks."""
        self._stopped = True
        if self._scan_call is not None and self._scan_call.active():
            self._scan_call.cancel()
        self._scan_call = None
        for timer in self._opening.values():
            timer.cancel()
        self._opening.clear()
        for running in list(self._running.values()):
            running.cancel()

    def wake(self) -> None:
        """Look for work on the next clock turn (after a commit, say)."""
        if self._stopped or self._scan_call is not None:
            return
        self._scan_call = self._clock.callLater(0, self._scan)

    def _scan(self) -> None:
        """Drop work on tasks that were canceled; take FREE tasks."""
        self._scan_call = None
        tasks = self._core.state.tasks
        for task_id, running in list(self._running.items()):
            if tasks[task_id].state != TASK["OPEN"]:
                running.cancel()
        for task_id, timer in list(self._opening.items()):
            if tasks[task_id].state != TASK["FREE"]:
                timer.cancel()
                del self._opening[task_id]
                self._claimed.discard(task_id)
        if self._paused:
            return
        free = [
            t
            for t in tasks.values()
            if t.state == TASK["FREE"] and t.id not in self._claimed
        ]
        for task in sorted(free, key=lambda t: (t.priority, t.id)):
            if len(self._claimed) >= self._capacity:
                break
            self._claimed.add(task.id)
            self._opening[task.id] = self._clock.callLater(
                self.tick_seconds, self._open, task.id
            )

    def _open(self, task_id: int) -> None:
        """Open a claimed task and start its handler."""
        del self._opening[task_id]

        def opening(call: Call) -> str | None:
            """Mark the task OPEN on this host; answer its method."""
            task = call.state.tasks[task_id]
            if task.state != TASK["FREE"]:
                return None
            task.state, task.host_id, task.start_ts = (
                TASK["OPEN"],
                self._core.host_id,
                call.now(),
            )
            call.changed()
            return task.method

        method = self.transact(opening)
        if method is None:
            self._release(None, task_id)
            return
        self.log.info("Koji task {koji_task_id} opened", koji_task_id=task_id)
        running = Deferred.fromCoroutine(self._handle(method, task_id))
        self._running[task_id] = running
        running.addErrback(self._crashed, task_id)
        running.addBoth(self._release, task_id)

    async def _handle(self, method: str, task_id: int) -> None:
        """Run one task; a koji error fails it."""
        try:
            if method == "build":
                run = BuildRun(self, self._inspector, task_id)
                await run.execute()
            elif method == "tagBuild":
                await self.sleep(self.tick_seconds)
                self.transact(lambda call: run_tag_build(call, task_id))
            elif method == "newRepo":
                await self.sleep(self.tick_seconds)
                self.transact(lambda call: run_new_repo(call, task_id))
            else:
                raise koji.GenericError(f"No handler for task method {method}")
        except koji.GenericError as error:
            self._fail_task(task_id, error)

    def _fail_task(self, task_id: int, error: BaseException) -> None:
        """Fail the task with ``error`` in a transaction of its own."""
        self.transact(lambda call: self.fail(call, task_id, error))

    def fail(self, call: Call, task_id: int, error: BaseException) -> None:
        """Fail a task that is still OPEN, and its BUILDING builds."""
        task = call.state.tasks[task_id]
        if task.state != TASK["OPEN"]:
            return
        fail_task(call, task, error)
        for build in call.state.builds.values():
            if (
                build.task_id == task_id
                and build.state == koji.BUILD_STATES["BUILDING"]
            ):
                build.state = koji.BUILD_STATES["FAILED"]
                build.completion_ts = call.now()

    def _crashed(self, failure: Failure, task_id: int) -> None:
        """A canceled run ends quietly; anything else fails the task with fault 1."""
        if failure.check(CancelledError):
            return
        self.log.failure(
            "kojisim task {koji_task_id} crashed", failure, koji_task_id=task_id
        )
        self.transact(lambda call: self.fail(call, task_id, failure.value))
        return

    def _release(self, result: object, task_id: int) -> None:
        """Free the slot of a finished task and look for more work."""
        task = self._core.state.tasks.get(task_id)
        if task is not None and task.state != TASK["FREE"]:
            state = koji.TASK_STATES[task.state]
            self.log.info(
                "Koji task {koji_task_id} is {state}", koji_task_id=task_id, state=state
            )
        self._running.pop(task_id, None)
        self._claimed.discard(task_id)
        self.wake()

    def sleep(self, seconds: float) -> Deferred[None]:
        """Wait on the hub's clock."""
        return deferLater(self._clock, seconds, lambda: None)

    def transact(self, change: Callable[[Call], T]) -> T:
        """Run ``change`` as the host in a transaction; commit if it changed data."""
        working = self._core.state.copy()
        session = self._core.sessions.get(self._core.host_session_id or 0)
        call = Call(self._core, working, "host", Credentials(session, logged_in=True))
        result = change(call)
        if call.commit_pending:
            self._core.commit(working, None)
        return result
