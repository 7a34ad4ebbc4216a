"""Builds on a fake clock: the task and build lifecycle, and how builds fail."""

from __future__ import annotations

import koji
import pytest
from twisted.internet.task import Clock

from ridad.kojisim.hub import KojiHub
from tests.unit.kojisim.support import (
    HubClient,
    make_hub,
    run_until_idle,
    seed_module_tags,
)

TASK = koji.TASK_STATES
BUILD = koji.BUILD_STATES
ALPHA = "git+https://src.example.org/rpms/alpha.git?#0123456789abcdef"


def _task(client: HubClient, task_id: int) -> dict:
    """The task's info."""
    return client.call("getTaskInfo", task_id)


def test_build_goes_free_open_closed_and_tags_into_the_destination(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """A build task opens after a tick, runs build_seconds, closes; its build
    is BUILDING while open, then COMPLETE and tagged into the destination tag."""
    seed_module_tags(admin)
    task_id = admin.call("build", ALPHA, "mod", {})
    assert _task(admin, task_id)["state"] == TASK["FREE"]
    clock.advance(0)
    assert _task(admin, task_id)["state"] == TASK["FREE"]
    clock.advance(0.1)
    assert _task(admin, task_id)["state"] == TASK["OPEN"]
    [build] = admin.call("listBuilds", taskID=task_id)
    assert (build["nvr"], build["state"]) == ("alpha-1.0-1", BUILD["BUILDING"])
    clock.advance(1)
    info = _task(admin, task_id)
    assert (info["state"], info["host_id"]) == (TASK["CLOSED"], 1)
    assert admin.call("getTaskResult", task_id) is None
    build = admin.call("getBuild", "alpha-1.0-1")
    assert (build["state"], build["task_id"]) == (BUILD["COMPLETE"], task_id)
    assert [b["nvr"] for b in admin.call("listTagged", "mod")] == ["alpha-1.0-1"]


def test_skip_tag_leaves_the_complete_build_untagged(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """With ``skip_tag`` the build completes but is not tagged."""
    seed_module_tags(admin)
    admin.call("build", ALPHA, "mod", {"skip_tag": True})
    run_until_idle(hub, clock)
    assert admin.call("getBuild", "alpha-1.0-1")["state"] == BUILD["COMPLETE"]
    assert admin.call("listTagged", "mod") == []


def test_zero_build_seconds_still_finishes_after_the_call(admin: HubClient) -> None:
    """With build_seconds 0 the task is FREE when ``build`` answers and closes
    on later clock turns."""
    clock = Clock()
    hub = make_hub(clock, build_seconds=0)
    client = HubClient(hub)
    client.login()
    seed_module_tags(client)
    task_id = client.call("build", ALPHA, "mod", {})
    assert _task(client, task_id)["state"] == TASK["FREE"]
    for _ in range(5):
        clock.advance(0)
    assert _task(client, task_id)["state"] == TASK["CLOSED"]


def test_unknown_target_is_accepted_and_the_task_fails_later(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """``build`` takes any target; the builder fails the task."""
    task_id = admin.call("build", ALPHA, "no-such-target", {})
    run_until_idle(hub, clock)
    assert _task(admin, task_id)["state"] == TASK["FAILED"]
    fault = admin.call("getTaskResult", task_id, raise_fault=False)
    assert fault == {
        "faultCode": 1000,
        "faultString": "No such build target: no-such-target",
    }


def test_package_not_in_the_destination_list_fails_without_a_build(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """An unlisted package fails with BuildError and leaves no build record."""
    seed_module_tags(admin)
    src = "git://src.example.org/rpms/delta.git?#abc"
    task_id = admin.call("build", src, "mod", {})
    run_until_idle(hub, clock)
    with pytest.raises(koji.BuildError, match="package delta not in list for tag mod"):
        admin.call("getTaskResult", task_id)
    assert admin.call("listBuilds", taskID=task_id) == []


def test_failing_package_fails_task_and_build_like_a_broken_spec(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """A package in ``fail_packages`` fails with mock's BuildError; its build FAILED."""
    seed_module_tags(admin)
    hub.fail_packages.add("alpha")
    task_id = admin.call("build", ALPHA, "mod", {})
    run_until_idle(hub, clock)
    code, message = admin.call("getTaskResult", task_id, raise_fault=False).values()
    assert code == koji.BuildError.faultCode
    assert "error building package (arch noarch), mock exited with status 1" in message
    assert admin.call("listBuilds", taskID=task_id)[0]["state"] == BUILD["FAILED"]


def test_second_build_of_a_complete_nvr_fails_as_a_duplicate(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """Koji refuses a second COMPLETE build of the same NVR."""
    seed_module_tags(admin)
    admin.call("build", ALPHA, "mod", {})
    run_until_idle(hub, clock)
    again = admin.call("build", ALPHA, "mod", {})
    run_until_idle(hub, clock)
    fault = admin.call("getTaskResult", again, raise_fault=False)
    assert fault["faultString"].startswith(
        "Build already exists (id=1, state=COMPLETE): {"
    )


def test_failed_build_is_rebuilt_under_its_old_id(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """A FAILED build's NVR may be built again; the build keeps its id."""
    seed_module_tags(admin)
    hub.fail_packages.add("alpha")
    admin.call("build", ALPHA, "mod", {})
    run_until_idle(hub, clock)
    hub.fail_packages.clear()
    second = admin.call("build", ALPHA, "mod", {})
    run_until_idle(hub, clock)
    build = admin.call("getBuild", "alpha-1.0-1")
    assert (build["id"], build["state"], build["task_id"]) == (
        1,
        BUILD["COMPLETE"],
        second,
    )


@pytest.mark.parametrize(
    "src",
    [
        "https://src.example.org/rpms/alpha.git?#abc",
        "git://src.example.org/rpms/alpha.git",
        "alpha",
    ],
)
def test_sources_koji_builders_refuse_fail_with_build_error(
    hub: KojiHub, clock: Clock, admin: HubClient, src: str
) -> None:
    """A source that is no SCM URL with a commit, nor an SRPM path, fails the task."""
    seed_module_tags(admin)
    task_id = admin.call("build", src, "mod", {})
    run_until_idle(hub, clock)
    assert admin.call("getTaskResult", task_id, raise_fault=False)["faultCode"] == 1005


def test_build_needs_a_login_and_a_string_source(
    anonymous: HubClient, admin: HubClient
) -> None:
    """Anonymous ``build`` is refused; an int source is a ParameterError."""
    assert (
        anonymous.fault_of("build", ALPHA, "mod")[0] == koji.ActionNotAllowed.faultCode
    )
    assert admin.fault_of("build", 42, "mod")[0] == koji.ParameterError.faultCode


def test_priority_is_added_to_the_default_and_negative_needs_admin(
    hub: KojiHub, admin: HubClient
) -> None:
    """``priority=10`` gives 30; a negative priority is refused to non-admins."""
    task_id = admin.call("build", ALPHA, "mod", {}, priority=10)
    assert _task(admin, task_id)["priority"] == 30
    alice = HubClient(hub)
    alice.login("alice", "alice")
    assert alice.fault_of("build", ALPHA, "mod", priority=-5) == (
        1004,
        "only admins may create high-priority tasks",
    )


def test_cancel_free_task_cancels_it_with_a_completion_time(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """Cancelling a FREE task makes it CANCELED; its result is ``Task N is canceled``."""
    hub.pause_builder()
    task_id = admin.call("build", ALPHA, "mod", {})
    clock.advance(5)
    assert admin.call("cancelTask", task_id) is None
    info = _task(admin, task_id)
    assert (info["state"], info["host_id"]) == (TASK["CANCELED"], None)
    assert info["completion_ts"] == 5.0
    assert admin.fault_of("getTaskResult", task_id) == (
        1000,
        f"Task {task_id} is canceled",
    )
    assert admin.fault_of("cancelTask", 999) == (1000, "No such task: 999")


def test_cancel_open_build_cancels_the_building_build_and_stops_work(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """Cancelling an OPEN build task cancels its BUILDING build; nothing finishes later."""
    seed_module_tags(admin)
    task_id = admin.call("build", ALPHA, "mod", {})
    clock.advance(0)
    clock.advance(0.1)
    assert admin.call("getBuild", "alpha-1.0-1")["state"] == BUILD["BUILDING"]
    admin.call("cancelTask", task_id)
    run_until_idle(hub, clock)
    assert _task(admin, task_id)["state"] == TASK["CANCELED"]
    assert admin.call("getBuild", "alpha-1.0-1")["state"] == BUILD["CANCELED"]
    assert admin.call("listTagged", "mod") == []
    hub.stop()
    assert clock.getDelayedCalls() == []


def test_cancel_by_someone_else_is_refused(hub: KojiHub, admin: HubClient) -> None:
    """Only the owner or an admin may cancel a task."""
    task_id = admin.call("build", ALPHA, "mod", {})
    alice = HubClient(hub)
    alice.login("alice", "alice")
    assert alice.fault_of("cancelTask", task_id) == (
        1004,
        "Cannot cancel task, not owner",
    )


def test_tasks_are_taken_in_priority_order(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """A more urgent task (lower priority) gets its build first."""
    seed_module_tags(admin)
    later = admin.call("build", ALPHA, "mod", {}, priority=10)
    admin.call("build", "git://h/rpms/beta.git?#1", "mod", {})
    run_until_idle(hub, clock)
    assert admin.call("getBuild", "beta-1.0-1")["id"] == 1
    assert admin.call("getBuild", "alpha-1.0-1")["task_id"] == later
