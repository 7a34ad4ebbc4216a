"""The MBS-compatible API's component builds under /module-build-service/:
list, item and filters for the components of a submitted build whose states
the test sets in PostgreSQL, against a real daemon and real git.
"""

from __future__ import annotations

import pytest_twisted

from tests.integration.mbs_client import MBS, assert_error, get_json, submit
from tests.integration.support import GitWorld, RunningDaemon


async def built_components(
    daemon: RunningDaemon, git_world: GitWorld, pool
) -> tuple[int, dict[str, int]]:
    """A submitted build whose alpha completed and beta is building; its component ids."""
    build_id = (await submit(daemon, git_world))["id"]
    rows = await pool.run_query(
        "SELECT id, name FROM component_builds WHERE module_build_id = %s", (build_id,)
    )
    ids = {r["name"]: r["id"] for r in rows}
    await pool.run_operation(
        "UPDATE component_builds SET state = 'complete', task_id = 1001,"
        " nvr = 'alpha-1.0-1.module' WHERE id = %s",
        (ids["alpha"],),
    )
    await pool.run_operation(
        "UPDATE component_builds SET state = 'building', task_id = 1002 WHERE id = %s",
        (ids["beta"],),
    )
    await pool.run_operation(
        "INSERT INTO state_trace (module_build_id, component_build_id, time,"
        " old_state, new_state, reason) VALUES"
        " (%s, %s, now(), 'waiting', 'building', NULL),"
        " (%s, %s, now(), 'building', 'complete', NULL)",
        (build_id, ids["alpha"], build_id, ids["alpha"]),
    )
    return build_id, ids


@pytest_twisted.ensureDeferred
async def test_component_builds_list_and_item(
    daemon: RunningDaemon, git_world: GitWorld, pool
) -> None:
    """component-builds/ lists components in MBS's shape; component-builds/N shows one."""
    build_id, ids = await built_components(daemon, git_world, pool)
    listing = await get_json(
        daemon, f"{MBS}/2/component-builds/?module_build={build_id}"
    )
    assert [i["id"] for i in listing["items"]] == sorted(ids.values(), reverse=True)
    assert listing["meta"]["total"] == 3
    alpha = next(i for i in listing["items"] if i["package"] == "alpha")
    assert alpha == {
        "id": ids["alpha"],
        "package": "alpha",
        "format": "rpms",
        "task_id": 1001,
        "state": 1,
        "state_name": "COMPLETE",
        "state_reason": None,
        "module_build": build_id,
        "nvr": "alpha-1.0-1.module",
    }
    shown = await get_json(daemon, f"{MBS}/1/component-builds/{ids['alpha']}")
    assert shown == alpha
    verbose = await get_json(
        daemon, f"{MBS}/2/component-builds/{ids['alpha']}/?verbose=true"
    )
    assert verbose["batch"] == 2
    assert verbose["state_url"] == f"{MBS}/2/component-builds/{ids['alpha']}"
    assert [(t["state"], t["state_name"]) for t in verbose["state_trace"]] == [
        (None, None),
        (0, "BUILDING"),
        (1, "COMPLETE"),
    ]
    build = await get_json(daemon, f"{MBS}/2/module-builds/{build_id}")
    assert build["tasks"]["rpms"]["alpha"] == {
        "task_id": 1001,
        "state": 1,
        "state_reason": None,
        "nvr": "alpha-1.0-1.module",
    }
    assert build["tasks"]["rpms"]["beta"]["state"] == 0
    missing = await get_json(daemon, f"{MBS}/2/component-builds/4242", status=404)
    assert_error(missing, 404)


@pytest_twisted.ensureDeferred
async def test_component_builds_filters_order_and_bad_values(
    daemon: RunningDaemon, git_world: GitWorld, pool
) -> None:
    """Component filters (state by Koji name or number, package, task, ...) select; bad ones are 400."""
    build_id, ids = await built_components(daemon, git_world, pool)
    cases = [
        ("state=COMPLETE", ["alpha"]),
        ("state=1", ["alpha"]),
        ("state=building&state=waiting", ["gamma", "beta"]),
        ("package=beta", ["beta"]),
        ("task_id=1002", ["beta"]),
        ("nvr=alpha-1.0-1.module", ["alpha"]),
        ("format=rpms&batch=3", ["gamma"]),
        ("module_build=4242", []),
        ("modified_after=2000-01-01&order_by=package", ["alpha", "beta", "gamma"]),
        ("order_desc_by=package&per_page=2", ["gamma", "beta"]),
    ]
    for query, names in cases:
        body = await get_json(daemon, f"{MBS}/2/component-builds/?{query}")
        assert [i["package"] for i in body["items"]] == names, query
    for query in ("state=sleeping", "task_id=x", "colour=red", "order_by=repository"):
        error = await get_json(daemon, f"{MBS}/2/component-builds/?{query}", 400)
        assert_error(error, 400)
        assert query.split("=")[0] in error["message"]
