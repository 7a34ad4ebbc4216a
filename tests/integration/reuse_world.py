"""Support for the reuse tests: a module of three component batches (two
components each), built once, then its modulemd committed again with one
component's commit changed, and what kojisim holds of the builds."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import treq

from ridad.kojisim.views import decoded_request
from tests.integration.kojiworld import KojiWorld
from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    json_of,
    modulemd_text,
    wait_for_state,
)

JSON = {b"Content-Type": [b"application/json"]}
REUSED = "Reused component from previous module build"

#: Batches 2, 3 and 4 (buildorder 0, 1, 2), two components each.
SIX = {
    "ant": {"rationale": "batch 2", "buildorder": 0},
    "bee": {"rationale": "batch 2", "buildorder": 0},
    "cat": {"rationale": "batch 3", "buildorder": 1},
    "dog": {"rationale": "batch 3", "buildorder": 1},
    "eel": {"rationale": "batch 4", "buildorder": 2},
    "fox": {"rationale": "batch 4", "buildorder": 2},
}
#: The component whose commit changes between the builds (middle batch).
CHANGED = "cat"


def commit_module(git_world: GitWorld, year: int, components: Any = None) -> None:
    """Commit module ``demo`` dated in ``year`` (each year its own version)."""
    git_world.module(
        "demo",
        modulemd_text(components or SIX),
        date=f"{year}-01-01T00:00:00+0000",
    )


async def submit(
    daemon: RunningDaemon, git_world: GitWorld, **options: Any
) -> dict[str, Any]:
    """Submit module ``demo`` at its branch's head with ``options``."""
    body = {"scmurl": git_world.scmurl("demo"), **options}
    response = await treq.post(
        daemon.url("/rida/module-builds/"),
        data=json.dumps(body).encode(),
        headers=JSON,
    )
    answer = await json_of(response)
    assert response.code == 201, answer
    return answer


async def built(
    daemon: RunningDaemon, git_world: GitWorld, **options: Any
) -> dict[str, Any]:
    """Submit module ``demo`` and wait until it is ready."""
    answer = await submit(daemon, git_world, **options)
    done = await wait_for_state(daemon, answer["id"], ("ready", "failed"), 180)
    assert done["state"] == "ready", done
    return done


def build_tasks(hub: Any, after: int = 0) -> Counter[str]:
    """Koji build tasks (id above ``after``) per package: a component's
    repository name, or module-build-macros for an uploaded SRPM."""
    found: Counter[str] = Counter()
    for task in hub.tasks.values():
        if task.method != "build" or task.id <= after:
            continue
        source = str(decoded_request(task)[0])
        if "/rpms/" in source:
            found[source.split("/rpms/")[-1].split("?")[0].removesuffix(".git")] += 1
        else:
            found["module-build-macros"] += 1
    return found


def last_task_id(hub: Any) -> int:
    """The newest Koji task's id (0: none)."""
    return max(hub.tasks, default=0)


async def tagged(koji_world: KojiWorld, tag: str) -> set[str]:
    """The NVRs tagged into ``tag``."""
    return {b["nvr"] for b in await koji_world.client.call("listTagged", tag)}


def by_name(build: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A build view's components by name."""
    return {c["name"]: c for c in build["components"]}


async def component_ids(pool: Any, module_build_id: int) -> dict[str, int]:
    """The component build ids of a build, by name."""
    rows = await pool.run_query(
        "SELECT id, name FROM component_builds WHERE module_build_id = %s",
        (module_build_id,),
    )
    return {str(r["name"]): int(r["id"]) for r in rows}
