"""The MBS-compatible API under /module-build-service/1/ and /2/: one module
build as fedpkg watches it (verbose, default and short shapes) and cancels
it, replayed against a real daemon, real git and real PostgreSQL.
"""

from __future__ import annotations

import re

import pytest
import pytest_twisted

from tests.integration.mbs_client import (
    KERBEROS_HEADERS,
    MBS,
    OIDC_HEADERS,
    assert_error,
    get_json,
    send,
    submit,
)
from tests.integration.support import GitWorld, RunningDaemon, json_of

TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


@pytest_twisted.ensureDeferred
async def test_fedpkg_watch_polls_the_verbose_build_until_it_fails(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """GET .../2/module-builds/N?verbose=true shows MBS's verbose build; polling stops at failed."""
    build_id = (await submit(daemon, git_world))["id"]
    path = f"{MBS}/2/module-builds/{build_id}?verbose=true"
    body = await get_json(daemon, path)
    assert body["state"] == 0 and body["state_name"] == "init"
    for key in ("time_submitted", "time_modified"):
        assert TIME.fullmatch(body[key])
    assert body["time_completed"] is None
    assert body["state_reason"] is None
    assert body["koji_tag"] is None
    assert body["version"].isdigit()
    assert len(body["component_builds"]) == 3
    assert body["component_builds"] == sorted(body["component_builds"])
    assert body["tasks"] == {
        "rpms": {
            name: {"task_id": None, "state": None, "state_reason": None, "nvr": None}
            for name in ("alpha", "beta", "gamma")
        }
    }
    assert "document: modulemd" in body["modulemd"]
    assert len(body["build_context"]) == 40 and len(body["runtime_context"]) == 40
    assert body["buildrequires"]["platform"]["stream"] == "f40"
    assert [(t["state"], t["state_name"]) for t in body["state_trace"]] == [(0, "init")]
    assert TIME.fullmatch(body["state_trace"][0]["time"])
    assert body["state_url"] == f"{MBS}/2/module-builds/{build_id}"
    cancel = await send(
        daemon,
        "PATCH",
        f"{MBS}/2/module-builds/{build_id}",
        {"state": "failed"},
        OIDC_HEADERS,
    )
    await cancel.content()
    polls = 0
    while body["state_name"] not in ("ready", "failed") and not (
        body["state_name"] == "done" and body["scratch"]
    ):
        polls += 1
        assert polls < 5
        body = await get_json(daemon, path)
    assert body["state"] == 4


@pytest_twisted.ensureDeferred
async def test_default_and_short_build_shapes(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """Without verbose a build has no modulemd or trace; short has only its identity."""
    build_id = (await submit(daemon, git_world))["id"]
    for version in (1, 2):
        default = await get_json(daemon, f"{MBS}/{version}/module-builds/{build_id}/")
        assert set(default) == {
            "id",
            "name",
            "stream",
            "version",
            "context",
            "state",
            "state_name",
            "state_reason",
            "owner",
            "scmurl",
            "koji_tag",
            "scratch",
            "time_submitted",
            "time_modified",
            "time_completed",
            "component_builds",
            "tasks",
            "rebuild_strategy",
            "srpms",
        }
    short = await get_json(daemon, f"{MBS}/2/module-builds/{build_id}?short=1")
    assert set(short) == {
        "id",
        "name",
        "stream",
        "version",
        "context",
        "state",
        "state_name",
        "scratch",
    }
    verbose_v1 = await get_json(daemon, f"{MBS}/1/module-builds/{build_id}?verbose=1")
    assert verbose_v1["state_url"] == f"{MBS}/1/module-builds/{build_id}"
    missing = await get_json(daemon, f"{MBS}/2/module-builds/4242", status=404)
    assert_error(missing, 404)
    bad = await get_json(daemon, f"{MBS}/2/module-builds/{build_id}?colour=red", 400)
    assert "colour" in bad["message"]


@pytest.mark.parametrize(
    ("version", "headers", "state"),
    [(2, OIDC_HEADERS, "failed"), (1, KERBEROS_HEADERS, "4")],
)
@pytest_twisted.ensureDeferred
async def test_fedpkg_cancel_fails_the_build_and_answers_it(
    daemon: RunningDaemon, git_world: GitWorld, version: int, headers: dict, state: str
) -> None:
    """PATCH module-builds/N {"state": "failed"} (or "4") cancels and answers the build."""
    build_id = (await submit(daemon, git_world))["id"]
    response = await send(
        daemon,
        "PATCH",
        f"{MBS}/{version}/module-builds/{build_id}",
        {"state": state},
        headers,
    )
    body = await json_of(response)
    assert response.code == 200, body
    assert (body["state"], body["state_name"]) == (4, "failed")
    assert body["state_reason"] == "Canceled by <anonymous>"
    assert TIME.fullmatch(body["time_completed"])
    assert [t["state_name"] for t in body["state_trace"]] == ["init", "failed"]
    again = await send(
        daemon,
        "PATCH",
        f"{MBS}/{version}/module-builds/{build_id}",
        {"state": state},
        headers,
    )
    assert_error(await json_of(again), 400)
    assert again.code == 400


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/2/module-builds/{id}", {"state": "ready"}, 400),
        ("/2/module-builds/{id}", {"state": 4}, 400),
        ("/2/module-builds/{id}", {"state": "failed", "reason": "x"}, 400),
        ("/2/module-builds/4242", {"state": "failed"}, 404),
        ("/2/module-builds/", {"state": "failed"}, 501),
    ],
)
@pytest_twisted.ensureDeferred
async def test_other_changes_are_refused(
    daemon: RunningDaemon, git_world: GitWorld, path: str, body: dict, status: int
) -> None:
    """Anything but a cancel of an existing build is refused with a JSON error."""
    build_id = (await submit(daemon, git_world))["id"]
    response = await send(
        daemon, "PATCH", MBS + path.format(id=build_id), body, OIDC_HEADERS
    )
    error = await json_of(response)
    assert response.code == status, error
    assert_error(error, status)
