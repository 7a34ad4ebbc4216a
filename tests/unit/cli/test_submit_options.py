"""``rida submit``'s MBS options (--scratch, --file, --srpm,
--rebuild-strategy, --reuse-from): the body they send, what rida warns
about, and how ``watch`` ends a scratch build; ``rida show``'s marks of
reused components."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ridad.cli.exits import ServerError
from ridad.cli.koji_upload import KojiTarget
from tests.helpers import result_of
from tests.unit.cli.fakembs import API, Cli, FakeMbs
from tests.unit.cli.rpmfiles import write_rpm

SCMURL = "git://git.example.org/modules/demo.git?#main"
MODULEMD = "document: modulemd\nversion: 2\ndata:\n  summary: Demo\n"


@pytest.fixture
def fake() -> FakeMbs:
    return FakeMbs()


@pytest.fixture
def cli(fake: FakeMbs, tmp_path: Path) -> Cli:
    return Cli(fake=fake, home=tmp_path)


@pytest.fixture
def modulemd(tmp_path: Path) -> Path:
    path = tmp_path / "testmodule.yaml"
    path.write_text(MODULEMD)
    return path


def test_scratch_rebuild_strategy_and_reuse_are_sent(cli: Cli, fake: FakeMbs) -> None:
    """--scratch, --rebuild-strategy and --reuse-from ID go in the body as
    MBS names them; the answer's scratch build is called one."""
    argv = ["submit", SCMURL, "--scratch", "--rebuild-strategy", "only-changed"]
    assert cli.run(*argv, "--reuse-from", "12") == 0, cli.err.getvalue()
    [seen] = fake.requests
    assert (seen.method, seen.path) == ("POST", API + "module-builds/")
    assert seen.body == {
        "scmurl": SCMURL,
        "branch": "main",
        "scratch": True,
        "rebuild_strategy": "only-changed",
        "reuse_components_from": 12,
    }
    assert cli.out.getvalue().splitlines()[0] == (
        "Submitted scratch module build 1: demo:main:4020261127100000:6c81f848"
    )
    assert cli.err.getvalue() == ""


def test_reuse_from_an_nsvc_is_sent_as_text(cli: Cli, fake: FakeMbs) -> None:
    """--reuse-from name:stream:version:context is sent as that string."""
    assert cli.run("submit", SCMURL, "--reuse-from", "demo:main:3:c0ffee42") == 0
    assert fake.requests[0].body["reuse_components_from"] == "demo:main:3:c0ffee42"


@pytest.mark.parametrize(
    "argv",
    [
        ["--reuse-from", "demo:main"],
        ["--reuse-from", "0"],
        ["--rebuild-strategy", "some"],
    ],
)
def test_bad_reuse_and_strategy_are_usage_errors(
    cli: Cli, fake: FakeMbs, argv: list[str]
) -> None:
    """A reuse source that is neither id nor NSVC, or an unknown strategy,
    exits 2 before anything is sent."""
    assert cli.run("submit", SCMURL, *argv) == 2
    assert fake.requests == []


def test_file_sends_the_modulemd_and_its_name_without_scmurl(
    cli: Cli, fake: FakeMbs, modulemd: Path
) -> None:
    """--file sends the document as "modulemd" and "module_name" from the
    file's name (as fedpkg does); no SCMURL is needed."""
    status = cli.run("submit", "--scratch", "--file", str(modulemd))
    assert status == 0, cli.err.getvalue()
    assert fake.requests[0].body == {
        "modulemd": MODULEMD,
        "module_name": "testmodule",
        "scratch": True,
    }
    assert cli.out.getvalue().startswith(
        "Submitted scratch module build 1: testmodule:"
    )


def test_file_with_scmurl_stream_and_branch(
    cli: Cli, fake: FakeMbs, modulemd: Path
) -> None:
    """With --file, an SCMURL and its branch go too, and --stream is the
    module_stream of a document that names none."""
    argv = ["submit", SCMURL, "--scratch", "--file", str(modulemd), "--stream", "s1"]
    assert cli.run(*argv) == 0, cli.err.getvalue()
    body = fake.requests[0].body
    assert (body["scmurl"], body["branch"], body["module_stream"]) == (
        SCMURL,
        "main",
        "s1",
    )
    assert cli.run("submit", "--scratch", "--file", str(modulemd), "--branch", "b") == 0
    assert fake.requests[1].body["branch"] == "b"
    assert "scmurl" not in fake.requests[1].body


