"""Component reuse through the real daemon, kojisim and a git server: a
module of three batches is built to ready, then submitted again with one
component of the middle batch changed. Koji builds only what the rebuild
strategy says; the rest takes the previous build's NVRs, tagged into the
new build's tags. And ``rebuild-strategies/`` answers as MBS does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
import treq

from tests.integration.kojiworld import KojiWorld
from tests.integration.reuse_world import (
    CHANGED,
    REUSED,
    SIX,
    build_tasks,
    built,
    by_name,
    commit_module,
    component_ids,
    last_task_id,
    tagged,
)
from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    daemon_config,
    json_of,
    koji_config,
    start_daemon,
)

pytestmark = [pytest.mark.integration]

#: What Koji builds again in the second build, per strategy.
REBUILT = {
    "changed-and-after": {"module-build-macros", "cat", "eel", "fox"},
    "only-changed": {"module-build-macros", "cat"},
    "all": {"module-build-macros", *SIX},
}


@pytest_twisted.async_yield_fixture
async def reuse_daemon(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld, tmp_path: Path
) -> AsyncIterator[RunningDaemon]:
    """ridad on kojisim, every strategy allowed, ``only-changed`` not the default."""
    config = daemon_config(
        database_dsn,
        git_world,
        tmp_path / "state",
        koji=koji_config(koji_world.url),
        builds={"rebuild_strategies_allowed": ["all", "only-changed"]},
    )
    daemon = await start_daemon(config, tmp_path / "ridad.yaml")
    yield daemon
    await daemon.service.stopService()


async def first_build(daemon: RunningDaemon, git_world: GitWorld) -> dict[str, Any]:
    for name in SIX:
        git_world.rpm(name)
    commit_module(git_world, 2030)
    first = await built(daemon, git_world)
    assert first["rebuild_strategy"] == "changed-and-after"
    assert first["reused_module_id"] is None
    return first


def change_one(git_world: GitWorld) -> None:
    """A new commit of the middle batch's ``cat``, and of the module."""
    git_world.rpm(CHANGED)
    commit_module(git_world, 2031)


@pytest_twisted.ensureDeferred
async def test_a_rebuild_builds_only_what_its_strategy_says(
    reuse_daemon: RunningDaemon,
    git_world: GitWorld,
    koji_world: KojiWorld,
    pool: Any,
) -> None:
    """After the first build, the module is built again under each strategy
    (one new module commit each, all with the middle batch's ``cat``
    changed, the first build as the source): Koji builds what the strategy
    rebuilds, once each; every other component is complete with the first
    build's NVR, the reuse reason and ``reused_component_id``, and tagged
    into both new tags (module-build-macros only into ``-build``). One first
    build serves the three rebuilds, which keeps the test short."""
    first = await first_build(reuse_daemon, git_world)
    old_ids = await component_ids(pool, first["id"])
    change_one(git_world)
    for year, strategy in enumerate(sorted(REBUILT), start=2032):
        before = last_task_id(koji_world.hub)
        second = await built(
            reuse_daemon,
            git_world,
            rebuild_strategy=strategy,
            **({} if strategy == "all" else {"reuse_components_from": first["id"]}),
        )
        rebuilt = build_tasks(koji_world.hub, after=before)
        assert set(rebuilt) == REBUILT[strategy], (strategy, rebuilt)
        assert set(rebuilt.values()) == {1}, rebuilt
        assert second["rebuild_strategy"] == strategy
        expected_source = None if strategy == "all" else first["id"]
        assert second["reused_module_id"] == expected_source
        await check_reused(koji_world, first, second, REBUILT[strategy], old_ids)
        commit_module(git_world, year)


async def check_reused(
    koji_world: KojiWorld,
    first: dict[str, Any],
    second: dict[str, Any],
    rebuilt: set[str],
    old_ids: dict[str, int],
) -> None:
    """Each component of ``second`` is built (``rebuilt``) or reused from
    ``first``, and tagged into ``second``'s tags either way."""
    old, new = by_name(first), by_name(second)
    module_tag, build_tag = second["koji_tag"], second["koji_tag"] + "-build"
    in_module, in_build = (
        await tagged(koji_world, module_tag),
        await tagged(koji_world, build_tag),
    )
    for name, component in new.items():
        assert component["state"] == "complete", component
        assert component["nvr"] in in_build, (name, in_build)
        if name != "module-build-macros":
            assert component["nvr"] in in_module, (name, in_module)
        if name in rebuilt:
            assert component["nvr"] != old[name]["nvr"]
            assert component["reused_component_id"] is None
            assert component["state_reason"] is None
        else:
            assert component["nvr"] == old[name]["nvr"]
            assert component["task_id"] == old[name]["task_id"]
            assert component["reused_component_id"] == old_ids[name]
            assert component["state_reason"] == REUSED
    assert len(in_module) == len(SIX)


@pytest_twisted.ensureDeferred
async def test_nothing_changed_reuses_every_component_and_the_macros(
    reuse_daemon: RunningDaemon, git_world: GitWorld, koji_world: KojiWorld
) -> None:
    """Submitted again with no component changed (and the previous build
    named), nothing is built in Koji, not even module-build-macros, whose
    SRPM is not made or uploaded again; the MBS views show the reuse."""
    first = await first_build(reuse_daemon, git_world)
    before = last_task_id(koji_world.hub)
    commit_module(git_world, 2031)
    second = await built(reuse_daemon, git_world, reuse_components_from=first["id"])
    assert build_tasks(koji_world.hub, after=before) == {}
    assert second["reused_module_id"] == first["id"]
    macros = by_name(second)["module-build-macros"]
    assert macros["nvr"] == by_name(first)["module-build-macros"]["nvr"]
    assert macros["state_reason"] == REUSED
    assert macros["nvr"] in await tagged(koji_world, second["koji_tag"] + "-build")

    url = reuse_daemon.url(f"/module-build-service/2/module-builds/{second['id']}")
    verbose = await json_of(await treq.get(url + "?verbose=true"))
    assert verbose["reused_module_id"] == first["id"]
    assert verbose["rebuild_strategy"] == "changed-and-after"
    assert verbose["srpms"] == []
    component_id = verbose["component_builds"][0]
    url = reuse_daemon.url(f"/module-build-service/1/component-builds/{component_id}")
    component = await json_of(await treq.get(url + "?verbose=true"))
    assert component["reused_component_id"] is not None


@pytest_twisted.ensureDeferred
@pytest.mark.parametrize("version", [1, 2])
async def test_rebuild_strategies_answer_as_mbs_does(
    version: int, reuse_daemon: RunningDaemon
) -> None:
    """Sorted by name; the default and the configured ones allowed."""
    url = reuse_daemon.url(f"/module-build-service/{version}/rebuild-strategies/")
    response = await treq.get(url)
    assert response.code == 200
    assert await json_of(response) == {
        "items": [
            {
                "name": "all",
                "description": "All components will be rebuilt",
                "allowed": True,
                "default": False,
            },
            {
                "name": "changed-and-after",
                "description": "All components that have changed and those in"
                " subsequent batches will be rebuilt",
                "allowed": True,
                "default": True,
            },
            {
                "name": "only-changed",
                "description": "All changed components will be rebuilt",
                "allowed": True,
                "default": False,
            },
        ]
    }
