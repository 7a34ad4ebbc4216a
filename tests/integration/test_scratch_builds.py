"""Trying a module without committing it for real: scratch builds (a
context of their own each time, scrmod- tags and dist, done without an
import into Koji), modulemds given in the body (JSON ``modulemd``, or a
multipart ``yaml`` file as fedpkg's ``--file`` sent it), allowed for
scratch builds always and for others only by configuration, and a
component built from an SRPM uploaded to Koji (fedpkg's ``--srpm``)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest_twisted
import treq

from ridad.koji.hub import KojiHub as TypedHub
from ridad.kojisim.views import decoded_request
from tests.integration.kojiworld import KojiWorld
from tests.integration.support import (
    SPEC_TEMPLATE,
    GitWorld,
    RunningDaemon,
    daemon_config,
    json_of,
    koji_config,
    modulemd_text,
    start_daemon,
    wait_for_state,
)

JSON = {b"Content-Type": [b"application/json"]}
MBS = "/module-build-service/2/module-builds/"
#: Two batches: alpha, then beta.
DEMO = modulemd_text(
    {
        "alpha": {"rationale": "first", "buildorder": 1},
        "beta": {"rationale": "second", "buildorder": 2},
    }
)


async def post(daemon: RunningDaemon, path: str, body: dict[str, Any]) -> Any:
    response = await treq.post(
        daemon.url(path), data=json.dumps(body).encode(), headers=JSON
    )
    return response.code, await json_of(response)


async def koji_daemon(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld, tmp_path: Path
) -> RunningDaemon:
    config = daemon_config(
        database_dsn, git_world, tmp_path / "state", koji=koji_config(koji_world.url)
    )
    return await start_daemon(config, tmp_path / "ridad.yaml")


def module_tasks(koji_world: KojiWorld) -> list[tuple[str, str]]:
    """(source, target) of every build task kojisim was given."""
    return [
        tuple(decoded_request(t)[:2])
        for t in koji_world.hub.tasks.values()
        if t.method == "build"
    ]


@pytest_twisted.ensureDeferred
async def test_a_scratch_build_twice_from_one_commit(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld, tmp_path: Path
) -> None:
    """The same commit built twice as scratch: contexts _1 and _2, scrmod-
    tags ending in +<id>, components with a .scrmod+ dist, both end in done
    (no import into Koji, no gating), neither satisfies a buildrequire."""
    git_world.rpm("alpha")
    git_world.rpm("beta")
    git_world.module("demo", DEMO)
    daemon = await koji_daemon(database_dsn, git_world, koji_world, tmp_path)
    try:
        builds = []
        for _ in range(2):
            code, answer = await post(
                daemon, MBS, {"scmurl": git_world.scmurl("demo"), "branch": "main",
                              "scratch": True},
            )  # fmt: skip
            assert code == 201, answer
            builds.append(answer[0])
        first, second = builds
        assert first["version"] == second["version"]
        base = first["context"].removesuffix("_1")
        assert (first["context"], second["context"]) == (f"{base}_1", f"{base}_2")
        assert first["scratch"] is True
        done = [
            await wait_for_state(daemon, b["id"], ("done", "ready", "failed"), 120)
            for b in builds
        ]
        documents = {
            b["id"]: await (
                await treq.get(daemon.url(f"/rida/module-builds/{b['id']}/modulemd"))
            ).text()
            for b in done
        }
        git_world.module("user", modulemd_text(buildrequires={"demo": ["main"],
                                                              "platform": ["f40"]}))  # fmt: skip
        code, refused = await post(
            daemon, "/rida/module-builds/", {"scmurl": git_world.scmurl("user")}
        )
    finally:
        await daemon.service.stopService()
    for build in done:
        assert build["state"] == "done", build
        assert build["koji_build_id"] is None
        tag = build["koji_tag"]
        assert tag == (
            f"scrmod-demo-main-{build['version']}-{build['context']}+{build['id']}"
        )
        assert await koji_world.client.call("getTag", f"{tag}-build")
        nvrs = [c["nvr"] for c in build["components"]]
        assert all(".scrmod+" in nvr for nvr in nvrs), nvrs
        assert build["time_completed"] is not None
        assert build["context"] in documents[build["id"]]
    targets = {target for _, target in module_tasks(koji_world)}
    assert targets == {b["koji_tag"] for b in done}
    assert code == 422, refused
    assert "demo" in refused["message"]


@pytest_twisted.ensureDeferred
async def test_modulemd_in_the_body_is_for_scratch_builds_unless_allowed(
    database_dsn: str, git_world: GitWorld, tmp_path: Path
) -> None:
    """A modulemd given in the body: 201 for a scratch build, 403 for a
    normal one, until builds.allow_yaml_submissions; the same validation as
    from git (422); the name from module_name, the stream from
    module_stream; as a multipart yaml file only with an Authorization
    header."""
    git_world.rpm("alpha")
    git_world.rpm("beta")
    document = {"modulemd": DEMO, "module_name": "tried", "module_stream": "x1"}
    daemon = await start_daemon(
        daemon_config(database_dsn, git_world, tmp_path / "a"), tmp_path / "a.yaml"
    )
    try:
        code, scratch = await post(daemon, MBS, {**document, "scratch": True})
        refused = await post(daemon, MBS, document)
        invalid = await post(
            daemon, MBS, {**document, "modulemd": "document: x\n", "scratch": True}
        )
        seed = await post(daemon, "/rida/module-builds/", {**document, "scratch": True})
        upload = multipart(DEMO, "uploaded.yaml", scratch="true")
        uploaded = await treq.post(
            daemon.url(MBS), data=upload[1],
            headers={b"Content-Type": [upload[0]], b"Authorization": [b"Bearer x"]},
        )  # fmt: skip
        unauthorized = await treq.post(
            daemon.url(MBS), data=upload[1], headers={b"Content-Type": [upload[0]]}
        )
        uploaded_body = await json_of(uploaded)
    finally:
        await daemon.service.stopService()
    assert code == 201, scratch
    [build] = scratch
    assert (build["name"], build["stream"], build["scratch"]) == ("tried", "x1", True)
    assert build["context"].endswith("_1")
    assert refused[0] == 403, refused
    assert "YAML submission is not enabled" in refused[1]["message"]
    assert invalid[0] == 422, invalid
    # Its version is stamped from the submission time: an _N of its own.
    assert seed[0] == 201 and seed[1]["scratch"] is True, seed
    assert uploaded.code == 201, uploaded_body
    assert uploaded_body[0]["name"] == "uploaded"
    assert unauthorized.code == 415
    allowed = await start_daemon(
        daemon_config(database_dsn, git_world, tmp_path / "b",
                      builds={"allow_yaml_submissions": True}),
        tmp_path / "b.yaml",
    )  # fmt: skip
    try:
        code, normal = await post(allowed, MBS, document)
    finally:
        await allowed.service.stopService()
    assert code == 201, normal
    assert normal[0]["scratch"] is False
    assert normal[0]["scmurl"] == ""


def multipart(text: str, filename: str, **fields: str) -> tuple[bytes, bytes]:
    """A multipart/form-data body with a ``yaml`` file and text fields, as
    python-requests' ``files=`` writes it; answer (Content-Type, body)."""
    boundary = "ridadtestboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="yaml";'
        f' filename="{filename}"\r\nContent-Type: application/x-yaml\r\n\r\n'
        f"{text}\r\n"
    )
    body = "".join(parts) + f"--{boundary}--\r\n"
    return f"multipart/form-data; boundary={boundary}".encode(), body.encode()


