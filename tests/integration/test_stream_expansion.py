"""Stream expansion through the real daemon (makeService, real git server,
real PostgreSQL, kojisim over HTTP): ``platform: []`` over three base
modules becomes three siblings with the contexts MBS computes, each built to
ready on its own platform; a buildrequired stream with two ready builds
gives the newest compatible one; an override narrows the expansion."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest_twisted
import treq
import yaml
from twisted.internet import reactor

from ridad.db.pool import Pool
from tests.integration.kojiworld import KojiWorld
from tests.integration.support import (
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
#: The two imported platforms sharing the virtual stream el8 (f40 comes
#: from koji.base_module_tags).
EL8 = (("el8.1.0", 80100), ("el8.2.0", 80200))


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def mbs_context(buildrequires: dict[str, str], requires: dict[str, list[str]]) -> str:
    """MBS's ``contexts_from_mmd``: sha1 of the sorted JSON of the chosen
    buildrequire streams and of the runtime requires, then of both."""
    build = sha1(json.dumps(OrderedDict(sorted(buildrequires.items()))))
    runtime = sha1(
        json.dumps(OrderedDict(sorted((k, sorted(v)) for k, v in requires.items())))
    )
    return sha1(f"{build}:{runtime}")[:8]


def platform_document(stream: str) -> str:
    """A base module an administrator imports, on its own Koji tag."""
    return yaml.safe_dump(
        {
            "document": "modulemd",
            "version": 2,
            "data": {
                "name": "platform", "stream": stream, "version": 1,
                "summary": stream, "description": "A base.",
                "license": {"module": ["MIT"]},
                "xmd": {"mbs": {"koji_tag": f"{stream}-build",
                                "virtual_streams": ["el8"]}},
            },
        }
    )  # fmt: skip


def python_document(version: int, platform: str) -> str:
    """python:3.12 built on ``platform``, as its final modulemd is imported."""
    return yaml.safe_dump(
        {
            "document": "modulemd",
            "version": 2,
            "data": {
                "name": "python", "stream": "3.12", "version": version,
                "context": f"c{version:07d}", "summary": "Python",
                "description": "Python.", "license": {"module": ["MIT"]},
                "dependencies": [{"buildrequires": {"platform": [platform]},
                                  "requires": {"platform": [platform]}}],
                "xmd": {"mbs": {
                    "koji_tag": f"module-python-3.12-{version}",
                    "commit": f"{version:040x}",
                    "buildrequires": {"platform": {
                        "stream": platform, "version": "1",
                        "context": "00000000", "koji_tag": f"{platform}-build",
                        "filtered_rpms": []}},
                }},
            },
        }
    )  # fmt: skip


async def import_module(daemon: RunningDaemon, text: str) -> None:
    response = await treq.post(
        daemon.url("/module-build-service/2/import-module/"),
        data=json.dumps({"modulemd": text}).encode(),
        headers=JSON,
    )
    answer = await json_of(response)
    assert response.code == 201, answer


async def expansion_daemon(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld, tmp_path: Path
) -> RunningDaemon:
    """A daemon on kojisim with platform:f40 configured and el8.1.0, el8.2.0
    imported (their tags exist in kojisim)."""
    for stream, _ in EL8:
        await koji_world.client.call("createTag", f"{stream}-build", arches="x86_64")
    config = daemon_config(
        database_dsn, git_world, tmp_path / "state",
        koji=koji_config(koji_world.url),
        auth={"method": "none", "import_allowed_users": ["<anonymous>"]},
    )  # fmt: skip
    daemon = await start_daemon(config, tmp_path / "ridad.yaml")
    for stream, _ in EL8:
        await import_module(daemon, platform_document(stream))
    return daemon


async def post(daemon: RunningDaemon, git_world: GitWorld, **body: Any) -> Any:
    response = await treq.post(
        daemon.url("/rida/module-builds/"),
        data=json.dumps({"scmurl": git_world.scmurl("demo"), **body}).encode(),
        headers=JSON,
    )
    return response.code, await json_of(response)


def demo(buildrequires: dict[str, list[str]], requires: dict[str, list[str]]) -> str:
    """The demo module (one component) with one dependencies entry."""
    return modulemd_text(
        {"alpha": {"rationale": "the one"}},
        extra={
            "dependencies": [{"buildrequires": buildrequires, "requires": requires}]
        },
    )


@pytest_twisted.ensureDeferred
async def test_every_platform_expands_into_siblings_that_build_on_their_own(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld, tmp_path: Path
) -> None:
    """platform: [] gives three siblings (same name and stream), each with
    MBS's context and its platform's version prefix; each reaches ready in a
    -build tag inheriting its own platform's tag, with a %dist of its own."""
    git_world.module("demo", demo({"platform": []}, {"platform": []}))
    daemon = await expansion_daemon(database_dsn, git_world, koji_world, tmp_path)
    try:
        code, answer = await post(daemon, git_world)
        assert code == 201, answer
        assert len(answer["ids"]) == 3 and answer["id"] == answer["ids"][0]
        done = [
            await wait_for_state(daemon, i, ("ready", "failed"), timeout_seconds=120)
            for i in answer["ids"]
        ]
    finally:
        await daemon.service.stopService()
    assert [b["state"] for b in done] == ["ready"] * 3, done
    by_context = {b["context"]: b for b in done}
    for stream, prefix in (*EL8, ("f40", 40)):
        build = by_context[mbs_context({"platform": stream}, {"platform": [stream]})]
        assert (build["name"], build["stream"]) == ("demo", "main")
        assert build["version"].startswith(str(prefix))
        tag = build["koji_tag"]
        parents = await koji_world.client.call("getInheritanceData", f"{tag}-build")
        assert [p["name"] for p in parents] == [f"{stream}-build"]
        extra = (await koji_world.client.call("getTag", f"{tag}-build"))["extra"]
        assert extra["rpm.macro.dist"].startswith(f".module+{stream}+{build['id']}+")


