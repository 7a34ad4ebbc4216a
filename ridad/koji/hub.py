"""Koji's hub as typed operations: what the scheduler asks, in domain values.

Each method is ONE request to the hub (a call, or a multicall that the
client splits into batches only when large), named for what it does; the
hub's method names, argument shapes and answer pairing stay here. Answers
become ``ridad.domain.koji`` values; a refused call inside a multicall
becomes a ``KojiRefusal`` where the caller decides, or a KojiFault whose
message says what was refused.

Every write survives a lost answer (``ridad.koji.reconcile``): tagging reads
the tags' builds back, ``new_repo`` adopts the newRepo task Koji made,
cancelling reads the tasks' states; a lost ``build`` answer is left to the
scheduler, which looks its tasks up (``find_build_tasks``).
"""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from twisted.logger import Logger

from ridad.domain.koji import (
    BuildSubmission,
    KojiEvent,
    KojiRefusal,
    KojiTask,
    PollReport,
    RepoReport,
    TaskReport,
)
from ridad.domain.task_logs import TaskLogTail
from ridad.errors import KojiAnswerLost, KojiError, KojiFault
from ridad.koji.cg import CgOperations
from ridad.koji.cleanup import CleanupOperations
from ridad.koji.client import KojiClient
from ridad.koji.environment_ops import EnvironmentOperations
from ridad.koji.reconcile import write_multicall
from ridad.koji.tags import TagOperations, checked, refusal_of
from ridad.koji.task_logs import failure_logs
from ridad.koji.values import (
    build_from_info,
    event_from_info,
    repo_from_info,
    task_from_info,
)
from ridad.koji.wire import KojiCall

__all__ = ["KojiHub", "poll_calls", "refusal_of"]


def poll_calls(
    task_ids: Sequence[int], repos: Sequence[tuple[int, str]]
) -> list[KojiCall]:
    """The calls of one poll: two per build task (its info and its builds),
    then two per newRepo task (its info and the tag's newest repo)."""
    calls = []
    for task_id in task_ids:
        calls.append(KojiCall("getTaskInfo", (task_id,)))
        calls.append(KojiCall("listBuilds", (), {"taskID": task_id}))
    for task_id, tag in repos:
        calls.append(KojiCall("getTaskInfo", (task_id,)))
        calls.append(KojiCall("getRepo", (tag,)))
    return calls


