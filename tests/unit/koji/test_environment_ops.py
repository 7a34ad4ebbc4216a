"""The module's environment in one read and one write multicall
(``KojiHub.ensure_environment``), on kojisim, also when the write's answer
is lost after the hub ran it."""

from __future__ import annotations

from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.defer import Deferred

from ridad.domain.koji import InheritanceLink
from ridad.koji.environment_ops import EnvironmentSpec
from tests.helpers import result_of
from tests.unit.koji.simworld import SimWorld, make_sim_world
from tests.unit.kojisim.support import seed_module_tags

WRITES = (
    "createTag",
    "setInheritanceData",
    "groupListAdd",
    "groupPackageListAdd",
    "packageListAdd",
    "packageListBlock",
    "createBuildTarget",
)


@pytest.fixture
def world(tmp_path: Path) -> SimWorld:
    made = make_sim_world(str(tmp_path))
    seed_module_tags(made.admin())
    result_of(Deferred.fromCoroutine(made.client.login()))
    return made


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return result_of(Deferred.fromCoroutine(coroutine))


def _spec(**changes: Any) -> EnvironmentSpec:
    values: dict[str, Any] = {
        "koji_tag": "new",
        "build_tag": "new-build",
        "target": "new",
        "koji_tag_extra": {},
        "build_tag_extra": {"rpm.macro.dist": ".m"},
        "arches": ("x86_64",),
        "perm": None,
        "parents": ("f40-build", "mod"),
        "groups": {"build": ("bash",), "srpm-build": ("rpm-build",)},
        "packages": {"new": ("alpha",), "new-build": ("alpha", "gamma")},
        "blocked": ("gamma",),
        **changes,
    }
    return EnvironmentSpec(**values)


def _sent(world: SimWorld, method: str) -> int:
    return sum(request.count(method) for request in world.agent.sent)


def _assert_complete(world: SimWorld) -> None:
    names = [t.name for t in world.sim.tags.values()]
    assert (names.count("new"), names.count("new-build")) == (1, 1)
    parents, links = _run(
        world.koji.parents_and_inheritance(["f40-build", "mod"], "new-build")
    )
    assert links == {
        InheritanceLink(parents[0].id, 0),
        InheritanceLink(parents[1].id, 10),
    }
    assert _run(world.koji.tag_groups("new-build")) == {
        "build": frozenset({"bash"}),
        "srpm-build": frozenset({"rpm-build"}),
    }
    # alpha is inherited from mod: Koji adds no entry that changes nothing
    assert _run(world.koji.package_lists(["new", "new-build"])) == [
        frozenset({"alpha"}),
        frozenset({"gamma"}),
    ]
    assert _run(world.koji.blocked_packages("new-build")) == {"gamma"}
    _, target = _run(world.koji.find_tags_and_target([], "new"))
    assert target is not None and target.build_tag == "new-build"


def test_a_fresh_environment_takes_one_read_and_one_write(world: SimWorld) -> None:
    before = world.koji.round_trips
    owner = _run(world.koji.ensure_environment(_spec()))
    assert world.koji.round_trips - before == 2
    assert owner == "admin"  # the logged-in user, read in the same request
    _assert_complete(world)
    assert all(_sent(world, method) for method in WRITES)


def test_a_complete_environment_is_only_read(world: SimWorld) -> None:
    _run(world.koji.ensure_environment(_spec()))
    sent = len(world.agent.sent)
    before = world.koji.round_trips
    _run(world.koji.ensure_environment(_spec(owner="admin")))
    assert world.koji.round_trips - before == 1
    assert not any(m in r for r in world.agent.sent[sent:] for m in WRITES)
    _assert_complete(world)


def test_only_the_missing_part_is_written(world: SimWorld) -> None:
    _run(world.koji.ensure_environment(_spec(groups={}, blocked=())))
    sent = len(world.agent.sent)
    _run(world.koji.ensure_environment(_spec()))
    later = world.agent.sent[sent:]
    assert sum(r.count("createTag") for r in later) == 0
    assert sum(r.count("groupListAdd") for r in later) == 2
    _assert_complete(world)


def test_a_lost_write_answer_is_read_back_not_repeated(world: SimWorld) -> None:
    """The hub ran the write: re-reading finds everything, nothing is sent
    again (each write went out twice: the request and its refused resend)."""
    world.with_lost_answer("createTag", world.koji.ensure_environment(_spec()))
    _assert_complete(world)
    assert _sent(world, "createTag") == 4
    assert _sent(world, "createBuildTarget") == 2
    assert _sent(world, "packageListBlock") == 2
