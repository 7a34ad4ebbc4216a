"""KojiHub's clean-up operations against kojisim: build targets read and
deleted (tags left), builds read from tags and untagged; each write also when
its answer is lost after the hub ran it (the request and its refused resend
go over the wire, and nothing more)."""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from treq.client import HTTPClient
from twisted.internet.defer import Deferred

from ridad.domain.koji import KojiTarget
from ridad.errors import KojiFault
from ridad.koji.auth import PasswordAuth
from ridad.koji.client import KojiClient
from ridad.koji.hub import KojiHub
from tests.helpers import failure_of, result_of
from tests.unit.koji.simworld import SimWorld, make_sim_world
from tests.unit.kojisim.support import HUB_URL, seed_module_tags

ALPHA = "git+https://src.example.org/rpms/alpha.git?#0123456789abcdef"
PAIRS = [("mod-build", "alpha-1.0-1"), ("mod", "alpha-1.0-1")]


@pytest.fixture
def world(tmp_path: Path) -> SimWorld:
    """kojisim with tags mod and mod-build and the target mod."""
    made = make_sim_world(str(tmp_path))
    made.clock.advance(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    seed_module_tags(made.admin())
    return made


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return result_of(Deferred.fromCoroutine(coroutine))


def _sent(world: SimWorld, method: str) -> int:
    return sum(request.count(method) for request in world.agent.sent)


def _tagged_alpha(world: SimWorld) -> None:
    """alpha built and tagged into mod-build and mod."""
    world.admin().call("packageListAdd", "mod-build", "alpha", owner="admin")
    _run(world.koji.submit_builds([(ALPHA, "mod")]))
    world.run_until_idle()
    _run(world.koji.tag_builds(PAIRS))


def test_build_targets_answers_each_target_or_none(world: SimWorld) -> None:
    """One getBuildTarget per name, in one request: mod exists, gone does not."""
    found = _run(world.koji.build_targets(["mod", "gone"]))
    assert found == {"mod": KojiTarget("mod", "mod-build", "mod"), "gone": None}
    assert world.agent.sent[-1] == ("getBuildTarget", "getBuildTarget")


def test_delete_targets_removes_the_target_and_leaves_its_tags(
    world: SimWorld,
) -> None:
    """deleteBuildTarget("mod"): the target is gone, mod and mod-build stay; a
    second deletion of it is no fault (Koji answers nil)."""
    _run(world.koji.delete_targets(["mod"]))
    admin = world.admin()
    assert admin.call("getBuildTarget", "mod") is None
    assert [admin.call("getTag", t)["name"] for t in ("mod", "mod-build")] == [
        "mod",
        "mod-build",
    ]
    _run(world.koji.delete_targets(["mod"]))
    assert _sent(world, "deleteBuildTarget") == 2


def test_delete_targets_of_nothing_sends_nothing(world: SimWorld) -> None:
    """No names: no request."""
    _run(world.koji.delete_targets([]))
    assert world.agent.sent == []


def test_delete_targets_refused_names_the_refusal(world: SimWorld) -> None:
    """A user without the target permission gets Koji's refusal in a KojiFault."""
    alice = KojiHub(
        client=KojiClient(
            http=HTTPClient(world.agent),
            hub_url=HUB_URL,
            clock=world.clock,
            auth=PasswordAuth("alice", "alice"),
        )
    )
    failure = failure_of(
        Deferred.fromCoroutine(alice.delete_targets(["mod"])), KojiFault
    )
    assert failure.value.message.startswith("Koji refused to delete the build targets:")
    assert world.admin().call("getBuildTarget", "mod") is not None


def test_lost_answer_to_target_deletion_finds_it_deleted(world: SimWorld) -> None:
    """deleteBuildTarget ran: the target is read back as gone and not deleted
    again (sent once, resent once, refused)."""
    world.with_lost_answer("deleteBuildTarget", world.koji.delete_targets(["mod"]))
    assert world.admin().call("getBuildTarget", "mod") is None
    assert _sent(world, "deleteBuildTarget") == 2
    assert world.agent.sent[-1] == ("getBuildTarget",)


def test_tagged_nvrs_reads_each_tag_and_a_missing_tag_holds_none(
    world: SimWorld,
) -> None:
    """getTag and listTagged per tag in one request; a tag that does not
    exist answers no builds."""
    _tagged_alpha(world)
    found = _run(world.koji.tagged_nvrs(["mod", "mod-build", "nope"]))
    assert found == {
        "mod": frozenset({"alpha-1.0-1"}),
        "mod-build": frozenset({"alpha-1.0-1"}),
        "nope": frozenset(),
    }
    assert world.agent.sent[-1] == ("getTag", "listTagged") * 3


def test_untag_builds_takes_the_builds_out_of_both_tags(world: SimWorld) -> None:
    """untagBuildBypass per (tag, nvr) in one request; alpha is in neither tag
    after, and untagging it again counts as done."""
    _tagged_alpha(world)
    _run(world.koji.untag_builds(PAIRS))
    admin = world.admin()
    assert admin.call("listTagged", "mod") == []
    assert admin.call("listTagged", "mod-build") == []
    assert world.agent.sent[-1] == ("untagBuildBypass", "untagBuildBypass")
    _run(world.koji.untag_builds(PAIRS))


def test_untag_builds_refused_names_the_build_and_tag(world: SimWorld) -> None:
    """A refusal other than "not in tag" is raised with the NVR and the tag."""
    _tagged_alpha(world)
    failure = failure_of(
        Deferred.fromCoroutine(world.koji.untag_builds([("mod", "nope-1-1")])),
        KojiFault,
    )
    assert failure.value.message.startswith("Koji refused to untag nope-1-1 from mod:")


def test_lost_answer_to_untagging_finds_the_builds_untagged(world: SimWorld) -> None:
    """untagBuildBypass ran: the tags are read back and nothing is sent again."""
    _tagged_alpha(world)
    world.with_lost_answer("untagBuildBypass", world.koji.untag_builds(PAIRS))
    admin = world.admin()
    assert admin.call("listTagged", "mod") == []
    assert admin.call("listTagged", "mod-build") == []
    assert _sent(world, "untagBuildBypass") == 4
    assert world.agent.sent[-1] == ("getTag", "listTagged", "getTag", "listTagged")