class KojiHub(TagOperations, EnvironmentOperations, CleanupOperations, CgOperations):
    """The hub operations ridad uses, over one ``KojiClient``."""

    log = Logger()

    def __init__(self, *, client: KojiClient) -> None:
        self._client = client

    @property
    def round_trips(self) -> int:
        """How many HTTP requests the client has made."""
        return self._client.round_trips

    async def poll(
        self, task_ids: Sequence[int], repos: Sequence[tuple[int, str]]
    ) -> PollReport:
        """Ask about build tasks and ``(newRepo task, tag)`` pairs in one multicall.

        :raises KojiUnavailable: Koji stayed unreachable.
        :raises KojiError: for an answer of the wrong shape.
        """
        calls = poll_calls(task_ids, repos)
        if not calls:
            return PollReport(tasks={}, repos={})
        answers = await self._client.multicall(calls)
        tasks = {}
        for index, task_id in enumerate(task_ids):
            info, builds = answers[2 * index], answers[2 * index + 1]
            tasks[task_id] = _task_report(task_id, info, builds)
        offset = 2 * len(task_ids)
        found = {}
        for index, (task_id, _) in enumerate(repos):
            info, repo = answers[offset + 2 * index], answers[offset + 2 * index + 1]
            found[task_id] = RepoReport(
                task_id=task_id,
                task=task_from_info(info) if isinstance(info, dict) else None,
                repo=repo_from_info(repo) if isinstance(repo, dict) else None,
            )
        return PollReport(tasks=tasks, repos=found)

    async def failure_reasons(self, task_ids: Sequence[int]) -> dict[int, str]:
        """Why each failed task failed: the last line of its fault, in one multicall.

        :raises KojiUnavailable: Koji stayed unreachable.
        """
        results = await self._client.multicall(
            [KojiCall("getTaskResult", (t,), {"raise_fault": False}) for t in task_ids]
        )
        reasons = {}
        for task_id, result in zip(task_ids, results, strict=True):
            reason = "the Koji task failed"
            if isinstance(result, dict) and result.get("faultString"):
                reason = str(result["faultString"]).strip().splitlines()[-1]
            elif isinstance(result, KojiFault):
                reason = result.message
            reasons[task_id] = reason
        return reasons

    async def failure_logs(self, faults: Mapping[int, str]) -> dict[int, TaskLogTail]:
        """The last lines of the log that says why each failed task failed
        (``ridad.koji.task_logs``): at most three requests, each one attempt.

        :param faults: each failed task's fault text (it may name the log).
        :raises KojiUnavailable: the hub did not answer.
        :raises KojiError: when Koji refused a request, or answered nonsense.
        """
        return await failure_logs(self._client, faults)

    async def tag_builds(self, pairs: Sequence[tuple[str, str]]) -> KojiEvent:
        """Tag each ``(tag, nvr)`` at once, and answer the event after, in one multicall.

        A build tagged already counts as tagged; after a lost answer the
        tags' builds are read and only the missing taggings made.

        :raises KojiFault: when Koji refused a tagging (or the event).
        :raises KojiUnavailable: Koji stayed unreachable.
        """
        calls = [KojiCall("tagBuildBypass", pair) for pair in pairs]
        last_event = KojiCall("getLastEvent")

        async def remaining() -> list[KojiCall]:
            tags = list(dict.fromkeys(tag for tag, _ in pairs))
            found = await self._client.multicall(
                [KojiCall("listTagged", (tag,)) for tag in tags]
            )
            checked(found, "read the builds of the module's tags")
            tagged = {
                (tag, info["nvr"])
                for tag, builds in zip(tags, found, strict=True)
                for info in builds
            }
            return [c for c in calls if tuple(c.args) not in tagged] + [last_event]

        answers = await write_multicall(
            self._client, calls + [last_event], remaining, what="the tagging"
        )
        for call, answer in answers[:-1]:
            if isinstance(answer, KojiFault) and "already tagged" not in answer.message:
                tag, nvr = call.args
                raise KojiFault(
                    f"Koji refused to tag {nvr} into {tag}: {answer.message}",
                    fault_code=answer.fault_code,
                    fault_name=answer.fault_name,
                )
        event = answers[-1][1]
        if isinstance(event, KojiFault):
            raise event
        return event_from_info(event)

    async def new_repo(self, tag: str, *, since: datetime, min_event: int) -> int:
        """Start regenerating ``tag``'s repo; answer the newRepo task's id.

        When the answer was lost, the task Koji made is looked up
        (``find_repo_task`` with ``since`` and ``min_event``) and adopted;
        only if none is found is another one started.

        :raises KojiFault: when Koji refuses.
        :raises KojiUnavailable: Koji stayed unreachable.
        """
        try:
            return _task_id(await self._client.call("newRepo", tag))
        except KojiAnswerLost:
            found = await self.find_repo_task(tag, since=since, min_event=min_event)
        if found is not None:
            self.log.info(
                "Adopting newRepo task {koji_task_id} of {koji_tag}, whose answer was lost",
                koji_task_id=found,
                koji_tag=tag,
            )
            return found
        self.log.warn(
            "Koji ran newRepo on {koji_tag} but no task of it was found; starting one",
            koji_tag=tag,
        )
        return _task_id(await self._client.call("newRepo", tag))

    async def find_repo_task(
        self, tag: str, *, since: datetime, min_event: int
    ) -> int | None:
        """The newest newRepo task of ``tag`` created after ``since`` that is
        running, or closed with a repo at ``min_event`` or later; None if none.

        :raises KojiUnavailable: Koji stayed unreachable.
        :raises KojiFault: when Koji refuses the query.
        """
        tasks = await self._client.call(
            "listTasks",
            opts={
                "method": "newRepo",
                "createdAfter": since.timestamp(),
                "decode": True,
            },
            queryOpts={"order": "-id"},
        )
        for info in tasks or []:
            request = _decoded_request(info.get("request"))
            if not request or request[0] != tag:
                continue
            task = task_from_info(info)
            if not task.finished:
                return task.id
            event = _repo_event(info.get("result"))
            if task.state == "closed" and event is not None and event >= min_event:
                return task.id
        return None

    async def submit_builds(
        self,
        builds: Sequence[tuple[str, str]],
        arch_overrides: Sequence[str | None] = (),
    ) -> list[BuildSubmission] | None:
        """Submit each ``(source, target)`` as a scratch-less, untagged build;
        an ``arch_overrides`` entry (space separated, Koji's CLI form)
        restricts the arches of its build.

        :returns: one outcome per build, in order; None when the reply was
            lost and Koji refused to run the request again (the builds may
            exist: look them up with ``find_build_tasks``).
        :raises KojiFault: when Koji refused the whole request.
        :raises KojiUnavailable: Koji stayed unreachable.
        """
        overrides = list(arch_overrides) + [None] * (len(builds) - len(arch_overrides))
        calls = [
            KojiCall(
                "build",
                (
                    source,
                    target,
                    {"skip_tag": True, **({"arch_override": arches} if arches else {})},
                ),
            )
            for (source, target), arches in zip(builds, overrides, strict=True)
        ]
        try:
            answers = await self._client.multicall(calls)
        except KojiAnswerLost:
            return None
        outcomes = []
        for (source, _), answer in zip(builds, answers, strict=True):
            if isinstance(answer, KojiFault):
                outcomes.append(BuildSubmission(source, None, refusal_of(answer)))
            else:
                outcomes.append(BuildSubmission(source, _task_id(answer)))
        return outcomes

    async def find_build_tasks(
        self, since: datetime, target: str
    ) -> dict[str, KojiTask]:
        """The build tasks for ``target`` created after ``since``, by source.

        :raises KojiUnavailable: Koji stayed unreachable.
        :raises KojiFault: when Koji refuses the query.
        """
        tasks = await self._client.call(
            "listTasks",
            opts={"method": "build", "createdAfter": since.timestamp(), "decode": True},
            queryOpts={"order": "id"},
        )
        found = {}
        for info in tasks or []:
            request = _decoded_request(info.get("request"))
            if len(request) >= 2 and request[1] == target:
                found[request[0]] = task_from_info(info)
        return found

    async def cancel_tasks(self, task_ids: Sequence[int]) -> list[KojiRefusal | None]:
        """Cancel each task in one multicall; answer Koji's refusal of each, if any.

        After a lost answer the tasks are read, and only those not finished
        are canceled again.

        :raises KojiUnavailable: Koji stayed unreachable.
        """
        if not task_ids:
            return []
        calls = [KojiCall("cancelTask", (t,)) for t in task_ids]

        async def remaining() -> list[KojiCall]:
            infos = await self._client.multicall(
                [KojiCall("getTaskInfo", (t,)) for t in task_ids]
            )
            return [
                call
                for call, info in zip(calls, infos, strict=True)
                if isinstance(info, dict) and not task_from_info(info).finished
            ]

        answers = await write_multicall(
            self._client, calls, remaining, what="the cancelling of tasks"
        )
        refused = {
            call.args[0]: refusal_of(answer)
            for call, answer in answers
            if isinstance(answer, KojiFault)
        }
        return [refused.get(t) for t in task_ids]

    async def upload(self, data: bytes, *, path: str, name: str) -> str:
        """Upload a file to the hub's work area; answer its ``path/name``.

        :raises KojiError: when the hub stored something else.
        :raises KojiUnavailable: Koji stayed unreachable.
        """
        await self._client.upload(data, path=path, name=name)
        return f"{path}/{name}"

    async def log_out(self) -> None:
        """Close ridad's Koji session (one short attempt); nothing if none.

        :raises KojiUnavailable: the hub did not answer.
        :raises KojiFault: when Koji refused.
        """
        await self._client.logout()

    async def logged_in_user(self) -> str | None:
        """The name ridad is logged in as, or None when anonymous.

        :raises KojiUnavailable: Koji stayed unreachable.
        """
        user = await self._client.call("getLoggedInUser")
        return str(user["name"]) if user else None


def _task_report(task_id: int, info: Any, builds: Any) -> TaskReport:
    if isinstance(info, KojiFault) or info is None:
        problem = info.message if isinstance(info, KojiFault) else "no such task"
        return TaskReport(task_id=task_id, task=None, build=None, problem=problem)
    build = None
    if isinstance(builds, list) and builds:
        build = build_from_info(builds[0])
    return TaskReport(task_id=task_id, task=task_from_info(info), build=build)


def _task_id(answer: Any) -> int:
    if type(answer) is not int:
        raise KojiError(f"Koji answered {answer!r:.100} where a task id belongs")
    return answer


def _repo_event(result: Any) -> int | None:
    """The event of the repo a closed newRepo task made, from its decoded
    ``listTasks`` result ``[[repo_id, event_id]]``; None if not there."""
    if isinstance(result, list) and result and isinstance(result[0], list):
        values = result[0]
        if len(values) >= 2 and type(values[1]) is int:
            return values[1]
    return None


def _decoded_request(request: Any) -> list[Any]:
    if isinstance(request, str):
        try:
            params, _ = xmlrpc.client.loads(request)
        except Exception:  # noqa: BLE001 - a request we cannot read is skipped
            return []
        return list(params)
    return list(request or [])
