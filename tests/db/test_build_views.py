"""The seed API's views shaped by PostgreSQL (ridad/db/build_views.py) are
the views of the domain values (ridad/domain/views.py), key for key and in
the same order, whatever the rows hold."""

from __future__ import annotations

import json

import pytest
import pytest_twisted
from twisted.internet.task import Clock

from ridad.db.builds import BuildFilter, ModuleBuildStore
from ridad.db.pool import Pool
from ridad.domain.states import ModuleState
from ridad.domain.views import module_build_view, module_list_item
from ridad.transitions import Transitions
from tests.db.test_transitions import new_build

#: Names whose order differs between code points and a locale's collation.
NAMES = ("b-x", "B_y", "a", "Zed", "a-b", "a_b", "é", "c")

#: Each build's row and component values after creation (SQL, per build).
CHANGES = (
    [],
    [
        "UPDATE module_builds SET state = 'build', koji_tag = 'module-x',"
        " time_modified = '2026-01-02 03:04:05.999999+05',"
        " time_completed = '1999-12-31 23:59:59.5+00', srpms = ARRAY['a.src.rpm'],"
        " scratch = true, cg_state = 'imported', cg_build_id = 7, artifact_count = 3,"
        " reused_module_id = 1, rebuild_strategy = 'all', state_reason = 'why'"
        " WHERE id = %(id)s",
        "UPDATE component_builds SET task_id = 40 + batch, task_state = NULL,"
        " batch = (length(name) %% 3) + 2, nvr = name || '-1-1',"
        " state = 'building', reused_component_id = 2, state_reason = 'r\u00e9'"
        " WHERE module_build_id = %(id)s AND name <> 'c'",
        "UPDATE component_builds SET task_id = 9, task_state = 'CLOSED',"
        " state = 'complete' WHERE module_build_id = %(id)s AND name = 'c'",
    ],
    [
        "DELETE FROM component_builds WHERE module_build_id = %(id)s",
        "UPDATE module_builds SET cg_state = 'reserved', cg_build_id = 8"
        " WHERE id = %(id)s",
    ],
)


@pytest.fixture
def store(pool: Pool) -> ModuleBuildStore:
    return ModuleBuildStore(pool=pool)


async def builds(pool: Pool) -> list[int]:
    """Three builds: untouched, with every field set, without components."""
    transitions = Transitions(pool=pool, clock=Clock())
    ids = []
    for index, changes in enumerate(CHANGES):
        module_build_id, _ = await transitions.create_module_build(
            new_build(f"mod{index}", NAMES)
        )
        for statement in changes:
            await pool.run_operation(statement, {"id": module_build_id})
        ids.append(module_build_id)
    return ids


@pytest_twisted.ensureDeferred
async def test_single_view_is_the_domain_view(
    pool: Pool, store: ModuleBuildStore
) -> None:
    for module_build_id in await builds(pool):
        build, components = await store.get_with_components(module_build_id)
        expected = module_build_view(build, components)
        shaped = await store.view(module_build_id)
        assert json.dumps(shaped) == json.dumps(expected)


@pytest_twisted.ensureDeferred
async def test_list_items_are_the_domain_items(
    pool: Pool, store: ModuleBuildStore
) -> None:
    await builds(pool)
    filters = [
        BuildFilter(),
        BuildFilter(name="mod1"),
        BuildFilter(states=(ModuleState.BUILD, ModuleState.INIT)),
        BuildFilter(owner="nobody"),
    ]
    for build_filter in filters:
        for page, per_page in ((1, 10), (1, 2), (2, 2), (5, 2)):
            builds_, total = await store.list_page(
                build_filter, page=page, per_page=per_page
            )
            items, shaped_total = await store.list_view(
                build_filter, page=page, per_page=per_page
            )
            assert shaped_total == total
            assert json.dumps(items) == json.dumps(
                [module_list_item(b) for b in builds_]
            )


@pytest_twisted.ensureDeferred
async def test_unfiltered_total_follows_inserts_and_deletes(
    pool: Pool, store: ModuleBuildStore
) -> None:
    """The total of an unfiltered list is the trigger-kept count (migration
    012), exact after inserts and deletes in any transaction."""
    ids = await builds(pool)
    assert (await store.list_view(BuildFilter(), page=1, per_page=1))[1] == 3
    await pool.run_operation(
        "DELETE FROM state_trace WHERE module_build_id = %s;"
        " DELETE FROM outbox WHERE module_build_id = %s;"
        " DELETE FROM module_builds WHERE id = %s",
        (ids[2], ids[2], ids[2]),
    )
    _, total = await store.list_view(BuildFilter(), page=1, per_page=1)
    counted = await pool.run_query("SELECT count(*) AS n FROM module_builds")
    assert total == counted[0]["n"] == 2
