"""How a dry run is asked for (the seed API's query, both APIs' bodies),
that it is authenticated and authorized as a real submission, and that
its answer is what the OpenAPI description says. No database: the pool
never connects (tests/db/test_api_dry_run.py has the database side)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import jsonschema
import pytest
from twisted.internet.task import Clock

from ridad.api.app import parse_seed_submission
from ridad.api.auth import Authorizer
from ridad.api.dry_run import dry_run_view, query_dry_run
from ridad.api.mbs_bodies import submission_fields
from ridad.api.openapi import openapi_document
from ridad.api.submit_options import OPTION_FIELDS
from ridad.db.pool import Pool
from ridad.db.submission_plan import Action, PlannedBuild
from ridad.domain.builds import BuildSnapshot, NewComponent, NewModuleBuild
from ridad.domain.states import ModuleState
from ridad.errors import InvalidRequest
from tests.helpers import result_of
from tests.unit.api.fuzzing import USER_HEADER, HeaderUser
from tests.unit.api.support import JSON, make_apps
from tests.unit.api.test_openapi_shapes import BUILD

RIDA = "http://ridad/rida/module-builds/"
MBS = "http://ridad/module-build-service/2/module-builds/"
SCMURL = "git://git.example.org/modules/demo.git?#main"


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], False), ([b"true"], True), ([b"TRUE"], True), ([b"1"], True)]
    + [([b"false"], False), ([b"0"], False), ([b"true", b"true"], True)],
)
def test_the_query_asks_with_true_or_1(values: list[bytes], expected: bool) -> None:
    assert query_dry_run({b"dry_run": values} if values else {}) is expected


@pytest.mark.parametrize(
    "values", [[b""], [b"yes please"], [b"true", b"false"], [b"\xff"]]
)
def test_any_other_query_value_is_400(values: list[bytes]) -> None:
    """Not a real submission by mistake: an unreadable dry_run refuses."""
    with pytest.raises(InvalidRequest) as refused:
        query_dry_run({b"dry_run": values})
    assert refused.value.details == {
        "parameters": {"dry_run": "must be true or false, given once"}
    }


def test_other_query_parameters_are_not_read() -> None:
    assert query_dry_run({b"page": [b"\xff"]}) is False


PARSERS = {"rida": parse_seed_submission, "mbs": submission_fields}


@pytest.mark.parametrize("api", PARSERS)
@pytest.mark.parametrize(
    ("value", "expected"), [(True, True), (False, False), ("true", True), ("0", False)]
)
def test_a_body_asks_with_a_boolean_or_a_form_word(
    api: str, value: Any, expected: bool
) -> None:
    body = {"scmurl": SCMURL, "branch": "main", "dry_run": value}
    assert PARSERS[api](body).options.dry_run is expected


@pytest.mark.parametrize("api", PARSERS)
@pytest.mark.parametrize("value", [None, "", "maybe", 1, [], {}])
def test_a_body_dry_run_that_is_no_boolean_is_400(api: str, value: Any) -> None:
    """null and "" too: they never fall back to a real build."""
    body = {"scmurl": SCMURL, "branch": "main", "dry_run": value}
    with pytest.raises(InvalidRequest) as refused:
        PARSERS[api](body)
    assert "dry_run" in refused.value.details["parameters"]


def test_no_option_leaves_a_dry_run_by_default() -> None:
    assert parse_seed_submission({"scmurl": SCMURL}).options.dry_run is False


def post(client: Any, url: str, user: str | None = None) -> tuple[int, Any]:
    headers = dict(JSON)
    if user is not None:
        headers[USER_HEADER] = [user.encode()]
    body = json.dumps({"scmurl": SCMURL, "branch": "main", "dry_run": True})
    response = result_of(client.post(url, data=body.encode(), headers=headers))
    return response.code, json.loads(result_of(response.content()))


@pytest.mark.parametrize(("app", "url"), [("rida", RIDA), ("mbs", MBS)])
def test_a_dry_run_is_authenticated_and_authorized_as_a_submission(
    app: str, url: str
) -> None:
    """Without credentials 401; a user who may not submit 403: the real
    submission's answers, before any check of the module."""
    clock = Clock()
    apps = make_apps(
        Pool(dsn="host=/nonexistent", reactor=clock, size=1),
        clock=clock,
        authenticator=HeaderUser(),  # type: ignore[arg-type]
        authorizer=Authorizer(allowed_users=frozenset({"alice"})),
    )
    client = getattr(apps, app)
    assert post(client, url)[0] == 401
    code, body = post(client, url, "mallory")
    assert code == 403 and "may not submit" in body["message"]


def _schema(name: str) -> dict[str, Any]:
    return {
        "$ref": f"#/components/schemas/{name}",
        "components": openapi_document()["components"],
    }


NEW = NewModuleBuild(
    name="demo", stream="main", version=4020260101000000, context="c0ffee42",
    owner="alice", scmurl=SCMURL, scm_commit="a" * 40, branch="main",
    modulemd="document: modulemd\n", build_context="b" * 40,
    runtime_context="r" * 40,
    buildrequires={"platform": dict(BUILD.buildrequires["platform"],
                                    version="0", context="00000000",
                                    module_build_id=None)},
    requires={"platform": ["f40"]},
    components=(
        NewComponent(name="beta", package="beta", repository="git://g/rpms/beta",
                     ref="main", scm_commit="b" * 40, batch=3, buildafter=("alpha",)),
        NewComponent(name="alpha", package="alpha",
                     repository="cli-build/1/alpha.src.rpm", ref="srpm",
                     scm_commit="", batch=2, arches=("x86_64",)),
    ),
    arches=("x86_64", "aarch64"), scratch=True, srpms=("cli-build/1/alpha.src.rpm",),
)  # fmt: skip


def test_the_answer_is_what_the_description_says() -> None:
    """Each action's view is valid against the DryRun schema; components in
    batch order."""
    existing = BuildSnapshot(replace(BUILD, state=ModuleState.FAILED), ())
    planned = [
        PlannedBuild(NEW, Action.CREATE),
        PlannedBuild(
            replace(NEW, scratch=False, arches=None), Action.RESUBMIT, existing
        ),
        PlannedBuild(
            replace(NEW, components=()), Action.KEEP, BuildSnapshot(BUILD, ())
        ),
    ]
    view = dry_run_view(planned)
    jsonschema.validate(view, _schema("DryRun"), cls=jsonschema.Draft202012Validator)
    first, second, third = view["module_builds"]
    assert [c["name"] for c in first["components"]] == ["alpha", "beta"]
    assert (first["action"], first["id"], first["version"]) == (
        "create", None, "4020260101000000",
    )  # fmt: skip
    assert (second["action"], second["id"], second["state"]) == (
        "resubmit",
        42,
        "failed",
    )
    assert (third["action"], third["state"]) == ("keep", "build")


@pytest.mark.parametrize("schema", ["Submission", "MbsSubmission"])
def test_every_option_field_is_described(schema: str) -> None:
    described = openapi_document()["components"]["schemas"][schema]["properties"]
    assert set(OPTION_FIELDS) <= set(described)
