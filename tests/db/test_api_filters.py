"""MBS's list filters on what resolution records (ridad.api.mbs_filters),
through the MBS app on real PostgreSQL, and the v2 ``siblings`` field."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest_twisted
from twisted.internet import reactor

from ridad.config.model import KojiConfig
from ridad.db.pool import Pool
from tests.db.test_api_expansion import ready_build
from tests.db.test_api_handlers import call
from tests.unit.api.support import CONFIG, Apps, make_apps

V2 = "http://ridad/module-build-service/2/module-builds/"
V1 = "http://ridad/module-build-service/1/module-builds/"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
#: The same NVR but the marking: another module's RPM (and "_" is no wildcard).
OTHER = "alpha-1.0-1.module+el8_1_0+5+abcdef12"


def base(stream: str, version: int = 0) -> dict[str, Any]:
    return {"stream": stream, "version": str(version), "context": "00000000",
            "base_module": True}  # fmt: skip


async def world(pool: Pool) -> dict[str, int]:
    """el8.1.0 and el8.2.0 (virtual el8), f40; python:3.12 on el8.1.0;
    demo:main twice (siblings) on el8.1.0 and el8.2.0, demo's first
    sibling buildrequiring python, imported into Koji; one component."""
    ids = {}
    for stream, version, virtual in (
        ("el8.1.0", 80100.0, ["el8"]),
        ("el8.2.0", 80200.0, ["el8"]),
        ("f40", 400000.0, ["fedora"]),
    ):
        ids[stream] = await ready_build(
            pool, "platform", stream, 0, stream_version=version,
            virtual_streams=virtual,
        )  # fmt: skip
    ids["python"] = await ready_build(
        pool, "python", "3.12", 1, buildrequires={"platform": base("el8.1.0")}
    )
    python = {"stream": "3.12", "version": "1", "context": "00000000"}
    ids["demo1"] = await ready_build(
        pool, "demo", "main", 7, context="aaaaaaaa", cg_state="imported",
        buildrequires={"platform": base("el8.1.0"), "python": python},
    )  # fmt: skip
    ids["demo2"] = await ready_build(
        pool, "demo", "main", 7, context="bbbbbbbb",
        buildrequires={"platform": base("el8.2.0")},
    )  # fmt: skip
    await pool.run_query(
        "INSERT INTO component_builds (module_build_id, name, type, package,"
        " repository, ref, scm_commit, batch, state, nvr, time_modified)"
        " VALUES (%s, 'alpha', 'rpms', 'alpha', 'r', 'main', 'c', 2, 'complete',"
        " 'alpha-1.0-1.module+el8.1.0+5+abcdef12', %s) RETURNING id",
        (ids["demo1"], NOW),
    )
    return ids


async def found(apps: Apps, query: str, url: str = V2) -> list[int]:
    code, body, _ = await call(apps.mbs, "GET", f"{url}?{query}")
    assert code == 200, body
    return sorted(item["id"] for item in body["items"])


async def refused(apps: Apps, query: str) -> str:
    code, body, _ = await call(apps.mbs, "GET", f"{V2}?{query}")
    assert code == 400, body
    return body["message"]


@pytest_twisted.ensureDeferred
async def test_base_module_buildrequire_filters(pool: Pool) -> None:
    """By the base module's NSVC, name, stream and stream version range."""
    ids = await world(pool)
    apps = make_apps(pool, clock=reactor)
    assert await found(apps, "base_module_br=platform:el8.1.0:0:00000000") == sorted(
        [ids["python"], ids["demo1"]]
    )
    assert await found(apps, "base_module_br_name=platform") == sorted(
        [ids["python"], ids["demo1"], ids["demo2"]]
    )
    assert await found(apps, "base_module_br_stream=el8.2.0") == [ids["demo2"]]
    assert await found(apps, "base_module_br_stream_version_gte=80200") == [
        ids["demo2"]
    ]
    assert await found(apps, "base_module_br_stream_version_lte=80100&name=demo") == [
        ids["demo1"]
    ]
    assert "name:stream:version:context" in await refused(
        apps, "base_module_br=platform:el8"
    )
    assert "must be a number" in await refused(
        apps, "base_module_br_stream_version_lte=el8"
    )


@pytest_twisted.ensureDeferred
async def test_virtual_stream_and_buildrequires_filters(pool: Pool) -> None:
    """virtual_stream: base modules offering any; buildrequires: all of."""
    ids = await world(pool)
    apps = make_apps(pool, clock=reactor)
    assert await found(apps, "virtual_stream=el8") == sorted(
        [ids["el8.1.0"], ids["el8.2.0"]]
    )
    assert await found(apps, "virtual_stream=el8&virtual_stream=fedora") == sorted(
        [ids["el8.1.0"], ids["el8.2.0"], ids["f40"]]
    )
    assert await found(apps, "buildrequires=python") == [ids["demo1"]]
    assert await found(apps, "buildrequires=python:3.12&buildrequires=platform") == [
        ids["demo1"]
    ]
    assert await found(apps, "buildrequires=python:3.11") == []
    assert "name or name:stream" in await refused(apps, "buildrequires=python:")


@pytest_twisted.ensureDeferred
async def test_rpm_and_cg_tag_filters(pool: Pool) -> None:
    """rpm: the module whose component built that version-release (NVR,
    with an epoch or an arch); cg_build_koji_tag: imported builds when it
    is koji.cg_tag, nothing for another tag."""
    ids = await world(pool)
    koji = KojiConfig(hub="http://kojihub.test/kojihub", cg_tag="modular-updates")
    apps = make_apps(pool, clock=reactor, config=replace(CONFIG, koji=koji))
    for rpm in (
        "alpha-1.0-1.module+el8.1.0+5+abcdef12",
        "alpha-devel-0:1.0-1.module+el8.1.0+5+abcdef12",
        "alpha-libs-1.0-1.module+el8.1.0+5+abcdef12.x86_64",
    ):
        assert await found(apps, f"rpm={quote(rpm)}") == [ids["demo1"]]
    assert await found(apps, f"rpm={quote(OTHER)}") == []
    assert "NVR" in await refused(apps, "rpm=alpha")
    assert await found(apps, "cg_build_koji_tag=modular-updates") == [ids["demo1"]]
    assert await found(apps, "cg_build_koji_tag=elsewhere") == []


@pytest_twisted.ensureDeferred
async def test_v2_verbose_shows_siblings(pool: Pool) -> None:
    """Verbose v2 names the other contexts of the same name, stream and
    version; v1 and the default view do not."""
    ids = await world(pool)
    apps = make_apps(pool, clock=reactor)
    code, body, _ = await call(apps.mbs, "GET", f"{V2}{ids['demo1']}?verbose=true")
    assert code == 200 and body["siblings"] == [ids["demo2"]]
    code, body, _ = await call(apps.mbs, "GET", f"{V2}?name=demo&verbose=true")
    assert {b["id"]: b["siblings"] for b in body["items"]} == {
        ids["demo1"]: [ids["demo2"]],
        ids["demo2"]: [ids["demo1"]],
    }
    code, body, _ = await call(apps.mbs, "GET", f"{V1}{ids['demo1']}?verbose=true")
    assert "siblings" not in body
    code, body, _ = await call(apps.mbs, "GET", f"{V2}{ids['demo1']}")
    assert "siblings" not in body