def test_file_without_scratch_warns_and_leaves_it_to_the_server(
    cli: Cli, fake: FakeMbs, modulemd: Path
) -> None:
    """--file without --scratch is sent (the server decides), with a warning
    that says which setting the server needs; its 403 exits 3."""
    fake.canned.append(
        (
            403,
            {b"Content-Type": b"application/json"},
            json.dumps(
                {
                    "status": 403,
                    "error": "Forbidden",
                    "message": "YAML submission is not enabled",
                }
            ).encode(),
        )
    )
    assert cli.run("submit", "--file", str(modulemd)) == 3
    assert fake.requests[0].body["scratch"] is False
    err = cli.err.getvalue().splitlines()
    assert err[0].startswith("rida: warning: --file without --scratch:")
    assert "builds.allow_yaml_submissions" in err[0]
    assert err[1] == "rida: 403 Forbidden: YAML submission is not enabled"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["submit"], "submit needs an SCMURL, or --file MODULEMD"),
        (["submit", SCMURL, "--stream", "x"], "--stream goes with --file"),
        (["submit", "--file", "/nonexistent.yaml"], "cannot read the modulemd file"),
        (["submit", SCMURL, "--scratch", "--srpm", "/none.src.rpm"], "not found"),
    ],
)
def test_submission_usage_errors_send_nothing(
    cli: Cli, fake: FakeMbs, argv: list[str], message: str
) -> None:
    """Nothing to submit, --stream alone, an unreadable modulemd or a missing
    SRPM exit 2 before any upload or request."""
    assert cli.run(*argv) == 2
    assert message in cli.err.getvalue()
    assert fake.requests == [] and cli.uploads.calls == []


def test_srpm_uploads_to_koji_then_sends_the_paths(
    cli: Cli, fake: FakeMbs, tmp_path: Path
) -> None:
    """--srpm (repeatable) uploads the files with the --koji-* target, then
    sends the upload paths as "srpms"; each upload is reported."""
    first = write_rpm(tmp_path / "alpha.src.rpm", "alpha")
    second = write_rpm(tmp_path / "beta.src.rpm", "beta")
    argv = ["submit", SCMURL, "--scratch", "--srpm", str(first), "--srpm", str(second)]
    koji = [
        "--koji-profile",
        "stg",
        "--koji-config",
        "/k.conf",
        "--koji-hub",
        "https://h/",
    ]
    assert cli.run(*argv, *koji) == 0, cli.err.getvalue()
    assert cli.uploads.calls == [
        ([str(first), str(second)], KojiTarget("stg", "/k.conf", "https://h/"))
    ]
    paths = ["cli-build/1.abcdefgh/alpha.src.rpm", "cli-build/2.abcdefgh/beta.src.rpm"]
    assert fake.requests[0].body["srpms"] == paths
    assert fake.builds[1]["srpms"] == paths
    lines = cli.out.getvalue().splitlines()
    assert lines[:2] == [
        f"Uploaded {first} to Koji: {paths[0]}",
        f"Uploaded {second} to Koji: {paths[1]}",
    ]


def test_srpm_defaults_to_the_koji_profile_and_json_keeps_stdout_clean(
    cli: Cli, fake: FakeMbs, tmp_path: Path
) -> None:
    """Without --koji-*, the "koji" profile; with --json the upload report
    goes to stderr and stdout is the server's JSON alone."""
    srpm = write_rpm(tmp_path / "alpha.src.rpm", "alpha")
    assert cli.run("submit", SCMURL, "--scratch", "--srpm", str(srpm), "--json") == 0
    assert cli.uploads.calls[0][1] == KojiTarget("koji", None, None)
    assert [b["id"] for b in json.loads(cli.out.getvalue())] == [1]
    assert cli.err.getvalue().startswith(f"Uploaded {srpm} to Koji: cli-build/")


