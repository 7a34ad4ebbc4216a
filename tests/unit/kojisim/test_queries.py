"""Read calls with filters: listTasks, task trees, package lists, targets."""

from __future__ import annotations

import koji
from twisted.internet.task import Clock

from ridad.kojisim.hub import KojiHub
from tests.unit.kojisim.support import HubClient, run_until_idle, seed_module_tags

ALPHA = "git+https://src.example.org/rpms/alpha.git?#0123456789abcdef"
TASK = koji.TASK_STATES


def test_list_tasks_filters_and_shows_raw_request_and_result(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """listTasks filters by method, state and time; request/result stay raw XML."""
    seed_module_tags(admin)
    first = admin.call("build", ALPHA, "mod", {"skip_tag": True})
    clock.advance(10)
    run_until_idle(hub, clock)
    second = admin.call("newRepo", "mod-build")
    [row] = admin.call("listTasks", opts={"method": "build", "state": [TASK["CLOSED"]]})
    assert row["id"] == first
    assert row["request"].startswith(
        "<?xml version='1.0'?>\n<methodCall>\n<methodName>build"
    )
    assert "<nil/>" in row["result"]
    assert (row["owner_name"], row["owner_type"]) == ("admin", 0)
    recent = admin.call("listTasks", opts={"createdAfter": 5.0})
    assert [t["id"] for t in recent] == [second]
    [decoded] = admin.call("listTasks", opts={"method": "build", "decode": True})
    assert decoded["request"] == [ALPHA, "mod", {"skip_tag": True}]
    assert decoded["result"] == [None]
    assert admin.call("listTasks", opts={"owner": 2}) == []
    assert admin.call("listTasks", queryOpts={"countOnly": True}) == 2
    assert [
        t["id"] for t in admin.call("listTasks", queryOpts={"order": "-id", "limit": 1})
    ] == [second]


def test_task_children_and_descendents_of_a_top_level_task(admin: HubClient) -> None:
    """A task without subtasks has no children and a one-entry descendents map."""
    task_id = admin.call("build", ALPHA, "mod", {})
    assert admin.call("getTaskChildren", task_id) == []
    assert admin.call("getTaskDescendents", task_id) == {str(task_id): []}
    assert admin.call("taskFinished", task_id) is False
    assert admin.fault_of("taskFinished", 404) == (1000, "query returned no rows")
    assert admin.fault_of("getTaskChildren", 404, strict=True) == (
        1000,
        "query returned no rows",
    )
    assert admin.call("getTaskInfo", [task_id, 404])[1] is None


def test_task_ids_are_cast_like_the_hub_does(admin: HubClient) -> None:
    """A numeric string is an id; anything else is a ParameterError."""
    task_id = admin.call("build", ALPHA, "mod", {})
    assert admin.call("getTaskInfo", str(task_id))["id"] == task_id
    code, message = admin.fault_of("getTaskInfo", "x")
    assert (code, message) == (
        1019,
        "Invalid type for value 'x': <class 'str'>, expected type <class 'int'>",
    )


def test_package_lists_inherit_and_get_package_config_sees_it(admin: HubClient) -> None:
    """listPackages(inherited=True) and getPackageConfig follow inheritance."""
    seed_module_tags(admin)
    admin.call("createTag", "child", parent="mod")
    assert admin.call("listPackages", tagID="child") == []
    inherited = admin.call("listPackages", tagID="child", inherited=True)
    assert [(p["package_name"], p["tag_name"]) for p in inherited] == [
        ("alpha", "mod"),
        ("beta", "mod"),
    ]
    assert admin.call("getPackageConfig", "child", "beta")["tag_id"] == 2
    assert admin.call("getPackageConfig", "child", "nope") is None
    assert admin.call("listPackages", prefix="al") == [
        {"package_id": 1, "package_name": "alpha"}
    ]
    admin.call("packageListAdd", "child", "beta", block=True)
    assert admin.call("getPackageConfig", "child", "beta")["blocked"] is True
    no_owner = admin.call("listPackages", tagID="mod", with_owners=False)
    assert "owner_id" not in no_owner[0]


def test_targets_can_be_listed_and_deleted(admin: HubClient) -> None:
    """getBuildTargets filters by tag; deleteBuildTarget removes the target and
    leaves its tags; deleting it again is nil, as on the recorded hub (187)."""
    seed_module_tags(admin)
    assert [
        t["name"] for t in admin.call("getBuildTargets", buildTagID="mod-build")
    ] == ["mod"]
    assert admin.call("getBuildTargets", destTagID=99) == []
    admin.call("deleteBuildTarget", "mod")
    assert admin.call("getBuildTarget", "mod") is None
    assert admin.fault_of("getBuildTarget", "mod", strict=True) == (
        1000,
        "No such build target: mod",
    )
    assert admin.call("deleteBuildTarget", "mod") is None
    assert admin.call("getTag", "mod")["name"] == "mod"
    assert admin.call("getTag", "mod-build")["name"] == "mod-build"


def test_untag_bypass_and_user_lookups(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """untagBuildBypass untags at once; getUser finds users by name or id."""
    seed_module_tags(admin)
    admin.call("build", ALPHA, "mod", {})
    run_until_idle(hub, clock)
    admin.call("untagBuildBypass", "mod", "alpha-1.0-1")
    assert admin.call("listTagged", "mod") == []
    assert admin.call("getUser")["name"] == "admin"
    assert admin.call("getUser", 2)["name"] == "alice"
    assert admin.fault_of("getUser", "ghost", strict=True) == (
        1000,
        "No such user: 'ghost'",
    )
    assert admin.call("hello") == "Hello World"
