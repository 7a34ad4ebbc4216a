"""Stream expansion through the /rida/ and MBS apps against real PostgreSQL:
a submission becomes one build per dependency combination (MSE siblings)
with the contexts MBS's formulas give, computed here independently
(sha1 of the sorted JSON, as MBS's ``contexts_from_mmd``)."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest_twisted
from psycopg2.extras import Json
from twisted.internet import reactor

from ridad.config.model import KojiConfig
from ridad.db.pool import Pool
from tests.db.test_api_handlers import call
from tests.unit.api.support import CONFIG, Apps, make_apps, module_repository, modulemd

RIDA = "http://ridad/rida/module-builds/"
MBS = "http://ridad/module-build-service/2/module-builds/"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
#: platform:el8.1.0 and el8.2.0 share the virtual stream el8; f40 stands alone.
PLATFORMS = (
    ("el8.1.0", 80100.0, ["el8"]),
    ("el8.2.0", 80200.0, ["el8"]),
    ("f40", 400000.0, []),
)


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def mbs_context(buildrequires: dict[str, str], requires: dict[str, list[str]]) -> str:
    """MBS's context: build and runtime hashes of the sorted JSON."""
    build = sha1(json.dumps(OrderedDict(sorted(buildrequires.items()))))
    runtime = sha1(
        json.dumps(OrderedDict(sorted((k, sorted(v)) for k, v in requires.items())))
    )
    return sha1(f"{build}:{runtime}")[:8]


async def ready_build(
    pool: Pool, name: str, stream: str, version: int, **columns: Any
) -> int:
    """Record a ready build as an import would (or a finished build)."""
    values: dict[str, Any] = {
        "name": name, "stream": stream, "version": version,
        "context": columns.pop("context", "00000000"), "state": "ready",
        "owner": "admin", "scmurl": "", "scm_commit": "", "modulemd": "",
        "build_context": "", "runtime_context": "", "time_submitted": NOW,
        "time_modified": NOW, "imported": True,
        "buildrequires": Json(columns.pop("buildrequires", {})),
        "requires": Json(columns.pop("requires", {})), **columns,
    }  # fmt: skip
    rows = await pool.run_query(
        f"INSERT INTO module_builds ({', '.join(values)}) VALUES"
        f" ({', '.join(['%s'] * len(values))}) RETURNING id",
        tuple(values.values()),
    )
    return int(rows[0]["id"])


async def platforms(pool: Pool) -> None:
    for stream, version, virtual in PLATFORMS:
        await ready_build(
            pool, "platform", stream, 0, koji_tag=f"{stream}-build",
            stream_version=version, virtual_streams=virtual,
        )  # fmt: skip


def dependencies(*entries: tuple[dict[str, list[str]], dict[str, list[str]]]) -> Any:
    return [{"buildrequires": b, "requires": r} for b, r in entries]


async def submit(
    apps: Apps, entries: Any, url: str = RIDA, **body: Any
) -> tuple[int, Any]:
    text = modulemd(dependencies=entries)
    scmurl = module_repository(apps.git, "demo", text)
    code, answer, _ = await call(
        apps.rida if url == RIDA else apps.mbs, "POST", url,
        {"scmurl": scmurl, "branch": "main", **body},
    )  # fmt: skip
    return code, answer


async def siblings(apps: Apps, ids: list[int]) -> list[dict[str, Any]]:
    shown = []
    for module_build_id in ids:
        code, build, _ = await call(apps.rida, "GET", f"{RIDA}{module_build_id}")
        assert code == 200, build
        shown.append(build)
    return shown


def expected(streams: list[str]) -> dict[str, str]:
    """stream -> context of a module with platform: [] in both sections."""
    return {s: mbs_context({"platform": s}, {"platform": [s]}) for s in streams}


@pytest_twisted.ensureDeferred
async def test_platform_empty_list_expands_into_one_build_per_platform(
    pool: Pool,
) -> None:
    """platform: [] over three imported platforms gives three siblings: same
    name and stream, MBS's contexts, each version prefixed by its platform."""
    await platforms(pool)
    apps = make_apps(pool, clock=reactor)
    code, answer = await submit(
        apps, dependencies(({"platform": []}, {"platform": []}))
    )
    assert code == 201, answer
    assert len(answer["ids"]) == 3 and answer["id"] == answer["ids"][0]
    builds = await siblings(apps, answer["ids"])
    contexts = {b["context"]: b for b in builds}
    assert set(contexts) == set(expected(["el8.1.0", "el8.2.0", "f40"]).values())
    prefixes = {}
    for stream, context in expected(["el8.1.0", "el8.2.0", "f40"]).items():
        prefixes[stream] = contexts[context]["version"].removesuffix("20260101000000")
    assert prefixes == {"el8.1.0": "80100", "el8.2.0": "80200", "f40": "40"}
    assert {(b["name"], b["stream"], b["state"]) for b in builds} == {
        ("demo", "main", "init")
    }
    rows = await pool.run_query(
        "SELECT buildrequires FROM module_builds WHERE id = %s", (answer["ids"][0],)
    )
    platform = rows[0]["buildrequires"]["platform"]
    assert (platform["version"], platform["context"]) == ("0", "00000000")
    assert platform["koji_tag"].endswith("-build")


