"""The component cap in the API handlers: too many components is refused
before any component's git question and before the database. StubTreq
in-process, an in-memory git that records its questions, a pool that never
connects (tests/db/test_api_limits.py has the cases that reach the
database)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from twisted.internet.task import Clock

from ridad.config.model import ApiConfig
from ridad.db.pool import Pool
from tests.helpers import result_of
from tests.unit.api.support import CONFIG, JSON, Apps, make_apps, modulemd

RIDA = "http://ridad/rida/module-builds/"
MBS = "http://ridad/module-build-service/1/module-builds/"


def _apps(max_components: int | None = None) -> Apps:
    """Both apps; the in-memory git records (question, url, requester)."""
    clock = Clock()
    config = CONFIG
    if max_components is not None:
        config = replace(CONFIG, api=ApiConfig(max_components=max_components))
    apps = make_apps(
        Pool(dsn="host=/nonexistent", reactor=clock, size=1),
        clock=clock,
        config=config,
    )
    git = apps.git
    questions: list[tuple[str, str, Any]] = []
    for name in ("resolve_ref", "fetch_file", "has_file", "branch_contains"):
        original = getattr(git, name)

        async def recorded(
            location: Any, *args: Any, _name: str = name, _f: Any = original, **kw: Any
        ) -> Any:
            questions.append((_name, location.url, kw.get("requester")))
            return await _f(location, *args, **kw)

        setattr(git, name, recorded)
    apps.questions = questions  # type: ignore[attr-defined]
    return apps


def _submit(apps: Apps, app: str, url: str, count: int) -> tuple[int, Any]:
    """Commit a module with ``count`` components (no component repository
    exists) and submit it; return status and body."""
    names = tuple(f"c{index:04d}" for index in range(count))
    apps.git.add("git://git.example.org/modules/big.git", {"big.yaml": modulemd(names)})
    body = {"scmurl": "git://git.example.org/modules/big.git?#main", "branch": "main"}
    response = result_of(
        getattr(apps, app).post(url, data=json.dumps(body).encode(), headers=JSON)
    )
    return response.code, result_of(response.json())


@pytest.mark.parametrize("app, url", [("rida", RIDA), ("mbs", MBS)])
def test_1001_components_are_refused_before_any_component_question(
    app: str, url: str
) -> None:
    """A modulemd with 1,001 components is 422 under the default cap; git was asked only for the modulemd."""
    apps = _apps()
    code, body = _submit(apps, app, url, 1001)
    assert code == 422
    assert body["details"] == {"component_count": 1001, "max_components": 1000}
    assert "1001 components" in body["message"]
    assert "api.max_components" in body["message"]
    questions = apps.questions  # type: ignore[attr-defined]
    assert [(q, u) for q, u, _ in questions] == [
        ("resolve_ref", "git://git.example.org/modules/big.git"),
        ("fetch_file", "git://git.example.org/modules/big.git"),
    ]


def test_a_configured_cap_counts_rpms_and_modules() -> None:
    """With api.max_components 3, a fourth component is refused the same way."""
    apps = _apps(max_components=3)
    code, body = _submit(apps, "rida", RIDA, 4)
    assert (code, body["details"]) == (
        422,
        {"component_count": 4, "max_components": 3},
    )
