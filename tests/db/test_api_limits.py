"""The submission bounds past the database check: a module with exactly
``api.max_components`` components goes on to its component checks, and all
git questions of one submission share one requester. Real PostgreSQL, the
in-memory git of ``tests/unit/api/support.py``, recording its questions."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest_twisted
from twisted.internet import reactor

from ridad.api.auth import ANONYMOUS
from ridad.config.model import ApiConfig, ScmConfig
from ridad.db.pool import Pool
from tests.db.test_api_handlers import call
from tests.unit.api.support import CONFIG, GIT, Apps, make_apps, modulemd

RIDA = "http://ridad/rida/module-builds/"


def _recording(apps: Apps) -> list[tuple[str, str, Any]]:
    """Make the in-memory git record (question, url, requester)."""
    questions: list[tuple[str, str, Any]] = []
    git = apps.git
    for name in ("resolve_ref", "fetch_file", "has_file", "branch_contains"):
        original = getattr(git, name)

        async def recorded(
            location: Any, *args: Any, _name: str = name, _f: Any = original, **kw: Any
        ) -> Any:
            questions.append((_name, location.url, kw.get("requester")))
            return await _f(location, *args, **kw)

        setattr(git, name, recorded)
    return questions


def _module(apps: Apps, count: int) -> dict[str, str]:
    """Commit module ``big`` with ``count`` components, each with its SPEC."""
    names = tuple(f"c{index:04d}" for index in range(count))
    for name in names:
        apps.git.add(f"{GIT}/rpms/{name}", {f"{name}.spec": b"Name: x\n"})
    apps.git.add(f"{GIT}/modules/big.git", {"big.yaml": modulemd(names)})
    return {"scmurl": f"{GIT}/modules/big.git?#main", "branch": "main"}


@pytest_twisted.ensureDeferred
async def test_exactly_the_cap_is_accepted(pool: Pool) -> None:
    """With api.max_components 3, three components are checked and recorded."""
    config = replace(CONFIG, api=ApiConfig(max_components=3))
    apps = make_apps(pool, clock=reactor, config=config)
    code, body, _ = await call(apps.rida, "POST", RIDA, _module(apps, 3))
    assert code == 201, body
    assert [c["name"] for c in body["components"]] == ["c0000", "c0001", "c0002"]


@pytest_twisted.ensureDeferred
async def test_every_question_of_a_submission_shares_one_requester(
    pool: Pool,
) -> None:
    """The modulemd and each component are asked for the owner, with one budget of scm.max_fetch_bytes."""
    scm = replace(CONFIG.scm, max_fetch_bytes=123456)
    assert isinstance(scm, ScmConfig)
    apps = make_apps(pool, clock=reactor, config=replace(CONFIG, scm=scm))
    questions = _recording(apps)
    code, body, _ = await call(apps.rida, "POST", RIDA, _module(apps, 2))
    assert code == 201, body
    assert sorted(q for q, _, _ in questions) == [
        "fetch_file",
        "has_file",
        "has_file",
        "resolve_ref",
        "resolve_ref",
        "resolve_ref",
    ]
    requesters = {id(requester) for _, _, requester in questions}
    assert len(requesters) == 1
    requester = questions[0][2]
    assert requester.submitter == ANONYMOUS
    assert requester.budget.limit_bytes == 123456