@pytest_twisted.ensureDeferred
async def test_an_excluded_stream_is_left_out(pool: Pool) -> None:
    """platform: [-f40] means every platform but f40."""
    await platforms(pool)
    apps = make_apps(pool, clock=reactor)
    entry = ({"platform": ["-f40"]}, {"platform": ["-f40"]})
    code, answer = await submit(apps, dependencies(entry))
    assert code == 201, answer
    builds = await siblings(apps, answer["ids"])
    streams = sorted(b["version"][:5] for b in builds)
    assert streams == ["80100", "80200"]


@pytest_twisted.ensureDeferred
async def test_alternatives_each_give_their_build(pool: Pool) -> None:
    """Two dependencies entries are two alternatives, one build each."""
    await platforms(pool)
    apps = make_apps(pool, clock=reactor)
    entries = dependencies(
        ({"platform": ["f40"]}, {"platform": ["f40"]}),
        ({"platform": ["el8.2.0"]}, {"platform": ["el8.2.0"]}),
    )
    code, answer = await submit(apps, entries)
    assert code == 201, answer
    assert len(answer["ids"]) == 2
    versions = sorted(b["version"][:2] for b in await siblings(apps, answer["ids"]))
    assert versions == ["40", "80"]


@pytest_twisted.ensureDeferred
async def test_the_newest_ready_build_of_a_buildrequired_stream_is_chosen(
    pool: Pool,
) -> None:
    """gtk:1 has two ready builds on platform:f40; the newer one is built against."""
    await platforms(pool)
    on_f40 = {"platform": {"stream": "f40", "version": "0", "context": "00000000"}}
    for version in (1, 2):
        await ready_build(
            pool, "gtk", "1", version, context="c0ffee00", koji_tag=f"module-gtk-{version}",
            buildrequires=on_f40, requires={"platform": ["f40"]}, imported=False,
        )  # fmt: skip
    apps = make_apps(pool, clock=reactor)
    entry = ({"gtk": ["1"], "platform": ["f40"]}, {"gtk": ["1"], "platform": ["f40"]})
    code, answer = await submit(apps, dependencies(entry))
    assert code == 201, answer
    (build,) = await siblings(apps, answer["ids"])
    assert build["context"] == mbs_context(
        {"gtk": "1", "platform": "f40"}, {"gtk": ["1"], "platform": ["f40"]}
    )
    rows = await pool.run_query(
        "SELECT buildrequires FROM module_builds WHERE id = %s", (build["id"],)
    )
    gtk = rows[0]["buildrequires"]["gtk"]
    assert (gtk["version"], gtk["koji_tag"]) == ("2", "module-gtk-2")


@pytest_twisted.ensureDeferred
async def test_overrides_replace_the_streams_and_mbs_answers_the_array(
    pool: Pool,
) -> None:
    """buildrequire_overrides {"platform": ["f40"]} narrows platform: [] to one
    build; the MBS API answers its array of builds."""
    await platforms(pool)
    apps = make_apps(pool, clock=reactor)
    entry = ({"platform": []}, {"platform": []})
    code, answer = await submit(
        apps, dependencies(entry), url=MBS,
        buildrequire_overrides={"platform": ["f40"]},
    )  # fmt: skip
    assert code == 201, answer
    assert isinstance(answer, list) and len(answer) == 1
    assert answer[0]["context"] == mbs_context({"platform": "f40"}, {"platform": []})


@pytest_twisted.ensureDeferred
async def test_nothing_satisfiable_is_422_and_a_bad_override_400(pool: Pool) -> None:
    """A platform nobody imported gives 422 naming it; an override of a module
    the modulemd does not name gives MBS's 400; either way nothing is recorded."""
    await platforms(pool)
    config = replace(CONFIG, koji=KojiConfig(hub="http://koji.invalid/kojihub"))
    apps = make_apps(pool, clock=reactor, config=config)
    code, answer = await submit(
        apps, dependencies(({"platform": ["f99"]}, {"platform": ["f99"]}))
    )
    assert code == 422, answer
    assert "platform" in answer["message"]
    entry = ({"platform": []}, {"platform": []})
    code, answer = await submit(
        apps, dependencies(entry), require_overrides={"gtk": ["1"]}
    )
    assert code == 400, answer
    assert "gtk" in answer["message"]
    rows = await pool.run_query(
        "SELECT count(*) AS n FROM module_builds WHERE name = 'demo'"
    )
    assert rows[0]["n"] == 0