def test_srpm_without_scratch_warns_and_the_server_refuses(
    cli: Cli, fake: FakeMbs, tmp_path: Path
) -> None:
    """--srpm without --scratch: a warning, the upload, then MBS's 403."""
    srpm = write_rpm(tmp_path / "alpha.src.rpm", "alpha")
    assert cli.run("submit", SCMURL, "--srpm", str(srpm)) == 3
    err = cli.err.getvalue().splitlines()
    assert err[0].startswith("rida: warning: --srpm without --scratch:")
    assert (
        err[-1] == "rida: 403 Forbidden: srpms may only be specified for scratch builds"
    )


def test_a_failed_upload_submits_nothing(
    cli: Cli, fake: FakeMbs, tmp_path: Path
) -> None:
    """An upload error is reported as it is (exit 3) and nothing is POSTed."""
    srpm = write_rpm(tmp_path / "alpha.src.rpm", "alpha")
    cli.uploads.error = ServerError(
        "cannot log in to Koji", status=None, transient=False
    )
    assert cli.run("submit", SCMURL, "--scratch", "--srpm", str(srpm)) == 3
    assert cli.err.getvalue() == "rida: cannot log in to Koji\n"
    assert fake.requests == []


def test_watch_ends_a_scratch_build_at_done_with_0(cli: Cli, fake: FakeMbs) -> None:
    """A scratch build stays done (MBS never makes it ready): watch ends
    there with 0; a build that is not scratch goes on waiting at done."""
    fake.add_build(id=5, state=3, scratch=True)
    assert cli.run("watch", "5") == 0, cli.err.getvalue()
    assert cli.out.getvalue().splitlines()[-1].endswith(": done")
    fake.add_build(id=6, state=3)
    ended = cli.start("watch", "6", "--interval", "1")
    cli.clock.advance(5)
    assert not ended.called
    fake.set_state(6, 5)
    cli.clock.advance(1)
    assert result_of(ended) == 0


def test_show_marks_reused_components_and_the_builds_choices(
    cli: Cli, fake: FakeMbs
) -> None:
    """show says scratch, the rebuild strategy and the build reused from,
    and marks each reused component with the component it reused: from
    component-builds/ where MBS says so, else from ridad's own view."""
    fake.add_build(id=9, state=5, scratch=True, rebuild_strategy="only-changed")
    fake.set_component(9, "alpha", 1, batch=2, nvr="alpha-1.0-1")
    fake.set_component(9, "beta", 1, batch=2, nvr="beta-1.0-1")
    fake.set_component(9, "gamma", 1, batch=3, task_id=77, nvr="gamma-1.0-1")
    fake.components[9][0]["reused_component_id"] = 31
    fake.seed_views[9] = {
        "id": 9,
        "reused_module_id": 3,
        "components": [
            {"name": "alpha", "reused_component_id": 31},
            {"name": "beta", "reused_component_id": 32},
            {"name": "gamma", "reused_component_id": None},
        ],
    }
    assert cli.run("show", "9") == 0, cli.err.getvalue()
    lines = cli.out.getvalue().splitlines()
    assert "  scratch:    yes (it ends at done, never ready)" in lines
    assert "  rebuild:    only-changed" in lines
    assert "  reuses:     components of build 3" in lines
    assert "  components: 3/3 components done, batch 3, 2 reused" in lines
    assert lines[-3].split()[1:] == [
        "alpha",
        "complete",
        "alpha-1.0-1",
        "(reused",
        "from",
        "component",
        "31",
        "of",
        "build",
        "3)",
    ]
    assert lines[-2].endswith("beta-1.0-1 (reused from component 32 of build 3)")
    assert lines[-1].split() == ["3", "gamma", "complete", "77", "gamma-1.0-1"]


def test_show_of_a_build_without_reuse_fields_shows_none(
    cli: Cli, fake: FakeMbs
) -> None:
    """An MBS or ridad that has none of these fields: no such lines."""
    fake.add_build(id=4, state=5)
    del fake.builds[4]["scratch"]
    fake.set_component(4, "alpha", 1, batch=2, nvr="alpha-1.0-1")
    assert cli.run("show", "4") == 0, cli.err.getvalue()
    out = cli.out.getvalue()
    assert "scratch:" not in out and "rebuild:" not in out and "reused" not in out
