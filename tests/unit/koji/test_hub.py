"""KojiHub's typed operations against kojisim in this process: domain values
out, one request per operation, faults inside multicalls, retries."""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

import pytest
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionRefusedError

from ridad.domain.koji import (
    BuildSubmission,
    InheritanceLink,
    KojiEvent,
    KojiTag,
    KojiTarget,
)
from ridad.errors import KojiFault
from tests.helpers import failure_of, result_of
from tests.unit.koji.simworld import SimWorld, make_sim_world
from tests.unit.kojisim.support import HubClient, seed_module_tags

ALPHA = "git+https://src.example.org/rpms/alpha.git?#0123456789abcdef"
BETA = "git+https://src.example.org/rpms/beta.git?#fedcba9876543210"
SINCE = datetime.fromtimestamp(0, tz=UTC)


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return result_of(Deferred.fromCoroutine(coroutine))


@pytest.fixture
def world(tmp_path: Any) -> SimWorld:
    """ridad's client on a kojisim hub whose module tags exist."""
    made = make_sim_world(str(tmp_path))
    admin = HubClient(made.sim)
    admin.login()
    seed_module_tags(admin)
    return made


def _trips(world: SimWorld, coroutine: Coroutine[Any, Any, Any]) -> tuple[Any, int]:
    before = world.client.round_trips
    value = _run(coroutine)
    return value, world.client.round_trips - before


def test_submit_and_poll_give_tasks_and_builds_as_domain_values(
    world: SimWorld,
) -> None:
    """Submitting two builds is one request; polling their tasks after they
    ran is one request answering closed tasks and their builds."""
    _run(world.client.login())
    submitted, trips = _trips(
        world, world.koji.submit_builds([(ALPHA, "mod"), (BETA, "mod")])
    )
    assert trips == 1
    assert [s.source for s in submitted] == [ALPHA, BETA]
    assert all(isinstance(s, BuildSubmission) and s.task_id for s in submitted)
    world.run_until_idle()
    ids = [s.task_id for s in submitted]
    report, trips = _trips(world, world.koji.poll(ids, []))
    assert trips == 1
    for task_id, nvr in zip(ids, ["alpha-1.0-1", "beta-1.0-1"], strict=True):
        answer = report.tasks[task_id]
        assert answer.task.state == "closed"
        assert (answer.build.nvr, answer.build.state) == (nvr, "complete")
        assert answer.build.task_id == task_id


def test_refused_build_inside_the_multicall_is_a_refusal_in_its_place(
    world: SimWorld,
) -> None:
    """A fault for one ``build`` of a multicall leaves the other submitted."""
    world.sim.fail_next("build", 1000, "no such target")
    submitted = _run(world.koji.submit_builds([(ALPHA, "mod"), (BETA, "mod")]))
    assert submitted[0].task_id is None
    assert submitted[0].refusal.message == "no such target"
    assert submitted[0].refusal.fault_name == "GenericError"
    assert submitted[1].task_id is not None and submitted[1].refusal is None


def test_unknown_task_in_a_poll_is_reported_without_a_task(world: SimWorld) -> None:
    """A task the hub does not know is answered with its problem, not raised."""
    report = _run(world.koji.poll([999], []))
    assert report.tasks[999].task is None
    assert report.tasks[999].problem


def test_tagging_answers_the_event_after_and_accepts_already_tagged(
    world: SimWorld,
) -> None:
    """Tagging twice into one tag is fine; the event comes in the same request."""
    [submitted] = _run(world.koji.submit_builds([(ALPHA, "mod")]))
    world.run_until_idle()
    pairs = [("mod-build", "alpha-1.0-1"), ("mod", "alpha-1.0-1")]
    event, trips = _trips(world, world.koji.tag_builds(pairs))
    assert trips == 1
    assert isinstance(event, KojiEvent) and event.id > 0
    again = _run(world.koji.tag_builds(pairs))
    assert again.id >= event.id
    world.run_until_idle()


def test_refused_tagging_raises_with_what_was_refused(world: SimWorld) -> None:
    """Tagging a build that does not exist raises a KojiFault naming it."""
    failure = failure_of(
        Deferred.fromCoroutine(world.koji.tag_builds([("mod", "nope-1-1")]))
    )
    assert failure.check(KojiFault)
    assert "nope-1-1 into mod" in failure.value.message


def test_new_repo_then_poll_reports_the_repo(world: SimWorld) -> None:
    """newRepo answers a task id; once it ran, a poll shows the tag's repo."""
    task_id = _run(world.koji.new_repo("mod-build", since=SINCE, min_event=0))
    world.run_until_idle()
    report = _run(world.koji.poll([], [(task_id, "mod-build")]))
    answer = report.repos[task_id]
    assert answer.task.state == "closed"
    assert answer.repo.tag_name == "mod-build"
    assert answer.repo.state == "ready"


def test_find_build_tasks_maps_sources_to_tasks_of_the_target(
    world: SimWorld,
) -> None:
    """Build tasks created since a time are found by source, for one target."""
    since = datetime.fromtimestamp(world.clock.seconds() - 1, tz=UTC)
    [submitted] = _run(world.koji.submit_builds([(ALPHA, "mod")]))
    found = _run(world.koji.find_build_tasks(since, "mod"))
    assert found[ALPHA].id == submitted.task_id
    assert _run(world.koji.find_build_tasks(since, "other")) == {}


