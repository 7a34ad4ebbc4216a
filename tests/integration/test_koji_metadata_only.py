"""A module of metadata only (no components) from submission to ready
through the real daemon, kojisim over HTTP on loopback, real PostgreSQL and
a real git daemon: as under MBS, Koji gets the module's tags, inheritance,
groups and target but no task at all, and the module's Koji build holds
its modulemd documents, which list no RPM."""

from __future__ import annotations

import pytest
import pytest_twisted
import treq
import yaml

from ridad.modulemd.parse import load_modulemd
from tests.integration import test_koji_builds
from tests.integration.kojiworld import KojiWorld
from tests.integration.mbs_client import submit
from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    modulemd_text,
    wait_for_state,
)
from tests.integration.test_koji_builds import assert_messages_follow_the_trace

pytestmark = pytest.mark.integration
koji_built = test_koji_builds.koji_built

#: Profiles and api naming RPMs the module does not build.
PROFILES = {"profiles": {"default": {"rpms": ["bash"]}}, "api": {"rpms": ["bash"]}}


@pytest_twisted.ensureDeferred
async def test_a_module_without_components_is_imported_and_ready(
    koji_built: RunningDaemon, git_world: GitWorld, koji_world: KojiWorld, pool
) -> None:
    """201 on the MBS route, then init, wait, build, done, ready, each
    announced; no component, no Koji task; the module's Koji build COMPLETE
    with modulemd.txt and modulemd.x86_64.txt, served by ridad byte for
    byte, valid, without artifacts."""
    git_world.module("meta", modulemd_text({}, extra=PROFILES))
    fields = {"scmurl": git_world.scmurl("meta"), "branch": "main"}
    submitted = await submit(koji_built, git_world, 1, **fields)
    done = await wait_for_state(koji_built, submitted["id"], ("ready", "failed"))
    assert done["state"] == "ready", done
    assert (done["components"], done["tasks"]) == ([], {})
    await assert_messages_follow_the_trace(pool, done["id"])
    koji = koji_world.client
    tag = done["koji_tag"]
    target = await koji.call("getBuildTarget", tag)
    assert (target["build_tag_name"], target["dest_tag_name"]) == (f"{tag}-build", tag)
    parents = await koji.call("getInheritanceData", f"{tag}-build")
    assert [p["name"] for p in parents] == ["f40-build"]
    groups = {
        g["name"]: {p["package"] for p in g["packagelist"]}
        for g in await koji.call("getTagGroups", f"{tag}-build", inherit=False)
    }
    assert sorted(groups) == ["build", "srpm-build"]
    assert "module-build-macros" not in groups["build"] | groups["srpm-build"]
    assert await koji.call("listTasks") == []
    (koji_build,) = await koji.call("listBuilds", type="module")
    assert koji_build["build_id"] == done["koji_build_id"]
    assert koji_build["nvr"] == (f"meta-main-{done['version']}.{done['context']}")
    archives = await koji.call("listArchives", buildID=koji_build["build_id"])
    assert sorted(a["filename"] for a in archives) == [
        "modulemd.txt",
        "modulemd.x86_64.txt",
    ]
    for archive in archives:
        assert await koji.call("listRPMs", imageID=archive["id"]) == []
    imported = {
        a["filename"]: koji_world.hub.state.archives[a["id"]].content for a in archives
    }
    for query, filename in (
        ("", "modulemd.txt"),
        ("?arch=x86_64", "modulemd.x86_64.txt"),
    ):
        served = await treq.get(
            koji_built.url(f"/rida/module-builds/{done['id']}/modulemd{query}")
        )
        assert served.code == 200
        content = await served.content()
        assert content == imported[filename]
        text = content.decode()
        assert load_modulemd(text).rpm_components == ()
        data = yaml.safe_load(text)["data"]
        assert "artifacts" not in data and "components" not in data
        assert data["profiles"]["default"]["rpms"] == ["bash"]
