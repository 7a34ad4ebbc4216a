"""The MBS-compatible API under /module-build-service/1/ and /2/: fedpkg's
first request (about/), paths and methods the API does not have, and module
build submissions, replayed against a real daemon, real git and real
PostgreSQL.

Reading and cancelling builds, listing them and component builds are in the
other test_mbs_api_* modules.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_twisted
import treq

from ridad import __version__
from tests.integration.mbs_client import (
    KERBEROS_HEADERS,
    MBS,
    OIDC_HEADERS,
    assert_error,
    get_json,
    send,
    submit,
)
from tests.integration.support import GitWorld, RunningDaemon, json_of, modulemd_text


@pytest.mark.parametrize("path", ["/1/about/", "/1/about", "/2/about/", "/2/about"])
@pytest_twisted.ensureDeferred
async def test_about_names_version_api_version_and_auth_method(
    daemon: RunningDaemon, path: str
) -> None:
    """GET about/ (fedpkg's first request) answers the version, 2 and the auth method."""
    body = await get_json(daemon, MBS + path)
    assert body == {"version": __version__, "api_version": 2, "auth_method": "none"}


@pytest_twisted.ensureDeferred
async def test_unknown_api_versions_and_paths_are_404_json(
    daemon: RunningDaemon,
) -> None:
    """Versions other than 1 and 2, and unknown paths, are 404 with a JSON body."""
    for path in (
        "/3/about/",
        "/0/module-builds/",
        "/99/module-builds/1",
        "/v2/about/",
        "/2/nothing/",
        "",
        "/",
    ):
        body = await get_json(daemon, MBS + path, status=404)
        assert_error(body, 404)
    body = await get_json(daemon, f"{MBS}/3/about/", status=404)
    assert "/module-build-service/2/" in body["message"]


@pytest_twisted.ensureDeferred
async def test_fedpkg_oidc_submission_to_v2_answers_a_list_of_builds(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """POST .../2/module-builds/ with Content-Type JSON answers 201 with [build]."""
    commit = git_world.module("demo", modulemd_text())
    fields = {"scmurl": git_world.scmurl("demo", commit), "branch": "main"}
    response = await send(
        daemon,
        "POST",
        f"{MBS}/2/module-builds/",
        {**fields, "scratch": False},
        OIDC_HEADERS,
    )
    body = await json_of(response)
    assert response.code == 201, body
    assert isinstance(body, list) and len(body) == 1
    build = body[0]
    assert (build["name"], build["stream"], build["state"], build["state_name"]) == (
        "demo",
        "main",
        0,
        "init",
    )
    assert build["scratch"] is False
    assert build["state_url"] == f"{MBS}/2/module-builds/{build['id']}"
    assert response.headers.getRawHeaders(b"location") == [build["state_url"].encode()]


@pytest_twisted.ensureDeferred
async def test_fedpkg_kerberos_submission_without_content_type_to_v1_answers_the_build(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """POST .../1/module-builds/ with no Content-Type answers 201 with the build itself."""
    git_world.module("demo", modulemd_text())
    fields = {"scmurl": git_world.scmurl("demo"), "branch": "main", "scratch": False}
    response = await send(
        daemon, "POST", f"{MBS}/1/module-builds/", fields, KERBEROS_HEADERS
    )
    body = await json_of(response)
    assert response.code == 201, body
    assert isinstance(body, dict)
    assert body["state_name"] == "init"
    assert body["owner"] == "<anonymous>"
    assert body["state_url"] == f"{MBS}/1/module-builds/{body['id']}"
    assert "modulemd" in body


@pytest_twisted.ensureDeferred
async def test_srpms_without_scratch_are_403(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """srpms on a build that is not a scratch build are refused with 403 (as
    MBS does) and nothing is recorded."""
    git_world.module("demo", modulemd_text())
    fields = {
        "scmurl": git_world.scmurl("demo"),
        "branch": "main",
        "srpms": ["cli-build/1.abc/demo.src.rpm"],
    }
    response = await send(
        daemon, "POST", f"{MBS}/2/module-builds/", fields, OIDC_HEADERS
    )
    body = await json_of(response)
    assert response.code == 403
    assert_error(body, 403)
    assert "srpms may only be specified for scratch builds" in body["message"]
    listing = await get_json(daemon, f"{MBS}/2/module-builds/")
    assert listing["meta"]["total"] == 0


@pytest_twisted.ensureDeferred
async def test_commit_not_on_the_branch_is_400(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """A commit that is not on the given branch is a 400 naming both, and nothing is recorded."""
    git_world.module("demo", modulemd_text())
    elsewhere = git_world.module(
        "demo", modulemd_text(extra={"description": "Elsewhere."}), branch="feature"
    )
    fields = {"scmurl": git_world.scmurl("demo", elsewhere), "branch": "main"}
    response = await send(
        daemon, "POST", f"{MBS}/2/module-builds/", fields, OIDC_HEADERS
    )
    body = await json_of(response)
    assert response.code == 400, body
    assert_error(body, 400)
    assert elsewhere in body["message"]
    assert "not on branch main" in body["message"]
    listing = await get_json(daemon, f"{MBS}/2/module-builds/")
    assert listing["meta"]["total"] == 0


@pytest_twisted.ensureDeferred
async def test_older_commit_of_the_branch_is_accepted(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """A commit in the branch's history (not its tip) passes the branch check."""
    older = git_world.module("demo", modulemd_text())
    git_world.module("demo", modulemd_text(extra={"description": "Newer."}))
    build = await submit(
        daemon,
        git_world,
        scmurl=git_world.scmurl("demo", older),
        branch="main",
        scratch=False,
    )
    assert build["scmurl"].endswith(older)


@pytest.mark.parametrize(
    ("body", "mentioned"),
    [
        ({"branch": "main"}, "scmurl"),
        ({"scmurl": "git://h/modules/demo.git?#main"}, "branch"),
        (
            {"scmurl": "x", "branch": "main", "rebuild_strategy": 5},
            "rebuild_strategy",
        ),
        ({"scmurl": "x", "branch": "main", "scratch": "maybe"}, "scratch"),
        ({"scmurl": 1, "branch": "main"}, "scmurl"),
        (b"scmurl=x&branch=main", "JSON"),
        ([], "JSON object"),
    ],
)
@pytest_twisted.ensureDeferred
async def test_bad_submissions_are_400_naming_the_problem(
    daemon: RunningDaemon, body: Any, mentioned: str
) -> None:
    """Missing, unknown or mistyped fields and non-JSON bodies are 400s that say which."""
    response = await send(daemon, "POST", f"{MBS}/2/module-builds/", body, OIDC_HEADERS)
    error = await json_of(response)
    assert response.code == 400, error
    assert_error(error, 400)
    assert mentioned in error["message"]


@pytest_twisted.ensureDeferred
async def test_unimplemented_methods_are_501_json(daemon: RunningDaemon) -> None:
    """DELETE or PUT on MBS paths are 501 with a JSON body, as on /rida/."""
    for method, path in (
        ("DELETE", "/2/module-builds/1"),
        ("PUT", "/2/module-builds/"),
        ("POST", "/2/component-builds/"),
    ):
        response = await treq.request(method, daemon.url(MBS + path))
        body = await json_of(response)
        assert response.code == 501, (method, path)
        assert_error(body, 501)