@pytest_twisted.ensureDeferred
async def test_the_newest_compatible_build_of_a_stream_is_chosen(
    database_dsn: str, git_world: GitWorld, koji_world: KojiWorld, tmp_path: Path
) -> None:
    """python:3.12 has builds 1 and 2 on el8.1.0 and 3 on el8.2.0: on
    platform el8.1.0 the newest compatible is 2 (3 is built on a newer
    platform), recorded with its tag and its xmd commit as ref; the override
    platform: [el8.2.0] of a [] module gives the one sibling on el8.2.0."""
    git_world.module(
        "demo",
        demo({"platform": [], "python": ["3.12"]}, {"platform": [], "python": []}),
    )
    daemon = await expansion_daemon(database_dsn, git_world, koji_world, tmp_path)
    pool = Pool(dsn=database_dsn, reactor=reactor)
    await pool.start()
    try:
        for version, platform in ((1, "el8.1.0"), (2, "el8.1.0"), (3, "el8.2.0")):
            await import_module(daemon, python_document(version, platform))
        code, answer = await post(
            daemon, git_world, buildrequire_overrides={"platform": ["el8.1.0"]}
        )
        assert code == 201, answer
        [chosen] = await pool.run_query(
            "SELECT buildrequires FROM module_builds WHERE id = %s", (answer["id"],)
        )
        code, other = await post(
            daemon, git_world, buildrequire_overrides={"platform": ["el8.2.0"]}
        )
        assert code == 201, other
        [newer] = await pool.run_query(
            "SELECT buildrequires FROM module_builds WHERE id = %s", (other["id"],)
        )
    finally:
        await pool.close()
        await daemon.service.stopService()
    assert answer["ids"] == [answer["id"]]
    python = chosen["buildrequires"]["python"]
    assert (python["version"], python["koji_tag"]) == ("2", "module-python-3.12-2")
    assert python["ref"] == f"{2:040x}"
    assert chosen["buildrequires"]["platform"]["stream"] == "el8.1.0"
    assert newer["buildrequires"]["python"]["version"] == "3"
    assert newer["buildrequires"]["platform"]["stream"] == "el8.2.0"
