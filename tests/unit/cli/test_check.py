"""``rida check``: the submission ``rida submit`` would send, as a dry run,
only to a ridad that has them; what would be built and exit 0, or the
server's problems and exit 1; the servers that cannot tell, exit 3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ridad.api.openapi import openapi_document
from tests.unit.cli.fakembs import API, Cli
from tests.unit.cli.fakeridad import PLANNED, FakeRidad

SCMURL = "git://git.example.org/modules/demo.git?#main"
DESCRIPTION = "GET /rida/openapi.json"
SUBMIT = f"POST {API}module-builds/"


@pytest.fixture
def fake() -> FakeRidad:
    return FakeRidad()


@pytest.fixture
def cli(fake: FakeRidad, tmp_path: Path) -> Cli:
    return Cli(fake=fake, home=tmp_path)


def test_check_sends_a_dry_run_and_prints_what_would_be_built(
    cli: Cli, fake: FakeRidad
) -> None:
    """The body is submit's, with the overrides and dry_run: true; the
    answer's builds are printed, batch by batch."""
    argv = ["check", SCMURL, "--scratch", "--buildrequires", "platform:f40"]
    argv += ["--buildrequires", "platform:f39", "--requires", "platform:f40"]
    assert cli.run(*argv) == 0, cli.err.getvalue()
    assert fake.paths() == [DESCRIPTION, SUBMIT]
    assert fake.requests[1].body == {
        "scmurl": SCMURL,
        "branch": "main",
        "scratch": True,
        "buildrequire_overrides": {"platform": ["f40", "f39"]},
        "require_overrides": {"platform": ["f40"]},
        "dry_run": True,
    }
    assert cli.out.getvalue().splitlines() == [
        "http://mbs.example.org would accept the submission (nothing was recorded):",
        "  create module build demo:main:4020261127100000:6c81f848",
        "    buildrequires platform:f40",
        f"    batch 2: alpha (main {'a' * 12}), beta (main {'b' * 12})",
        f"    batch 3: gamma (f40 {'c' * 12})",
        "  keep demo:main:3920261127100000:0badc0de: module build 7 exists"
        " (ready) and stays as it is",
    ]
    assert cli.err.getvalue() == ""


def test_check_json_prints_the_servers_answer(cli: Cli) -> None:
    assert cli.run("check", SCMURL, "--json") == 0
    assert json.loads(cli.out.getvalue()) == PLANNED


def test_a_refused_submission_lists_its_problems_and_exits_1(
    cli: Cli, fake: FakeRidad
) -> None:
    """The message and each problem of details (components, modulemd
    problems) go to stderr; --json prints the error to stdout as well."""
    details = {
        "components": ["alpha: ref 'main' not found", "beta: beta.spec does not exist"],
        "errors": [
            {"path": "data.summary", "line": 4, "column": 3, "message": "required"}
        ],
    }
    body = {"status": 422, "error": "Unprocessable Entity", "message": "no"}
    fake.dry_run = (422, {**body, "details": details})
    assert cli.run("check", SCMURL) == 1
    assert cli.out.getvalue() == ""
    assert cli.err.getvalue().splitlines() == [
        "rida: the submission would be refused: 422 Unprocessable Entity: no",
        "  line 4 col 3: data.summary: required",
        "  alpha: ref 'main' not found",
        "  beta: beta.spec does not exist",
    ]
    assert cli.run("check", SCMURL, "--json") == 1
    assert json.loads(cli.out.getvalue()) == {
        "status": 422,
        "message": "422 Unprocessable Entity: no",
        "details": details,
    }


@pytest.mark.parametrize("status", [400, 403, 409, 413])
def test_every_refusal_of_the_submission_exits_1(
    cli: Cli, fake: FakeRidad, status: int
) -> None:
    fake.dry_run = (status, {"status": status, "error": "E", "message": "m"})
    assert cli.run("check", SCMURL) == 1


@pytest.mark.parametrize("status", [401, 404, 500, 503])
def test_a_server_that_cannot_tell_exits_3(
    cli: Cli, fake: FakeRidad, status: int
) -> None:
    """Credentials, a missing route or a server error say nothing of the module."""
    fake.dry_run = (status, {"status": status, "error": "E", "message": "m"})
    assert cli.run("check", SCMURL) == 3
    assert "would be refused" not in cli.err.getvalue()


def test_an_mbs_is_sent_nothing(cli: Cli, fake: FakeRidad) -> None:
    """No /rida/openapi.json: the submission is not sent (exit 3)."""
    fake.description = None
    assert cli.run("check", SCMURL) == 3
    assert fake.paths() == [DESCRIPTION]
    assert cli.err.getvalue() == (
        "rida: http://mbs.example.org cannot check a submission: it serves no"
        " /rida/openapi.json, so it is no ridad (an MBS?); rida check sent it"
        " nothing (only a ridad server has dry runs)\n"
    )


def test_a_ridad_older_than_dry_runs_is_sent_nothing(cli: Cli, fake: FakeRidad) -> None:
    description = openapi_document()
    del description["components"]["schemas"]["MbsSubmission"]["properties"]["dry_run"]
    fake.description = {**description, "info": {"version": "0.9"}}
    assert cli.run("check", SCMURL) == 3
    assert fake.paths() == [DESCRIPTION]
    assert "this ridad (0.9) is older than dry runs" in cli.err.getvalue()


def test_a_server_that_built_instead_says_so(cli: Cli, fake: FakeRidad) -> None:
    """A 201 with builds (a server that ignored dry_run): exit 3 naming them."""
    fake.dry_run = (201, [{"id": 5, "name": "demo"}])
    assert cli.run("check", SCMURL) == 3
    assert cli.err.getvalue() == (
        "rida: the server ignored the dry run: it CREATED module build(s) 5:"
        " cancel them with rida cancel 5\n"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["check"],
        ["check", SCMURL, "--buildrequires", "platform"],
        ["check", SCMURL, "--srpm", "x.src.rpm"],
        ["check", SCMURL, "--watch"],
    ],
)
def test_bad_arguments_exit_2_without_a_request(
    cli: Cli, fake: FakeRidad, argv: list[str]
) -> None:
    assert cli.run(*argv) == 2
    assert fake.requests == []


def test_submit_sends_the_dependency_overrides_too(cli: Cli, fake: FakeRidad) -> None:
    argv = ["submit", SCMURL, "--buildrequires", "platform:f40"]
    assert cli.run(*argv, "--requires", "platform:f40") == 0, cli.err.getvalue()
    assert fake.requests[0].body["buildrequire_overrides"] == {"platform": ["f40"]}
    assert fake.requests[0].body["require_overrides"] == {"platform": ["f40"]}
    assert "dry_run" not in fake.requests[0].body


def test_a_description_of_another_shape_is_sent_nothing(
    cli: Cli, fake: FakeRidad
) -> None:
    fake.description = {"openapi": "3.1.0", "components": ["?"]}
    assert cli.run("check", SCMURL) == 3
    assert fake.paths() == [DESCRIPTION]
    assert "this ridad (an older version) is older than dry runs" in cli.err.getvalue()


def test_an_html_page_for_the_description_is_sent_nothing(
    cli: Cli, fake: FakeRidad
) -> None:
    """A proxy's page (200, not JSON): the usual "not JSON" error, exit 3."""
    fake.canned.append((200, {b"Content-Type": b"text/html"}, b"<html></html>"))
    assert cli.run("check", SCMURL) == 3
    assert fake.paths() == [DESCRIPTION]
    assert "not JSON: is http://mbs.example.org a ridad" in cli.err.getvalue()
