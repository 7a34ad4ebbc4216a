"""ridad, as twistd runs it, against kojisim over HTTP on loopback when the
answer to each Koji write is lost once after the hub ran it (a proxy's 502):
the module still builds, Koji holds nothing twice, and stopping the daemon
leaves no session of ridad open on the hub."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import pytest_twisted

from tests.integration.kojiworld import KojiWorld
from tests.integration.support import GitWorld, modulemd_text, wait_for_state
from tests.integration.test_koji_builds import koji_daemon, submit

pytestmark = pytest.mark.integration

#: Every hub method through which ridad changes Koji while building a module.
WRITES = (
    "createTag",
    "setInheritanceData",
    "groupListAdd",
    "groupPackageListAdd",
    "packageListAdd",
    "createBuildTarget",
    "rawUpload",
    "build",
    "tagBuildBypass",
    "newRepo",
)


@pytest_twisted.ensureDeferred
async def test_every_write_losing_its_answer_once_still_builds_the_module_once(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld, tmp_path: Path
) -> None:
    """Three components in two batches reach ready; one tag of each name, one
    target, one build task per component, one newRepo right after
    module-build-macros is submitted and one per batch after the first,
    each build tagged once; after stopService no session is open."""
    hub = koji_world.hub
    for method in WRITES:
        hub.lose_answer(method)
    daemon = await koji_daemon(database_dsn, git_world, koji_world, tmp_path)
    try:
        build = await submit(daemon, git_world, modulemd_text())
        done = await wait_for_state(
            daemon, build["id"], ("ready", "failed"), timeout_seconds=150
        )
        assert done["state"] == "ready", done
        assert hub.open_sessions("ridad") == 1
    finally:
        await daemon.service.stopService()
    assert hub.answers_to_lose == 0
    tag = done["koji_tag"]
    state = hub.state
    assert Counter(t.name for t in state.tags.values()) == {
        "f40-build": 1,
        tag: 1,
        f"{tag}-build": 1,
    }
    assert [t.name for t in state.targets.values()] == [tag]
    assert Counter(t.method for t in state.tasks.values()) == {
        "build": 4,
        "newRepo": 3,
    }
    taggings = Counter((g.tag_id, g.build_id) for g in state.taggings)
    assert len(taggings) == 7 and set(taggings.values()) == {1}
    assert hub.open_sessions("ridad") == 0
