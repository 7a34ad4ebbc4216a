"""schemathesis against a live ridad (the real service tree on a real
database and git server): no server error, and every answer as the served
OpenAPI description says."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import threads

from tests.final_documents import store_documents_sync
from tests.integration.openapi_fuzz import SUMMARIES, Fuzzer, FuzzReport
from tests.integration.support import GitWorld, RunningDaemon, modulemd_text

pytestmark = [pytest.mark.integration, pytest.mark.db, pytest.mark.slow]

RIDA_BUILDS = "/rida/module-builds/"
RIDA_BUILD = "/rida/module-builds/{module_build_id}"
MBS_BUILDS = "/module-build-service/{api_version}/module-builds/"
MBS_BUILD = "/module-build-service/{api_version}/module-builds/{module_build_id}"
MBS_COMPONENTS = "/module-build-service/{api_version}/component-builds/"
RIDA_MODULEMD = "/rida/module-builds/{module_build_id}/modulemd"
MBS_FINAL = "/module-build-service/{api_version}/final-modulemd/{module_build_id}"


def _expect(fuzzer: Fuzzer, status: int, method: str, path: str, **parts: Any) -> Any:
    response = fuzzer.send(fuzzer.case(method, path, **parts))
    assert response.status_code == status, response.text
    return response.json()


def seed_builds(fuzzer: Fuzzer, git_world: GitWorld, dsn: str) -> dict[str, int]:
    """Builds to look at, made through the described operations (so their
    answers are checked too): ``demo`` in init with three components (and,
    written into the database, final modulemd documents), and ``other`` (MBS
    v2) and ``third`` (MBS v1), both canceled."""
    for name in ("demo", "other", "third"):
        git_world.module(name, modulemd_text())
    scmurl = git_world.scmurl
    demo = _expect(fuzzer, 201, "POST", RIDA_BUILDS, body={"scmurl": scmurl("demo")})
    _expect(fuzzer, 409, "POST", RIDA_BUILDS, body={"scmurl": scmurl("demo")})
    store_documents_sync(dsn, demo["id"])
    other = _expect(
        fuzzer, 201, "POST", MBS_BUILDS, path_parameters={"api_version": 2},
        body={"scmurl": scmurl("other"), "branch": "main"},
    )[0]  # fmt: skip
    third = _expect(
        fuzzer, 201, "POST", MBS_BUILDS, path_parameters={"api_version": 1},
        body={"scmurl": scmurl("third"), "branch": "main"},
    )  # fmt: skip
    _expect(
        fuzzer, 200, "PATCH", RIDA_BUILD, path_parameters={"module_build_id": other["id"]},
        body={"state": "failed"},
    )  # fmt: skip
    _expect(
        fuzzer, 200, "PATCH", MBS_BUILD,
        path_parameters={"api_version": 1, "module_build_id": third["id"]},
        body={"state": "4"},
    )  # fmt: skip
    components = _expect(
        fuzzer, 200, "GET", MBS_COMPONENTS, path_parameters={"api_version": 2},
        query={"module_build": demo["id"], "per_page": 1},
    )  # fmt: skip
    dry_runs(fuzzer, git_world)
    return {
        "demo": demo["id"],
        "other": other["id"],
        "third": third["id"],
        "component": components["items"][0]["id"],
    }


def dry_runs(fuzzer: Fuzzer, git_world: GitWorld) -> None:
    """Dry runs that pass (a build to create, the canceled ``other`` to
    start over), on both APIs; they record nothing."""
    git_world.module("dry", modulemd_text())
    dry = {"scmurl": git_world.scmurl("dry"), "branch": "main"}
    answer = _expect(
        fuzzer, 200, "POST", RIDA_BUILDS, query={"dry_run": "true"}, body=dry
    )
    assert answer["module_builds"][0]["action"] == "create"
    answer = _expect(
        fuzzer, 200, "POST", MBS_BUILDS, path_parameters={"api_version": 1},
        body={"scmurl": git_world.scmurl("other"), "branch": "main", "dry_run": True},
    )  # fmt: skip
    assert answer["module_builds"][0]["action"] == "resubmit"
    listed = _expect(fuzzer, 200, "GET", RIDA_BUILDS, query={"name": "dry"})
    assert listed == []


def seeded_cases(ids: dict[str, int]) -> Callable[[Any], list[Any]]:
    """For a GET of one build, the cases that reach the seeded ones, in each
    API version and detail; none for other operations."""

    def cases(operation: Any) -> list[Any]:
        path = operation.path
        if operation.method.upper() != "GET":
            return []
        if path in (RIDA_MODULEMD, MBS_FINAL):
            return document_cases(operation, ids)
        if not path.endswith("_id}"):
            return []
        if "{component_build_id}" in path:
            targets = [{"component_build_id": ids["component"]}]
        else:
            targets = [{"module_build_id": ids[k]} for k in ("demo", "other", "third")]
        if "{api_version}" not in path:
            return [operation.Case(path_parameters=t) for t in targets]
        return [
            operation.Case(path_parameters={**t, "api_version": v}, query=q)
            for t in targets
            for v in (1, 2)
            for q in ({}, {"verbose": "true"}, {"short": "1"})
        ]

    return cases


def document_cases(operation: Any, ids: dict[str, int]) -> list[Any]:
    """The final modulemds of the seeded builds: ``demo``'s (whole, an arch
    it has, one it lacks) and the others' 404s, in each API version."""
    targets = [{"module_build_id": ids[k]} for k in ("demo", "other")]
    if operation.path == MBS_FINAL:
        return [
            operation.Case(path_parameters={**t, "api_version": v})
            for t in targets
            for v in (1, 2)
        ]
    return [
        operation.Case(path_parameters=t, query=q)
        for t in targets
        for q in ({}, {"arch": "x86_64"}, {"arch": "ppc64le"})
    ]


def fuzz_daemon(base_url: str, git_world: GitWorld, dsn: str) -> FuzzReport:
    """Seed builds, then fuzz every operation (blocking: run in a thread)."""
    fuzzer = Fuzzer(base_url)
    try:
        ids = seed_builds(fuzzer, git_world, dsn)
        return fuzzer.run(seeded_cases(ids))
    finally:
        fuzzer.close()


@pytest_twisted.ensureDeferred
async def test_schemathesis_finds_no_server_error_and_no_answer_off_the_description(
    daemon: RunningDaemon,
    git_world: GitWorld,
    database_dsn: str,
    request: pytest.FixtureRequest,
) -> None:
    """Every operation of /rida/openapi.json, fuzzed in positive and negative
    mode with a fixed seed, answers no 5xx and nothing the description lacks."""
    report = await threads.deferToThread(
        fuzz_daemon, daemon.base_url, git_world, database_dsn
    )
    summary = report.summary()
    request.config.stash.setdefault(SUMMARIES, []).append(summary)
    assert report.requests > 0
    if report.findings:
        pytest.fail(f"{summary}\n\n{report.findings_text()}", pytrace=False)
