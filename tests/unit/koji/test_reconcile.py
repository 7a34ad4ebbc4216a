"""Every write of KojiHub when its answer is lost after the hub ran it.

kojisim commits the request, answers 502 as a proxy would, and refuses the
client's resend (same call number) with RetryError 1009, as the real hub
does. Each operation must then read Koji's state and end as if the answer
had come: nothing made twice, nothing taken for a failure. ``agent.sent``
shows what went over the wire: a write sent exactly twice is the request and
its refused resend, with no second attempt after the reading back.
"""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import koji
import pytest
from twisted.internet.defer import Deferred

from ridad.domain.koji import InheritanceLink
from ridad.errors import KojiAnswerLost, KojiFault
from ridad.koji.reconcile import MAX_ROUNDS, write_multicall
from ridad.koji.wire import KojiCall
from tests.helpers import failure_of, result_of
from tests.unit.koji.simworld import SimWorld, make_sim_world
from tests.unit.kojisim.support import seed_module_tags

ALPHA = "git+https://src.example.org/rpms/alpha.git?#0123456789abcdef"
SINCE = datetime.fromtimestamp(0, tz=UTC)


@pytest.fixture
def world(tmp_path: Path) -> SimWorld:
    """ridad's client on a kojisim hub whose module tags exist, at a time
    after ``SINCE`` (Koji's ``createdAfter`` is strict)."""
    made = make_sim_world(str(tmp_path))
    made.clock.advance(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    seed_module_tags(made.admin())
    return made


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return result_of(Deferred.fromCoroutine(coroutine))


def _sent(world: SimWorld, method: str) -> int:
    """How many calls of ``method`` went to the hub."""
    return sum(request.count(method) for request in world.agent.sent)


def test_lost_answer_to_create_tags_reads_the_tags_back(world: SimWorld) -> None:
    """createTag ran: the tags are found, not created again, and answered."""
    created = world.with_lost_answer(
        "createTag",
        world.koji.create_tags(
            [("new", {}), ("new-build", {"rpm.macro.dist": ".m"})],
            arches=["x86_64"],
            perm=None,
        ),
    )
    assert [t.name for t in created] == ["new", "new-build"]
    names = [t.name for t in world.sim.tags.values()]
    assert (names.count("new"), names.count("new-build")) == (1, 1)
    assert _sent(world, "createTag") == 4  # two calls, sent and resent


def test_lost_answer_to_set_inheritance_finds_it_set(world: SimWorld) -> None:
    """setInheritanceData ran: the links read back are those wanted."""
    parents, _ = _run(world.koji.parents_and_inheritance(["f40-build"], "mod"))
    wanted = [InheritanceLink(parents[0].id, 0)]
    tag_id = next(t.id for t in world.sim.tags.values() if t.name == "mod")
    world.with_lost_answer(
        "setInheritanceData", world.koji.set_inheritance(tag_id, "mod", wanted)
    )
    _, links = _run(world.koji.parents_and_inheritance([], "mod"))
    assert links == set(wanted)
    assert _sent(world, "setInheritanceData") == 2


def test_lost_answer_to_group_filling_finds_the_groups(world: SimWorld) -> None:
    """groupListAdd and groupPackageListAdd ran: nothing is sent again."""
    packages = [("build", "bash"), ("srpm-build", "bash")]
    world.with_lost_answer(
        "groupListAdd",
        world.koji.add_to_groups("mod-build", ["build", "srpm-build"], packages),
    )
    assert _run(world.koji.tag_groups("mod-build")) == {
        "build": frozenset({"bash"}),
        "srpm-build": frozenset({"bash"}),
    }
    assert (_sent(world, "groupListAdd"), _sent(world, "groupPackageListAdd")) == (
        4,
        4,
    )


def test_lost_answer_to_package_listing_finds_them_listed(world: SimWorld) -> None:
    """packageListAdd ran: the packages are listed once."""
    entries = [("mod-build", "alpha"), ("mod-build", "gamma"), ("mod", "gamma")]
    world.with_lost_answer(
        "packageListAdd", world.koji.add_packages(entries, owner="admin")
    )
    assert _run(world.koji.package_lists(["mod", "mod-build"])) == [
        frozenset({"alpha", "beta", "gamma"}),
        frozenset({"alpha", "gamma"}),
    ]
    assert _sent(world, "packageListAdd") == 6


def test_lost_answer_to_create_target_finds_the_target(world: SimWorld) -> None:
    """createBuildTarget ran: one target of that name, not sent again."""
    world.with_lost_answer(
        "createBuildTarget", world.koji.create_target("t", "mod-build", "mod")
    )
    assert [t.name for t in world.sim.targets.values()].count("t") == 1
    assert _sent(world, "createBuildTarget") == 2


def _built_alpha(world: SimWorld) -> None:
    """alpha built, and listed in mod-build too (listTagged shows only
    builds of listed packages, as ridad lists them in both tags)."""
    world.admin().call("packageListAdd", "mod-build", "alpha", owner="admin")
    _run(world.koji.submit_builds([(ALPHA, "mod")]))
    world.run_until_idle()


def test_lost_answer_to_tagging_finds_the_builds_tagged(world: SimWorld) -> None:
    """tagBuildBypass ran: the builds are tagged once and the event after
    the tagging is answered."""
    _built_alpha(world)
    pairs = [("mod-build", "alpha-1.0-1"), ("mod", "alpha-1.0-1")]
    event = world.with_lost_answer("tagBuildBypass", world.koji.tag_builds(pairs))
    admin = world.admin()
    for tag in ("mod", "mod-build"):
        assert [b["nvr"] for b in admin.call("listTagged", tag)] == ["alpha-1.0-1"]
    assert event.id == admin.call("getLastEvent")["id"]
    assert _sent(world, "tagBuildBypass") == 4


def test_lost_answer_to_tagging_redoes_only_what_is_missing(world: SimWorld) -> None:
    """A tagging Koji refused inside the lost request is made again alone,
    and its refusal is raised; the one that worked is not sent again."""
    _built_alpha(world)
    pairs = [("mod", "alpha-1.0-1"), ("mod", "nope-1-1")]
    _run(world.client.login())
    world.sim.lose_answer("tagBuildBypass")
    pending = Deferred.fromCoroutine(world.koji.tag_builds(pairs))
    world.clock.advance(1.0)
    failure = failure_of(pending, KojiFault)
    assert "Koji refused to tag nope-1-1 into mod" in failure.value.message
    assert world.agent.sent[-1] == ("tagBuildBypass", "getLastEvent")
    assert _sent(world, "tagBuildBypass") == 5


def _repo_tasks(world: SimWorld) -> list[int]:
    return [t.id for t in world.sim.tasks.values() if t.method == "newRepo"]


def test_lost_answer_to_new_repo_adopts_the_task_koji_made(world: SimWorld) -> None:
    """newRepo ran: its task is looked up and answered, none is started again."""
    task_id = world.with_lost_answer(
        "newRepo", world.koji.new_repo("mod-build", since=SINCE, min_event=0)
    )
    assert _repo_tasks(world) == [task_id]
    assert _sent(world, "newRepo") == 2


def test_lost_new_repo_whose_task_is_not_found_starts_another(
    world: SimWorld,
) -> None:
    """If the lookup finds no task (here: it looks only after the future),
    a newRepo is started rather than failing the build."""
    later = datetime.fromtimestamp(world.clock.seconds() + 3600, tz=UTC)
    task_id = world.with_lost_answer(
        "newRepo", world.koji.new_repo("mod-build", since=later, min_event=0)
    )
    assert len(_repo_tasks(world)) == 2 and task_id == max(_repo_tasks(world))


def test_find_repo_task_skips_finished_tasks_with_an_older_repo(
    world: SimWorld,
) -> None:
    """A closed newRepo task counts only if its repo has the event wanted; a
    task still waiting counts whatever it will make; other tags never."""
    old = _run(world.koji.new_repo("mod-build", since=SINCE, min_event=0))
    _run(world.koji.new_repo("mod", since=SINCE, min_event=0))
    world.run_until_idle()
    repo_event = world.sim.tasks[old].result
    assert repo_event is not None
    newest = world.sim.state.last_event.id
    find = world.koji.find_repo_task
    assert _run(find("mod-build", since=SINCE, min_event=0)) == old
    assert _run(find("mod-build", since=SINCE, min_event=newest + 1)) is None
    world.sim.pause_builder()
    waiting = _run(world.koji.new_repo("mod-build", since=SINCE, min_event=0))
    assert _run(find("mod-build", since=SINCE, min_event=newest + 1)) == waiting
    assert _run(find("other-build", since=SINCE, min_event=0)) is None


def test_lost_answer_to_cancel_finds_the_task_canceled(world: SimWorld) -> None:
    """cancelTask ran: the task is canceled, no refusal, not sent again."""
    world.sim.pause_builder()
    [submitted] = _run(world.koji.submit_builds([(ALPHA, "mod")]))
    refusals = world.with_lost_answer(
        "cancelTask", world.koji.cancel_tasks([submitted.task_id])
    )
    assert refusals == [None]
    canceled = koji.TASK_STATES["CANCELED"]
    assert world.sim.tasks[submitted.task_id].state == canceled
    assert _sent(world, "cancelTask") == 2


def test_lost_answer_to_a_submission_leaves_one_task_to_look_up(
    world: SimWorld,
) -> None:
    """build ran: the submission answers None and its one task is found."""
    world.sim.pause_builder()
    assert (
        world.with_lost_answer("build", world.koji.submit_builds([(ALPHA, "mod")]))
        is None
    )
    found = _run(world.koji.find_build_tasks(SINCE, "mod"))
    assert [t.method for t in world.sim.tasks.values()] == ["build"]
    assert found[ALPHA].id == next(iter(world.sim.tasks))


def test_lost_answer_to_an_upload_chunk_is_resent_and_checked(
    world: SimWorld,
) -> None:
    """The hub keeps no call number for uploads (they commit nothing), so the
    resent chunk is written again in place and the whole file checks out."""
    path = world.with_lost_answer(
        "rawUpload", world.koji.upload(b"srpm", path="p", name="a.rpm")
    )
    assert path == "p/a.rpm"
    assert (Path(world.sim.upload_dir) / "p/a.rpm").read_bytes() == b"srpm"
    assert _sent(world, "rawUpload") == 2


def test_lost_answer_to_a_poll_is_asked_again(world: SimWorld) -> None:
    """A multicall of reads commits its call number too: the resend gets
    1009, and the client asks again under the next number."""
    [submitted] = _run(world.koji.submit_builds([(ALPHA, "mod")]))
    report = world.with_lost_answer(
        "getTaskInfo", world.koji.poll([submitted.task_id], [])
    )
    assert report.tasks[submitted.task_id].task is not None
    assert _sent(world, "getTaskInfo") == 3


def test_answers_lost_again_and_again_give_up(world: SimWorld) -> None:
    """A write whose answer keeps getting lost ends in KojiAnswerLost."""
    _run(world.client.login())
    call = KojiCall("createTag", ("x",))

    async def remaining() -> list[KojiCall]:
        world.sim.lose_answer("createTag")
        return [call]

    world.sim.lose_answer("createTag")
    pending = Deferred.fromCoroutine(
        write_multicall(world.client, [call], remaining, what="x")
    )
    for _ in range(MAX_ROUNDS):
        world.clock.advance(1.0)
    failure = failure_of(pending, KojiAnswerLost)
    assert failure.value.message == f"The answer to x was lost {MAX_ROUNDS} times"


def test_lost_answer_to_a_renewal_replaces_the_session_and_closes_the_old(
    world: SimWorld,
) -> None:
    """The session expired; the renewal ran (new key) but its answer was lost,
    so the resend with the old key is refused (AuthError). The client logs in
    anew, logs the renewed session out by id and sends the call: no session
    is left open behind it."""
    _run(world.client.login())
    opened = world.sim.open_sessions()
    world.sim.expire_sessions()
    world.sim.lose_answer("login")
    pending = Deferred.fromCoroutine(world.koji.logged_in_user())
    world.clock.advance(1.0)
    assert result_of(pending) == "admin"
    assert world.sim.open_sessions() == opened
    assert world.agent.sent[-5:] == [
        ("login",),
        ("login",),
        ("login",),
        ("logout",),
        ("getLoggedInUser",),
    ]
