"""Tagging (the asynchronous tagBuild task and the direct calls), newRepo and
getRepo, and multicall isolation."""

from __future__ import annotations

import koji
import pytest
from twisted.internet.task import Clock

from ridad.kojisim.hub import KojiHub
from tests.unit.kojisim.support import HubClient, run_until_idle, seed_module_tags

TASK = koji.TASK_STATES
ALPHA = "git+https://src.example.org/rpms/alpha.git?#0123456789abcdef"


@pytest.fixture
def built(hub: KojiHub, clock: Clock, admin: HubClient) -> HubClient:
    """Module tags and a COMPLETE, untagged alpha-1.0-1."""
    seed_module_tags(admin)
    admin.call("build", ALPHA, "mod", {"skip_tag": True})
    run_until_idle(hub, clock)
    return admin


def test_tag_build_is_a_task_the_builder_closes_shortly(
    hub: KojiHub, clock: Clock, built: HubClient
) -> None:
    """``tagBuild`` answers a priority-10 task holding ids; the builder tags."""
    task_id = built.call("tagBuild", "mod", "alpha-1.0-1")
    info = built.call("getTaskInfo", task_id, request=True)
    assert (info["method"], info["priority"], info["state"]) == (
        "tagBuild",
        10,
        TASK["FREE"],
    )
    assert info["request"] == [2, 1, False, None]
    assert built.call("listTagged", "mod") == []
    run_until_idle(hub, clock)
    assert built.call("getTaskInfo", task_id)["state"] == TASK["CLOSED"]
    [tagged] = built.call("listTagged", "mod")
    assert tagged["create_event"] == built.call("getLastEvent")["id"]
    assert "create_ts" not in tagged and "completion_ts" not in tagged


def test_tag_build_checks_the_package_list_and_build_state(
    hub: KojiHub, clock: Clock, built: HubClient
) -> None:
    """An unlisted package or a build that is not COMPLETE is a TagError at once."""
    built.call("createTag", "other")
    code, message = built.fault_of("tagBuild", "other", "alpha-1.0-1")
    assert (code, message) == (1003, "Package alpha not in list for other")
    hub.fail_packages.add("beta")
    built.call("build", "git://h/rpms/beta.git?#1", "mod", {"skip_tag": True})
    run_until_idle(hub, clock)
    code, message = built.fault_of("tagBuild", "mod", "beta-1.0-1")
    assert (code, message) == (1003, "build beta-1.0-1 not complete: state FAILED")


def test_tagging_twice_fails_the_second_task(
    hub: KojiHub, clock: Clock, built: HubClient
) -> None:
    """A tagBuild task for an already tagged build fails with TagError."""
    built.call("tagBuildBypass", "mod", "alpha-1.0-1")
    task_id = built.call("tagBuild", "mod", "alpha-1.0-1")
    run_until_idle(hub, clock)
    with pytest.raises(koji.TagError, match="already tagged"):
        built.call("getTaskResult", task_id)


def test_untag_and_bypass_are_immediate_with_new_events(built: HubClient) -> None:
    """untagBuild and tagBuildBypass act at once; each tagging gets a new event."""
    built.call("tagBuildBypass", "mod", "alpha-1.0-1")
    first = built.call("listTagged", "mod")[0]["create_event"]
    built.call("untagBuild", "mod", "alpha-1.0-1")
    assert built.call("listTagged", "mod") == []
    assert built.fault_of("untagBuild", "mod", "alpha-1.0-1") == (
        1003,
        "build alpha-1.0-1 not in tag mod",
    )
    built.call("tagBuildBypass", "mod", "alpha-1.0-1")
    assert built.call("listTagged", "mod")[0]["create_event"] == first + 2
    assert built.call("listTagged", "mod", event=first)[0]["create_event"] == first


def test_list_tagged_latest_and_inherit(built: HubClient) -> None:
    """``latest`` keeps the newest per package; ``inherit`` reads parents."""
    built.call("tagBuildBypass", "mod", "alpha-1.0-1")
    built.call("createTag", "child", parent="mod")
    assert built.call("listTagged", "child") == []
    inherited = built.call(
        "listTagged", "child", inherit=True, latest=True, package="alpha"
    )
    assert [(b["nvr"], b["tag_name"]) for b in inherited] == [("alpha-1.0-1", "mod")]
    assert [b["nvr"] for b in built.call("getLatestBuilds", "child")] == ["alpha-1.0-1"]