def test_cancel_tasks_answers_a_refusal_per_task(world: SimWorld) -> None:
    """Canceling an open task works; an unknown one is refused in its place."""
    [submitted] = _run(world.koji.submit_builds([(ALPHA, "mod")]))
    refusals = _run(world.koji.cancel_tasks([submitted.task_id, 999]))
    assert refusals[0] is None
    assert refusals[1] is not None
    report = _run(world.koji.poll([submitted.task_id], []))
    assert report.tasks[submitted.task_id].task.state == "canceled"


def test_failure_reasons_give_the_last_line_of_the_fault(world: SimWorld) -> None:
    """A failed build task's reason is read from its result in one request."""
    world.sim.fail_packages.add("alpha")
    [submitted] = _run(world.koji.submit_builds([(ALPHA, "mod")]))
    world.run_until_idle()
    reasons, trips = _trips(world, world.koji.failure_reasons([submitted.task_id]))
    assert trips == 1
    assert reasons[submitted.task_id]


def test_tag_operations_create_read_and_fill_tags(world: SimWorld) -> None:
    """Tags and a target are looked up, created (existing ones fine) and
    filled with groups and packages, one request per operation."""
    (tag, missing), target = _run(
        world.koji.find_tags_and_target(["mod", "new"], "mod")
    )
    assert isinstance(tag, KojiTag) and tag.name == "mod"
    assert missing is None
    assert target == KojiTarget("mod", "mod-build", "mod")
    created, trips = _trips(
        world,
        world.koji.create_tags(
            [("new", {}), ("new-build", {"rpm.macro.dist": ".m"})],
            arches=["x86_64"],
            perm=None,
        ),
    )
    assert trips == 2  # create, then read back
    assert [t.name for t in created] == ["new", "new-build"]
    _run(world.koji.create_target("new", "new-build", "new"))
    _run(world.koji.create_target("new", "new-build", "new"))  # exists: fine
    _run(world.koji.add_to_groups("new-build", ["build"], [("build", "bash")]))
    assert _run(world.koji.tag_groups("new-build")) == {"build": frozenset({"bash"})}
    _run(world.koji.add_packages([("new", "alpha")], owner="admin"))
    assert _run(world.koji.package_lists(["new", "new-build"])) == [
        frozenset({"alpha"}),
        frozenset(),  # new-build does not inherit from new
    ]
    assert _run(world.koji.logged_in_user()) == "admin"


def test_inheritance_is_read_and_replaced(world: SimWorld) -> None:
    """The parents of a tag are looked up with its links, then replaced."""
    parents, links = _run(world.koji.parents_and_inheritance(["f40-build"], "mod"))
    assert [p.name for p in parents] == ["f40-build"]
    assert links == set()
    wanted = [InheritanceLink(parents[0].id, 0)]
    _run(world.koji.set_inheritance(world_tag_id(world, "mod"), "mod", wanted))
    _, links = _run(world.koji.parents_and_inheritance([], "mod"))
    assert links == set(wanted)


def world_tag_id(world: SimWorld, name: str) -> int:
    """The id of a tag of the simulated hub."""
    return next(t.id for t in world.sim.tags.values() if t.name == name)


def test_missing_parent_raises_what_was_refused(world: SimWorld) -> None:
    """A parent that does not exist is a KojiFault naming the step."""
    failure = failure_of(
        Deferred.fromCoroutine(world.koji.parents_and_inheritance(["gone"], "mod"))
    )
    assert failure.check(KojiFault)
    assert "look up the parents of mod" in failure.value.message


def test_refused_connection_is_retried_after_a_backoff(world: SimWorld) -> None:
    """A refused connection costs one more round trip after the backoff, and
    the operation answers as if nothing happened."""
    _run(world.client.login())
    world.agent.refusals.append(ConnectionRefusedError())
    before = world.client.round_trips
    pending = Deferred.fromCoroutine(
        world.koji.new_repo("mod-build", since=SINCE, min_event=0)
    )
    assert not pending.called
    world.clock.advance(1.0)
    assert isinstance(result_of(pending), int)
    assert world.client.round_trips - before == 2


def test_lost_reply_of_a_submission_is_uncertain_not_an_error(
    world: SimWorld,
) -> None:
    """When the reply of ``build`` is lost and Koji refuses to run it again
    (1009), the submission answers None: look the tasks up instead."""
    _run(world.client.login())
    world.agent.lost_replies = 1
    pending = Deferred.fromCoroutine(world.koji.submit_builds([(ALPHA, "mod")]))
    world.clock.advance(1.0)
    assert result_of(pending) is None
    since = datetime.fromtimestamp(world.clock.seconds() - 60, tz=UTC)
    assert ALPHA in _run(world.koji.find_build_tasks(since, "mod"))


def test_tagged_rpm_nvrs_give_each_tag_its_rpms_with_the_epoch(
    world: SimWorld,
) -> None:
    """listTaggedRPMS of every tag in one request; NVRs in kobo's
    force_epoch form (``name-0:version-release`` when there is no epoch)."""
    _run(world.koji.submit_builds([(ALPHA, "mod")]))
    world.run_until_idle()
    _run(world.koji.tag_builds([("mod", "alpha-1.0-1")]))
    world.run_until_idle()
    found, trips = _trips(world, world.koji.tagged_rpm_nvrs(["mod", "mod-build"]))
    assert trips == 1
    assert "alpha-0:1.0-1" in found[0]
    assert found[1] == ()
    assert _run(world.koji.tagged_rpm_nvrs([])) == []
    with pytest.raises(KojiFault):
        _run(world.koji.tagged_rpm_nvrs(["no-such-tag"]))