def build_srpm(name: str, work: Path) -> bytes:
    """An SRPM of the test package ``name``, made by rpmbuild."""
    spec = work / f"{name}.spec"
    spec.write_text(SPEC_TEMPLATE.format(name=name).replace("1.0-1", "1.0-1"))
    subprocess.run(
        ["rpmbuild", "-bs", "--define", f"_topdir {work}", "--define",
         f"_srcrpmdir {work}", "--define", f"_sourcedir {work}", str(spec)],
        check=True, capture_output=True,
    )  # fmt: skip
    [srpm] = work.glob(f"{name}-*.src.rpm")
    return srpm.read_bytes()


@pytest_twisted.ensureDeferred
async def test_a_scratch_component_from_an_uploaded_srpm(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld, tmp_path: Path
) -> None:
    """srpms: a component is built from the SRPM the client uploaded to
    cli-build/ (its repository need not exist in git); the others from git."""
    git_world.rpm("alpha")
    git_world.module("demo", DEMO)
    work = tmp_path / "srpm"
    work.mkdir()
    uploaded = await TypedHub(client=koji_world.client).upload(
        build_srpm("beta", work),
        path="cli-build/1764876543.abcdef",
        name="beta.src.rpm",
    )
    daemon = await koji_daemon(database_dsn, git_world, koji_world, tmp_path)
    try:
        code, answer = await post(
            daemon, MBS, {"scmurl": git_world.scmurl("demo"), "branch": "main",
                          "scratch": True, "srpms": [uploaded]},
        )  # fmt: skip
        assert code == 201, answer
        done = await wait_for_state(daemon, answer[0]["id"], ("done", "failed"), 120)
        bad = await post(
            daemon, MBS, {"scmurl": git_world.scmurl("demo"), "branch": "main",
                          "scratch": True, "srpms": ["cli-build/x/gamma.src.rpm"]},
        )  # fmt: skip
    finally:
        await daemon.service.stopService()
    assert done["srpms"] == [uploaded]
    assert done["state"] == "done", done
    beta = next(c for c in done["components"] if c["name"] == "beta")
    assert beta["state"] == "complete" and beta["nvr"].startswith("beta-1.0-1")
    sources = {source for source, _ in module_tasks(koji_world)}
    assert uploaded in sources
    assert not any("/rpms/beta" in s for s in sources)
    assert bad[0] == 422 and "gamma" in bad[1]["message"], bad