def test_new_repo_makes_a_ready_repo_at_the_event_it_ran(
    hub: KojiHub, clock: Clock, built: HubClient
) -> None:
    """newRepo is a createrepo task (priority 15) whose result is [repo_id, event_id]."""
    task_id = built.call("newRepo", "mod-build")
    info = built.call("getTaskInfo", task_id, request=True)
    assert (info["channel_id"], info["priority"], info["request"]) == (
        2,
        15,
        ["mod-build"],
    )
    before = built.call("getLastEvent")["id"]
    kojiras = built.call("getRepo", "mod-build")  # seed_module_tags's
    assert kojiras["task_id"] is None
    run_until_idle(hub, clock)
    repo_id, event_id = built.call("getTaskResult", task_id)
    assert event_id == before + 1
    repo = built.call("getRepo", "mod-build")
    assert (repo["id"], repo["state"], repo["create_event"]) == (repo_id, 1, event_id)
    assert repo_id != kojiras["id"]
    assert repo["task_state"] == TASK["CLOSED"]
    assert built.call("repoInfo", repo_id) == repo


def test_get_repo_min_event_waits_for_a_repo_with_the_change(
    hub: KojiHub, clock: Clock, built: HubClient
) -> None:
    """A repo older than ``min_event`` does not count; the next newRepo does."""
    built.call("newRepo", "mod-build")
    run_until_idle(hub, clock)
    built.call("packageListAdd", "mod-build", "gamma", owner="admin")
    change = built.call("getLastEvent")["id"]
    assert built.call("getRepo", "mod-build", min_event=change) is None
    old = built.call("getRepo", "mod-build")
    assert (old["end_event"], old["begin_event"] < old["create_event"]) == (
        change,
        True,
    )
    built.call("newRepo", "mod-build")
    run_until_idle(hub, clock)
    assert built.call("getRepo", "mod-build", min_event=change)["create_event"] > change


def test_new_repo_needs_the_repo_permission(hub: KojiHub, built: HubClient) -> None:
    """Without repo (or regen-repo) permission newRepo is refused."""
    alice = HubClient(hub)
    alice.login("alice", "alice")
    assert alice.fault_of("newRepo", "mod") == (
        1004,
        "regen-repo permission required (logged in as alice)",
    )


def test_multicall_entries_succeed_or_fail_on_their_own(admin: HubClient) -> None:
    """A failed entry is undone alone; the others commit; faults carry tracebacks."""
    results = admin.call(
        "multiCall",
        [
            {"methodName": "createTag", "params": ["one"]},
            {"methodName": "createTag", "params": ["one"]},
            {"methodName": "noSuchMethod", "params": []},
            {
                "methodName": "createTag",
                "params": ["two", {"parent": "one", "__starstar": True}],
            },
        ],
    )
    assert results[0] == [1] and results[3] == [2]
    assert results[1]["faultString"] == "A tag with the name 'one' already exists"
    assert (
        results[2]["traceback"][-1]
        == "koji.GenericError: Invalid method: noSuchMethod\n"
    )
    assert admin.call("getTag", "two")["id"] == 2
    assert admin.call("getInheritanceData", "two")[0]["parent_id"] == 1


def test_multicall_failed_write_is_rolled_back_to_its_savepoint(
    admin: HubClient,
) -> None:
    """A write that fails half-way leaves nothing behind, even inside a multicall."""
    admin.call("createTag", "t")
    results = admin.call(
        "system.multicall",
        [{"methodName": "packageListAdd", "params": ["t", "newpkg"]}],
    )
    assert results[0]["faultString"] == "owner not specified"
    assert admin.call("listPackages") == []


def test_write_that_fails_changes_nothing(admin: HubClient) -> None:
    """A failed call is rolled back whole (no package created, no event)."""
    admin.call("createTag", "t")
    last = admin.call("getLastEvent")
    with pytest.raises(koji.GenericError, match="owner not specified"):
        admin.call("packageListAdd", "t", "newpkg")
    assert admin.call("listPackages") == []
    assert admin.call("getLastEvent") == last


def test_delete_tag_removes_its_targets_and_frees_the_name(admin: HubClient) -> None:
    """deleteTag drops targets using the tag; a new tag of that name reuses the id."""
    seed_module_tags(admin)
    admin.call("deleteTag", "mod")
    assert admin.call("getBuildTarget", "mod") is None
    assert admin.call("getTag", "mod") is None
    assert admin.call("createTag", "mod") == 2


def test_build_config_inherits_extra_but_not_the_arches_of_a_new_tag(
    admin: HubClient,
) -> None:
    """getBuildConfig adds the parents' extra and says where from; a tag
    created without arches has the empty string (as the hub stores it,
    recording 178), which is not inherited over (only a nil would be)."""
    admin.call("createTag", "base", arches="x86_64", extra={"rpm.macro.dist": ".x"})
    admin.call("createTag", "kid", parent="base", extra={"own": 1})
    config = admin.call("getBuildConfig", "kid")
    assert config["arches"] == ""
    assert config["config_inheritance"]["arches"] is None
    assert config["extra"] == {"own": 1, "rpm.macro.dist": ".x"}
    assert config["config_inheritance"]["extra"]["rpm.macro.dist"]["name"] == "base"
    assert admin.call("getTag", "kid")["extra"] == {"own": 1}
    assert [n["name"] for n in admin.call("getFullInheritance", "kid")] == ["base"]
