"""A submission builds the module its SCM location names: the repository's
name, the branch as stream, no version of its own, a branch that is a safe
ref. Refused on both APIs before the database is asked (the pool never
connects)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from twisted.internet.task import Clock

from ridad.api.scm_identity import checked_branch, module_identity
from ridad.config.model import ScmConfig
from ridad.db.pool import Pool
from ridad.errors import InvalidRequest, Unprocessable
from ridad.modulemd.parse import load_modulemd
from ridad.scm.url import parse_scmurl
from tests.helpers import result_of
from tests.unit.api.support import (
    CONFIG,
    GIT,
    JSON,
    Apps,
    make_apps,
    module_repository,
    modulemd,
)

RIDA = "http://ridad/rida/module-builds/"
MBS = "http://ridad/module-build-service/1/module-builds/"
BOTH = pytest.mark.parametrize("app, url", [("rida", RIDA), ("mbs", MBS)])
FOO = f"{GIT}/modules/foo.git?#main"


def make(config: Any = CONFIG) -> Apps:
    """Both apps on a pool that is never started (any query would fail)."""
    clock = Clock()
    pool = Pool(dsn="host=/nonexistent", reactor=clock, size=1)
    return make_apps(pool, clock=clock, config=config)


def post(apps: Apps, app: str, url: str, body: Any) -> tuple[int, dict[str, Any]]:
    """POST a JSON body; return status and JSON body."""
    client = getattr(apps, app)
    response = result_of(client.post(url, data=json.dumps(body).encode(), headers=JSON))
    assert response.headers.getRawHeaders(b"content-type") == [b"application/json"]
    return response.code, result_of(response.json())


def document(**data: Any) -> Any:
    """A parsed modulemd with ``data`` merged in."""
    return load_modulemd(modulemd(**data))


@BOTH
def test_modulemd_naming_another_module_is_422_with_both_names(
    app: str, url: str
) -> None:
    """A commit to repository foo whose modulemd says ``name: bar`` is refused."""
    apps = make()
    scmurl = module_repository(apps.git, "foo", modulemd(name="bar"))
    code, body = post(apps, app, url, {"scmurl": scmurl, "branch": "main"})
    assert code == 422, body
    assert "data.name is 'bar'" in body["message"]
    assert "module 'foo'" in body["message"]
    assert body["details"] == {
        "field": "data.name",
        "modulemd": "bar",
        "required": "foo",
    }


@BOTH
def test_modulemd_naming_another_stream_is_422_with_both_streams(
    app: str, url: str
) -> None:
    """A commit on branch main whose modulemd says ``stream: rhel9`` is refused."""
    apps = make()
    scmurl = module_repository(apps.git, "foo", modulemd(stream="rhel9"))
    code, body = post(apps, app, url, {"scmurl": scmurl, "branch": "main"})
    assert code == 422, body
    assert "data.stream is 'rhel9'" in body["message"]
    assert "branch 'main'" in body["message"]
    assert body["details"] == {
        "field": "data.stream",
        "modulemd": "rhel9",
        "required": "main",
    }


@BOTH
def test_modulemd_setting_its_version_is_422(app: str, url: str) -> None:
    """``version: 5`` in the submitted modulemd is refused: ridad computes it."""
    apps = make()
    scmurl = module_repository(apps.git, "foo", modulemd(version=5))
    code, body = post(apps, app, url, {"scmurl": scmurl, "branch": "main"})
    assert code == 422, body
    assert "data.version to 5" in body["message"]
    assert body["details"]["field"] == "data.version"


def test_commit_ref_without_branch_has_no_stream_even_if_the_modulemd_names_one() -> (
    None
):
    """A commit hash and no ``branch``: the stream cannot come from the modulemd."""
    apps = make()
    module_repository(apps.git, "foo", modulemd(stream="main"))
    commit = apps.git.branches[f"{GIT}/modules/foo.git"]["main"]
    code, body = post(
        apps, "rida", RIDA, {"scmurl": f"{GIT}/modules/foo.git?#{commit}"}
    )
    assert code == 422, body
    assert "is not a branch and no branch was given" in body["message"]


def test_seed_api_branch_must_hold_the_commit() -> None:
    """The seed API's ``branch`` is the stream, so the commit must be on it (400)."""
    apps = make()
    module_repository(apps.git, "foo", modulemd())
    apps.git.add(f"{GIT}/modules/foo.git", {"foo.yaml": modulemd()}, branch="rhel9")
    code, body = post(apps, "rida", RIDA, {"scmurl": FOO, "branch": "rhel9"})
    assert code == 400, body
    assert "is not on branch rhel9" in body["message"]


@BOTH
@pytest.mark.parametrize(
    "branch, problem",
    [
        ("a\u0000b", "NUL (U+0000)"),
        ("\ud800", "lone surrogate (U+D800 to U+DFFF)"),
        ("--upload-pack=evil ../../x", "whitespace character (U+0020)"),
        ("-x", "must not start with '-'"),
        ("main..x", "must not contain '..'"),
    ],
)
def test_branch_is_validated_like_a_ref(
    app: str, url: str, branch: str, problem: str
) -> None:
    """A ``branch`` that is no safe ref is a 400 naming the field, not a 500."""
    apps = make()
    scmurl = module_repository(apps.git, "foo", modulemd())
    code, body = post(apps, app, url, {"scmurl": scmurl, "branch": branch})
    assert code == 400, body
    assert "branch: " in body["message"]
    assert problem in body["message"]
    details = body["details"]
    assert problem in (details.get("fields") or details["parameters"])["branch"]


def test_refs_heads_prefix_is_the_branch_name() -> None:
    """``refs/heads/main`` is the branch ``main``; None stays None."""
    assert checked_branch("refs/heads/main") == "main"
    assert checked_branch(None) is None
    with pytest.raises(InvalidRequest):
        checked_branch("")


def test_name_and_stream_come_from_the_location_when_the_modulemd_has_none() -> None:
    """Without name and stream the repository name and the branch are used."""
    scm = CONFIG.scm
    scmurl = parse_scmurl(f"{GIT}/modules/foo.git/sub/foo.yaml?#main")
    assert module_identity(document(), scmurl, "f40", scm) == ("foo", "f40")
    same = document(name="foo", stream="f40")
    assert module_identity(same, scmurl, "f40", scm) == ("foo", "f40")


def test_overrides_let_the_modulemd_decide() -> None:
    """scm.allow_name_override / allow_stream_override accept other values."""
    scm = replace(CONFIG.scm, allow_name_override=True, allow_stream_override=True)
    scmurl = parse_scmurl(FOO)
    other = document(name="bar", stream="rhel9")
    assert module_identity(other, scmurl, "main", scm) == ("bar", "rhel9")
    assert module_identity(other, scmurl, None, scm) == ("bar", "rhel9")
    with pytest.raises(Unprocessable, match="no branch was given"):
        module_identity(document(), scmurl, None, scm)


def test_one_override_does_not_allow_the_other() -> None:
    """Allowing another name still refuses another stream, and back."""
    scmurl = parse_scmurl(FOO)
    names = replace(CONFIG.scm, allow_name_override=True)
    with pytest.raises(Unprocessable, match="data.stream"):
        module_identity(document(name="bar", stream="x"), scmurl, "main", names)
    streams = ScmConfig(allow_stream_override=True)
    with pytest.raises(Unprocessable, match="data.name"):
        module_identity(document(name="bar", stream="x"), scmurl, "main", streams)
