"""POST /rida/module-builds/: verified submissions through real HTTP, a real
git daemon and real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest_twisted
import treq

from tests.integration.support import (
    GitWorld,
    RunningDaemon,
    daemon_config,
    json_of,
    modulemd_text,
    start_daemon,
)

JSON = {b"Content-Type": [b"application/json"]}


async def post(daemon: RunningDaemon, body: object, path: str = "/rida/module-builds/"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await treq.post(daemon.url(path), data=data, headers=JSON)


@pytest_twisted.ensureDeferred
async def test_submission_is_recorded_in_init_with_its_components(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """A valid submission answers 201 with Location, and GET shows it in init."""
    commit = git_world.module("demo", modulemd_text())
    response = await post(
        daemon, {"scmurl": git_world.scmurl("demo", commit), "branch": "main"}
    )
    body = await json_of(response)
    assert response.code == 201, body
    assert response.headers.getRawHeaders(b"location") == [
        f"/rida/module-builds/{body['id']}".encode()
    ]
    shown = await json_of(
        await treq.get(daemon.url(f"/rida/module-builds/{body['id']}"))
    )
    assert shown["state"] == "init"
    assert shown["name"] == "demo"
    assert shown["owner"] == "<anonymous>"
    assert shown["tasks"] == {"rpms/alpha": None, "rpms/beta": None, "rpms/gamma": None}
    assert [(c["name"], c["batch"], c["state"]) for c in shown["components"]] == [
        ("alpha", 2, "waiting"),
        ("beta", 2, "waiting"),
        ("gamma", 3, "waiting"),
    ]
    assert shown["components"][0]["commit"] == git_world.commits["alpha"]
    assert shown["components"][0]["ref"] == "main"
    assert body["ids"] == [body["id"]]
    own = {k: v for k, v in body.items() if k != "ids"}
    assert own == shown  # the POST answers the build as GET shows it, and ids


@pytest_twisted.ensureDeferred
async def test_branch_ref_gives_stream_and_prefixed_version(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """A branch ref names the stream; the version is platform prefix + commit time."""
    git_world.module(
        "demo", modulemd_text(), branch="rolling", date="2026-01-02T03:04:05+00:00"
    )
    response = await post(daemon, {"scmurl": git_world.scmurl("demo", "rolling")})
    body = await json_of(response)
    assert response.code == 201, body
    assert body["stream"] == "rolling"
    assert body["version"] == "4020260102030405"
    assert len(body["context"]) == 8


@pytest_twisted.ensureDeferred
async def test_commit_ref_without_branch_or_stream_is_422(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """A commit hash with no branch field and no stream in the document is 422."""
    commit = git_world.module("demo", modulemd_text())
    response = await post(daemon, {"scmurl": git_world.scmurl("demo", commit)})
    body = await json_of(response)
    assert response.code == 422
    assert "stream" in body["message"]


@pytest_twisted.ensureDeferred
async def test_commit_ref_with_stream_in_document_needs_the_stream_override(
    daemon: RunningDaemon, git_world: GitWorld, database_dsn: str, tmp_path: Path
) -> None:
    """A commit hash without ``branch`` has no stream: the document's is taken only
    under scm.allow_stream_override."""
    commit = git_world.module("demo", modulemd_text(extra={"stream": "2.0"}))
    submission = {"scmurl": git_world.scmurl("demo", commit)}
    response = await post(daemon, submission)
    body = await json_of(response)
    assert response.code == 422, body
    assert "no branch was given" in body["message"]
    config = daemon_config(
        database_dsn,
        git_world,
        tmp_path / "state-override",
        scm={"allow_stream_override": True},
    )
    overriding = await start_daemon(config, tmp_path / "override.yaml")
    try:
        response = await post(overriding, submission)
        body = await json_of(response)
        assert response.code == 201, body
        assert body["stream"] == "2.0"
    finally:
        await overriding.service.stopService()


@pytest_twisted.ensureDeferred
async def test_commit_to_repository_foo_cannot_build_module_bar(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """``name: bar`` in modules/foo.git is 422 on both APIs and nothing is recorded."""
    git_world.module("foo", modulemd_text(extra={"name": "bar"}))
    submission = {"scmurl": git_world.scmurl("foo"), "branch": "main"}
    for path in ("/rida/module-builds/", "/module-build-service/1/module-builds/"):
        response = await post(daemon, submission, path=path)
        body = await json_of(response)
        assert response.code == 422, body
        assert body["details"] == {
            "field": "data.name",
            "modulemd": "bar",
            "required": "foo",
        }
    listed = await treq.get(daemon.url("/rida/module-builds/"))
    assert await listed.json() == []


@pytest_twisted.ensureDeferred
async def test_branch_field_is_validated_like_a_ref(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """Bad ``branch`` values are 400 naming the field (they were a 500, or stored)."""
    git_world.module("demo", modulemd_text())
    for branch in ("a\u0000b", "\ud800", "--upload-pack=evil ../../x"):
        body = {"scmurl": git_world.scmurl("demo"), "branch": branch}
        response = await post(daemon, body)
        answer = await json_of(response)
        assert response.code == 400, (branch, answer)
        assert "branch" in answer["details"]["fields"]
    listed = await treq.get(daemon.url("/rida/module-builds/"))
    assert await listed.json() == []


@pytest_twisted.ensureDeferred
async def test_paths_work_with_and_without_trailing_slash(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """Both path forms are served directly, never redirected."""
    git_world.module("demo", modulemd_text())
    response = await post(
        daemon, {"scmurl": git_world.scmurl("demo")}, path="/rida/module-builds"
    )
    body = await json_of(response)
    assert response.code == 201, body
    for path in (
        f"/rida/module-builds/{body['id']}",
        f"/rida/module-builds/{body['id']}/",
        "/rida/module-builds",
        "/rida/module-builds/",
    ):
        got = await treq.get(daemon.url(path))
        assert got.code == 200, path
        await got.content()


@pytest_twisted.ensureDeferred
async def test_same_module_version_twice_is_409(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """Submitting an existing, unfailed NSVC again is a 409."""
    git_world.module("demo", modulemd_text())
    first = await post(daemon, {"scmurl": git_world.scmurl("demo")})
    assert first.code == 201
    await first.content()
    second = await post(daemon, {"scmurl": git_world.scmurl("demo")})
    body = await json_of(second)
    assert second.code == 409
    assert body["error"] == "Conflict"
    assert "already exists" in body["message"]


@pytest_twisted.ensureDeferred
async def test_failed_build_resubmitted_keeps_its_id(
    daemon: RunningDaemon, git_world: GitWorld, pool
) -> None:
    """A failed build submitted again answers 201 with the same id, in init."""
    git_world.module("demo", modulemd_text())
    first = await json_of(await post(daemon, {"scmurl": git_world.scmurl("demo")}))
    await pool.run_operation(
        "UPDATE module_builds SET state = 'failed' WHERE id = %s", (first["id"],)
    )
    response = await post(daemon, {"scmurl": git_world.scmurl("demo")})
    body = await json_of(response)
    assert response.code == 201
    assert body["id"] == first["id"]
    assert body["state"] == "init"


@pytest_twisted.ensureDeferred
async def test_creation_writes_trace_rows_and_one_module_message(
    daemon: RunningDaemon, git_world: GitWorld, pool
) -> None:
    """Creation writes a module trace row, one per component, and one message."""
    git_world.module("demo", modulemd_text())
    body = await json_of(await post(daemon, {"scmurl": git_world.scmurl("demo")}))
    trace = await pool.run_query(
        "SELECT component_build_id, old_state, new_state FROM state_trace"
        " WHERE module_build_id = %s ORDER BY id",
        (body["id"],),
    )
    assert [(t["component_build_id"] is None, t["new_state"]) for t in trace] == [
        (True, "init"),
        (False, "waiting"),
        (False, "waiting"),
        (False, "waiting"),
    ]
    messages = await pool.run_query(
        "SELECT msg_id::text AS msg_id, topic, body, sent FROM outbox"
        " WHERE module_build_id = %s",
        (body["id"],),
    )
    assert len(messages) == 1
    message = messages[0]
    assert message["topic"] == "module.state.change"
    assert message["sent"] is None
    assert message["body"]["msg_id"] == message["msg_id"]
    assert message["body"]["old_state"] is None
    shown = {
        k: v
        for k, v in message["body"].items()
        if k not in ("old_state", "msg_id", "timestamp")
    }
    assert body.pop("ids") == [body["id"]]
    assert shown == body
