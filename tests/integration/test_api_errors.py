"""Every status code of the contract, triggered through HTTP."""

from __future__ import annotations

import json

import pytest
import pytest_twisted
import treq
import yaml

from tests.integration.support import GitWorld, RunningDaemon, json_of, modulemd_text

JSON = {b"Content-Type": [b"application/json"]}


async def post(daemon: RunningDaemon, body: object, path: str = "/rida/module-builds/"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await treq.post(daemon.url(path), data=data, headers=JSON)


async def expect_error(response, status: int) -> dict:
    body = await json_of(response)
    assert response.code == status, body
    assert body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in json.dumps(body)
    return body


@pytest.mark.parametrize(
    "raw, field",
    [
        (b"{not json", None),
        (b"[1, 2]", None),
        (json.dumps({"scmurl": 5}).encode(), "scmurl"),
        (json.dumps({}).encode(), "scmurl"),
        (
            json.dumps({"scmurl": "git://x/y.git?#main", "colour": "red"}).encode(),
            "colour",
        ),
        (json.dumps({"scmurl": "not a url"}).encode(), None),
        (json.dumps({"scmurl": "git://127.0.0.1/modules/demo.git"}).encode(), None),
        (b"\xff\xfe", None),
    ],
    ids=[
        "malformed",
        "not-object",
        "wrong-type",
        "missing",
        "unknown-field",
        "unparseable-scmurl",
        "no-ref",
        "not-utf8",
    ],
)
@pytest_twisted.ensureDeferred
async def test_bad_request_bodies_are_400(
    daemon: RunningDaemon, raw: bytes, field: str | None
) -> None:
    """Malformed JSON, wrong types, missing or unknown fields and bad scmurls are 400."""
    body = await expect_error(await post(daemon, raw), 400)
    assert body["error"] == "Bad Request"
    if field:
        assert field in body["message"]


@pytest.mark.parametrize(
    "scmurl",
    [
        "git://evil.example.org/modules/demo.git?#main",
        "https://127.0.0.1/modules/demo.git?#main",
        "file:///etc/modules/demo.git?#main",
    ],
)
@pytest_twisted.ensureDeferred
async def test_scmurl_outside_whitelist_is_403(
    daemon: RunningDaemon, scmurl: str
) -> None:
    """A module location outside scm.allowed is refused with 403."""
    await expect_error(await post(daemon, {"scmurl": scmurl}), 403)


@pytest_twisted.ensureDeferred
async def test_whitelist_bypasses_are_refused(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """Prefix, dot-segment and encoding tricks never reach git as allowed."""
    base = git_world.url("modules")
    for scmurl in (
        f"{base}-evil/demo.git?#main",
        f"{base}/../rpms/alpha.git?#main",
        f"{base}/%2e%2e/rpms/alpha.git?#main",
        base.replace("git://", "git://user@") + "/demo.git?#main",
        f"{base}/demo.git?#--upload-pack=touch",
    ):
        response = await post(daemon, {"scmurl": scmurl})
        body = await json_of(response)
        assert response.code in (400, 403), (scmurl, body)


@pytest_twisted.ensureDeferred
async def test_component_repository_outside_rpms_allowed_is_403(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """A component naming a repository outside rpms_allowed is refused with 403."""
    git_world.module(
        "demo",
        modulemd_text(
            {
                "alpha": {
                    "rationale": "x",
                    "repository": "git://evil.example.org/rpms/alpha.git",
                },
            }
        ),
    )
    body = await expect_error(
        await post(daemon, {"scmurl": git_world.scmurl("demo")}), 403
    )
    assert "alpha" in body["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/rida/module-builds/99999",
        "/rida/module-builds/10000000000000000000000",
        "/rida/nothing",
        "/nothing",  # "/" itself is the status page
        "/rida/module-builds/abc",
    ],
)
@pytest_twisted.ensureDeferred
async def test_unknown_ids_and_urls_are_404(daemon: RunningDaemon, path: str) -> None:
    """Unknown ids (even beyond the column's range) and URLs are JSON 404s."""
    body = await expect_error(await treq.get(daemon.url(path)), 404)
    assert body["error"] == "Not Found"


@pytest_twisted.ensureDeferred
async def test_non_utf8_path_is_json_400(daemon: RunningDaemon) -> None:
    """A path that is not UTF-8 gets a JSON 400, not Klein's plain text."""
    await expect_error(await treq.get(daemon.url("/rida/%ff")), 400)


@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH"])
@pytest_twisted.ensureDeferred
async def test_unimplemented_methods_are_501(
    daemon: RunningDaemon, method: str
) -> None:
    """Methods the URL does not implement answer 501 in JSON."""
    paths = ["/rida/module-builds/"]
    if method != "PATCH":  # PATCH of a build is cancel
        paths.append("/rida/module-builds/1")
    for path in paths:
        response = await treq.request(method, daemon.url(path), data=b"{}")
        body = await expect_error(response, 501)
        assert method in body["message"]


@pytest_twisted.ensureDeferred
async def test_body_over_limit_is_413(daemon: RunningDaemon) -> None:
    """A body larger than api.max_body_bytes is refused with 413."""
    huge = json.dumps({"scmurl": "x" * 70000}).encode()
    await expect_error(await post(daemon, huge), 413)


@pytest_twisted.ensureDeferred
async def test_broken_modulemd_is_422_saying_what_and_where(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """An invalid modulemd is 422 naming the problem and its line."""
    text = modulemd_text().replace("summary: A test module\n", "")
    text = text.replace("alpha:\n", "alpha:\n      buildorder: -x\n", 1)
    git_world.module("demo", text)
    body = await expect_error(
        await post(daemon, {"scmurl": git_world.scmurl("demo")}), 422
    )
    assert "line" in body["message"]


@pytest.mark.parametrize(
    "document, version",
    [("modulemd-packager", 3), ("modulemd-defaults", 1), ("modulemd", 3)],
)
@pytest_twisted.ensureDeferred
async def test_unsupported_document_types_are_422(
    daemon: RunningDaemon, git_world: GitWorld, document: str, version: int
) -> None:
    """Packager v3, defaults and unknown versions are 422 naming type and version."""
    git_world.module(
        "demo",
        yaml.safe_dump(
            {"document": document, "version": version, "data": {"module": "demo"}}
        ),
    )
    body = await expect_error(
        await post(daemon, {"scmurl": git_world.scmurl("demo")}), 422
    )
    assert document in body["message"]
    assert str(version) in body["message"]


@pytest_twisted.ensureDeferred
async def test_missing_modulemd_file_is_422(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """A repository without the modulemd file is 422 naming the file."""
    git_world.module("demo", modulemd_text())
    scmurl = git_world.url("modules/demo.git/other.yaml") + "?#main"
    body = await expect_error(await post(daemon, {"scmurl": scmurl}), 422)
    assert "other.yaml" in body["message"]


@pytest_twisted.ensureDeferred
async def test_missing_module_repository_and_ref_are_422(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """A missing repository or ref is 422 saying which."""
    git_world.module("demo", modulemd_text())
    await expect_error(await post(daemon, {"scmurl": git_world.scmurl("nosuch")}), 422)
    body = await expect_error(
        await post(daemon, {"scmurl": git_world.scmurl("demo", "nobranch")}), 422
    )
    assert "nobranch" in body["message"]


@pytest_twisted.ensureDeferred
async def test_every_failing_component_is_named(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """Missing repositories, refs and SPEC files are all listed in one 422."""
    git_world.rpm("nospec", spec=False)
    git_world.module(
        "demo",
        modulemd_text(
            {
                "alpha": {"rationale": "fine"},
                "ghost": {"rationale": "no repository"},
                "beta": {"rationale": "bad ref", "ref": "nosuchbranch"},
                "nospec": {"rationale": "no spec file"},
            }
        ),
    )
    body = await expect_error(
        await post(daemon, {"scmurl": git_world.scmurl("demo")}), 422
    )
    for name in ("ghost", "nosuchbranch", "nospec.spec"):
        assert name in body["message"]
    assert "alpha" not in body["message"]
    assert len(body["details"]["components"]) == 3


@pytest_twisted.ensureDeferred
async def test_unreachable_component_server_is_422_transient(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """A component whose git server is down is 422 that says to retry."""
    from tests.gitrepos import free_port

    dead = f"git://127.0.0.1:{free_port()}/rpms/"
    config = yaml.safe_load(daemon.config_path.read_text())
    config["scm"]["rpms_allowed"] = [dead]
    daemon.config_path.write_text(yaml.safe_dump(config))
    daemon.service.reload()
    git_world.module(
        "demo",
        modulemd_text(
            {
                "alpha": {"rationale": "down", "repository": dead + "alpha.git"},
            }
        ),
    )
    body = await expect_error(
        await post(daemon, {"scmurl": git_world.scmurl("demo")}), 422
    )
    assert "retry" in body["message"].lower()


@pytest.mark.parametrize(
    ("buildrequires", "expected"),
    [
        ({"platform": []}, "platform: [] stands for every stream"),
        ({"platform": ["-f39"]}, "platform: [-f39] stands for every stream"),
    ],
    ids=["all-streams", "negated"],
)
@pytest_twisted.ensureDeferred
async def test_streams_with_no_ready_build_are_422(
    daemon: RunningDaemon, git_world: GitWorld, buildrequires: dict, expected: str
) -> None:
    """Every stream, or every stream but some, with no base module build in
    ridad is 422 naming what could not be satisfied and what to do."""
    git_world.module("demo", modulemd_text(buildrequires=buildrequires))
    body = await expect_error(
        await post(daemon, {"scmurl": git_world.scmurl("demo")}), 422
    )
    assert expected in body["message"]
    assert "build or import platform first" in body["message"]


@pytest_twisted.ensureDeferred
async def test_two_named_streams_expand_into_two_builds(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """Two named platform streams are two siblings: ``id`` the first, ``ids`` both."""
    git_world.module("demo", modulemd_text(buildrequires={"platform": ["f39", "f40"]}))
    response = await post(daemon, {"scmurl": git_world.scmurl("demo")})
    assert response.code == 201
    body = await json_of(response)
    assert len(body["ids"]) == 2
    assert body["id"] == body["ids"][0]


@pytest_twisted.ensureDeferred
async def test_buildrequire_without_ready_build_is_422(
    daemon: RunningDaemon, git_world: GitWorld
) -> None:
    """A non-base buildrequire needs a ready build in ridad."""
    git_world.module(
        "demo", modulemd_text(buildrequires={"platform": ["f40"], "python": ["3.12"]})
    )
    body = await expect_error(
        await post(daemon, {"scmurl": git_world.scmurl("demo")}), 422
    )
    assert "python:3.12" in body["message"]


@pytest_twisted.ensureDeferred
async def test_maintenance_mode_is_503_except_health(
    daemon: RunningDaemon,
) -> None:
    """With maintenance on (reloaded by SIGHUP), everything but /health is 503."""
    config = yaml.safe_load(daemon.config_path.read_text())
    config["api"]["maintenance"] = True
    daemon.config_path.write_text(yaml.safe_dump(config))
    daemon.service.reload()
    response = await treq.get(daemon.url("/rida/module-builds/"))
    await expect_error(response, 503)
    assert response.headers.getRawHeaders(b"retry-after")
    health = await treq.get(daemon.url("/health"))
    assert health.code == 200
    await health.content()


@pytest_twisted.ensureDeferred
async def test_unexpected_error_is_500_with_error_id(
    daemon: RunningDaemon, pool
) -> None:
    """An unexpected failure is a generic 500 with an error id, never a traceback."""
    await pool.run_operation("ALTER TABLE module_builds RENAME COLUMN owner TO x")
    body = await expect_error(await treq.get(daemon.url("/rida/module-builds/")), 500)
    assert len(body["details"]["error_id"]) == 32
    assert "owner" not in body["message"]
