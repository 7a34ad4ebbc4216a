"""Each ``rida`` command: the request it sends and what it prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.cli.fakembs import API, Cli, FakeMbs


@pytest.fixture
def fake() -> FakeMbs:
    return FakeMbs()


@pytest.fixture
def cli(fake: FakeMbs, tmp_path: Path) -> Cli:
    return Cli(fake=fake, home=tmp_path)


def test_submit_posts_scmurl_branch_and_scratch(cli: Cli, fake: FakeMbs) -> None:
    """submit POSTs the scmurl, the branch from its ref and scratch false."""
    status = cli.run("submit", "git://git.example.org/modules/demo.git?#main")
    assert status == 0, cli.err.getvalue()
    [seen] = fake.requests
    assert (seen.method, seen.path) == ("POST", API + "module-builds/")
    assert seen.body == {
        "scmurl": "git://git.example.org/modules/demo.git?#main",
        "branch": "main",
        "scratch": False,
    }
    assert seen.headers["content-type"] == "application/json"
    assert cli.out.getvalue() == (
        "Submitted module build 1: demo:main:4020261127100000:6c81f848\n"
        "Watch it with: rida watch 1\n"
    )


def test_submit_branch_flag_wins_over_the_ref(cli: Cli, fake: FakeMbs) -> None:
    """--branch is sent as given, even with a commit hash as the ref."""
    scmurl = "git://git.example.org/modules/demo.git?#3f2a1c0d"
    assert cli.run("submit", scmurl, "--branch", "f40") == 0
    assert fake.requests[0].body["branch"] == "f40"


def test_submit_of_a_commit_without_branch_is_a_usage_error(
    cli: Cli, fake: FakeMbs
) -> None:
    """A hex commit ref without --branch exits 2 telling to pass --branch."""
    scmurl = "git://git.example.org/modules/demo.git?#3f2a1c0d9e8b7a6f"
    assert cli.run("submit", scmurl) == 2
    assert "pass --branch" in cli.err.getvalue()
    assert fake.requests == []


def test_submit_without_ref_or_branch_is_a_usage_error(cli: Cli, fake: FakeMbs) -> None:
    """An scmurl without a ref and no --branch exits 2 and sends nothing."""
    assert cli.run("submit", "git://git.example.org/modules/demo.git") == 2
    assert "names no ref" in cli.err.getvalue()
    assert fake.requests == []


def test_submit_json_prints_the_servers_list(cli: Cli, fake: FakeMbs) -> None:
    """submit --json prints the server's answer: v2's list of builds."""
    assert cli.run("submit", "git://h/modules/demo.git?#main", "--json") == 0
    answer = json.loads(cli.out.getvalue())
    assert [b["id"] for b in answer] == [1]
    assert answer[0] == fake.builds[1]


def test_show_gets_the_verbose_build_and_its_components(
    cli: Cli, fake: FakeMbs
) -> None:
    """show asks for the verbose build and lists components with batches."""
    fake.add_build(id=7, state=2, koji_tag="module-demo-main-1-c")
    fake.set_component(7, "module-build-macros", 1, batch=1, task_id=11, nvr="mbm-1-1")
    fake.set_component(7, "alpha", 0, batch=2, task_id=12)
    fake.set_component(7, "beta", None, batch=3)
    assert cli.run("show", "7") == 0, cli.err.getvalue()
    assert fake.paths() == [
        f"GET {API}module-builds/7?verbose=true",
        f"GET {API}component-builds/?module_build=7&verbose=true&per_page=100&page=1",
        "GET /rida/module-builds/7",
    ]
    lines = cli.out.getvalue().splitlines()
    assert lines[0] == "build 7 demo:main:4020261127100000:6c81f848"
    assert not any(line.startswith("  artifacts:") for line in lines)
    assert "  state:      build" in lines
    assert "  koji tag:   module-demo-main-1-c" in lines
    assert "  components: 1/3 components done, batch 2" in lines
    assert lines[-4].split() == ["BATCH", "NAME", "STATE", "TASK", "NVR"]
    assert lines[-3].split() == [
        "1",
        "module-build-macros",
        "complete",
        "11",
        "mbm-1-1",
    ]
    assert lines[-2].split() == ["2", "alpha", "building", "12"]
    assert lines[-1].split() == ["3", "beta", "waiting"]


def test_show_lists_the_artifacts_and_the_modules_koji_build(
    cli: Cli, fake: FakeMbs
) -> None:
    """From ridad, show adds the final modulemd's RPM count and the module's
    build in Koji (its id and NVR), or that it is not imported yet."""
    build = fake.add_build(id=8, state=5, stream="f-40")
    fake.seed_views[8] = {"id": 8, "artifact_count": 12, "koji_build_id": 31}
    assert cli.run("show", "8") == 0, cli.err.getvalue()
    lines = cli.out.getvalue().splitlines()
    nvr = f"demo-f_40-{build['version']}.{build['context']}"
    assert "  artifacts:  12 RPMs" in lines
    assert f"  koji build: 31 {nvr}" in lines
    fake.seed_views[8] = {"id": 8, "artifact_count": 1, "koji_build_id": None}
    cli.out.truncate(0)
    cli.out.seek(0)
    assert cli.run("show", "8") == 0
    assert "  koji build: not imported yet" in cli.out.getvalue().splitlines()


def test_show_falls_back_to_tasks_without_component_builds(
    cli: Cli, fake: FakeMbs
) -> None:
    """Without component-builds/ (404), show lists the build's tasks."""
    fake.has_component_builds = False
    fake.add_build(id=3, state=4, state_reason="Component beta failed")
    fake.set_component(3, "beta", 3, task_id=9, reason="build failed")
    assert cli.run("show", "3") == 0, cli.err.getvalue()
    out = cli.out.getvalue()
    assert "  state:      failed (Component beta failed)" in out
    assert out.splitlines()[-1].split() == ["beta", "failed", "9", "build", "failed"]


def test_show_puts_a_failed_components_log_under_the_table(
    cli: Cli, fake: FakeMbs
) -> None:
    """A reason with a log tail: its first line in the table, the log after
    it, indented under the component's name."""
    fake.add_build(id=4, state=4, state_reason="Component beta failed: boom")
    reason = "boom\n--- last 2 lines of build.log (Koji task 9) ---\n+ exit 1\n"
    fake.set_component(4, "beta", 3, batch=2, task_id=9, reason=reason + "done")
    assert cli.run("show", "4") == 0, cli.err.getvalue()
    lines = cli.out.getvalue().splitlines()
    assert lines[-4:] == [
        "  beta: boom",
        "    --- last 2 lines of build.log (Koji task 9) ---",
        "    + exit 1",
        "    done",
    ]
    assert lines[-5].split() == ["2", "beta", "failed", "9", "boom"]


def test_show_json_prints_the_servers_build(cli: Cli, fake: FakeMbs) -> None:
    """show --json prints the verbose build exactly as the server sent it."""
    fake.add_build(id=5)
    assert cli.run("show", "5", "--json") == 0
    assert json.loads(cli.out.getvalue())["modulemd"] == "document: ..."
    assert len(fake.requests) == 1


def test_list_pages_while_there_is_a_next_page(cli: Cli, fake: FakeMbs) -> None:
    """list asks newest first, 100 a page, and follows meta.next."""
    for _ in range(150):
        fake.add_build(state=5)
    assert cli.run("list", "--state", "ready") == 0, cli.err.getvalue()
    assert fake.paths() == [
        f"GET {API}module-builds/?order_desc_by=id&state=ready&per_page=100&page=1",
        f"GET {API}module-builds/?order_desc_by=id&state=ready&per_page=100&page=2",
    ]
    lines = cli.out.getvalue().splitlines()
    assert lines[0].split() == ["ID", "STATE", "NSVC", "OWNER", "SUBMITTED"]
    assert len(lines) == 151
    assert lines[1].split()[:4] == [
        "150",
        "ready",
        "demo:main:4020261127100000:6c81f848",
        "alice",
    ]


def test_list_limit_stops_paging(cli: Cli, fake: FakeMbs) -> None:
    """--limit asks for pages of that size and stops there."""
    for _ in range(5):
        fake.add_build()
    assert cli.run("list", "--limit", "2", "--json") == 0
    assert [b["id"] for b in json.loads(cli.out.getvalue())] == [5, 4]
    assert fake.paths() == [
        f"GET {API}module-builds/?order_desc_by=id&per_page=2&page=1"
    ]


def test_list_mine_asks_for_the_configured_user(cli: Cli, fake: FakeMbs) -> None:
    """--mine sends owner=<the user> (RIDA_USER here)."""
    fake.add_build(owner="alice")
    fake.add_build(owner="bob")
    cli.environ["RIDA_USER"] = "bob"
    assert cli.run("list", "--mine", "--json") == 0
    assert fake.requests[0].query["owner"] == ["bob"]
    assert [b["owner"] for b in json.loads(cli.out.getvalue())] == ["bob"]


def test_list_state_accepts_numbers_and_repeats(cli: Cli, fake: FakeMbs) -> None:
    """--state takes MBS's numbers too, and may be repeated (OR)."""
    assert cli.run("list", "--state", "4", "--state", "READY") == 0
    assert fake.requests[0].query["state"] == ["failed", "ready"]
    assert cli.out.getvalue() == "No module builds.\n"


def test_list_unknown_state_is_a_usage_error(cli: Cli, fake: FakeMbs) -> None:
    """An unknown --state exits 2 naming the known states."""
    assert cli.run("list", "--state", "building") == 2
    assert "init, wait, build, done, failed, ready" in cli.err.getvalue()
    assert fake.requests == []


def test_cancel_patches_state_failed(cli: Cli, fake: FakeMbs) -> None:
    """cancel PATCHes {"state": "failed"} and prints the reason."""
    fake.add_build(id=4, state=2)
    assert cli.run("cancel", "4") == 0, cli.err.getvalue()
    [seen] = fake.requests
    assert (seen.method, seen.path, seen.body) == (
        "PATCH",
        API + "module-builds/4",
        {"state": "failed"},
    )
    assert cli.out.getvalue() == (
        "Canceled module build 4 demo:main:4020261127100000:6c81f848:"
        " Canceled by alice\n"
    )


def test_cancel_json_prints_the_canceled_build(cli: Cli, fake: FakeMbs) -> None:
    """cancel --json prints the server's answer."""
    fake.add_build(id=4, state=1)
    assert cli.run("--json", "cancel", "4") == 0
    assert json.loads(cli.out.getvalue())["state_name"] == "failed"


def test_cancel_of_a_finished_build_shows_the_servers_message(
    cli: Cli, fake: FakeMbs
) -> None:
    """A refused cancel exits 3 with the server's message."""
    fake.add_build(id=4, state=5)
    assert cli.run("cancel", "4") == 3
    assert cli.err.getvalue() == (
        "rida: 400 Bad Request: The build cannot be canceled\n"
    )


def test_retire_patches_state_garbage_and_prints_the_reason(
    cli: Cli, fake: FakeMbs
) -> None:
    """retire PATCHes {"state": "garbage"} to the build and prints the reason."""
    fake.add_build(id=5, state=5)
    assert cli.run("retire", "5") == 0, cli.err.getvalue()
    [seen] = fake.requests
    assert (seen.method, seen.path, seen.body) == (
        "PATCH",
        API + "module-builds/5",
        {"state": "garbage"},
    )
    assert cli.out.getvalue() == (
        "Retired module build 5 demo:main:4020261127100000:6c81f848: Retired by alice\n"
    )


def test_retire_json_prints_the_retired_build(cli: Cli, fake: FakeMbs) -> None:
    """retire --json prints the server's answer, in state garbage."""
    fake.add_build(id=5, state=4)
    assert cli.run("retire", "5", "--json") == 0
    assert json.loads(cli.out.getvalue())["state_name"] == "garbage"


def test_retire_refused_shows_the_servers_message(cli: Cli, fake: FakeMbs) -> None:
    """A non-administrator's retire exits 3 with the server's 403 message; a
    build still building gets the server's 400."""
    fake.add_build(id=5, state=5)
    fake.add_build(id=6, state=2)
    fake.admin = False
    assert cli.run("retire", "5") == 3
    assert cli.err.getvalue() == "rida: 403 Forbidden: alice may not retire\n"
    fake.admin = True
    assert cli.run("retire", "6") == 3
    assert cli.err.getvalue().endswith(
        "rida: 400 Bad Request: The build cannot be retired\n"
    )


def test_list_state_garbage_asks_for_garbage(cli: Cli, fake: FakeMbs) -> None:
    """--state garbage (or 6) is a state rida knows."""
    assert cli.run("list", "--state", "garbage", "--state", "6") == 0
    assert fake.requests[0].query["state"] == ["garbage", "garbage"]


def test_about_prints_the_server_and_its_answer(cli: Cli, fake: FakeMbs) -> None:
    """about GETs about/ and prints it with the server's URL."""
    assert cli.run("about") == 0
    assert fake.paths() == [f"GET {API}about/"]
    assert cli.out.getvalue() == (
        "server:      http://mbs.example.org\n"
        "auth_method: kerberos\n"
        "api_version: 2\n"
        "version:     3.9.0\n"
    )


def test_about_json_prints_the_servers_json(cli: Cli) -> None:
    """about --json prints only the server's answer."""
    assert cli.run("about", "--json") == 0
    assert json.loads(cli.out.getvalue()) == {
        "auth_method": "kerberos",
        "api_version": 2,
        "version": "3.9.0",
    }


def test_requests_say_who_is_asking_and_want_json(cli: Cli, fake: FakeMbs) -> None:
    """Every request carries Accept: application/json and a rida User-Agent."""
    cli.run("about")
    headers = fake.requests[0].headers
    assert headers["accept"] == "application/json"
    assert headers["user-agent"].startswith("rida/")


def test_modulemd_prints_the_document_as_it_came(cli: Cli, fake: FakeMbs) -> None:
    """modulemd asks ridad's route for the document (of one arch with --arch)
    and prints its bytes; the server's 404 says there is none yet."""
    document = b"---\ndocument: modulemd\nversion: 2\n...\n"
    fake.canned.append((200, {b"Content-Type": b"application/yaml"}, document))
    assert cli.run("modulemd", "5", "--arch", "x86_64") == 0, cli.err.getvalue()
    assert cli.out.getvalue() == document.decode()
    assert fake.paths() == ["GET /rida/module-builds/5/modulemd?arch=x86_64"]
    missing = {"status": 404, "error": "Not Found", "message": "no final modulemd yet"}
    json_type = {b"Content-Type": b"application/json"}
    fake.canned.append((404, json_type, json.dumps(missing).encode()))
    assert cli.run("modulemd", "5") == 3
    assert "no final modulemd yet" in cli.err.getvalue()


def test_import_of_a_file_posts_its_text(
    cli: Cli, fake: FakeMbs, tmp_path: Path
) -> None:
    """import FILE POSTs {"modulemd": text} and prints the messages and NSVC."""
    document = tmp_path / "platform.yaml"
    document.write_text("document: modulemd\nversion: 2\n")
    assert cli.run("import", str(document)) == 0, cli.err.getvalue()
    [seen] = fake.requests
    assert (seen.method, seen.path) == ("POST", API + "import-module/")
    assert seen.body == {"modulemd": "document: modulemd\nversion: 2\n"}
    assert cli.out.getvalue() == (
        "Module platform:el8:0:00000000 imported\n"
        "Imported module build 1: platform:el8:0:00000000\n"
    )


def test_import_of_an_scmurl_posts_it(cli: Cli, fake: FakeMbs) -> None:
    """import SCMURL POSTs {"scmurl": ...}; --json prints MBS's answer."""
    scmurl = "git://git.example.org/modules/platform.git?#el8"
    assert cli.run("import", scmurl, "--json") == 0, cli.err.getvalue()
    assert fake.requests[0].body == {"scmurl": scmurl}
    answer = json.loads(cli.out.getvalue())
    assert answer["module"]["id"] == 1 and answer["messages"]


def test_import_of_neither_is_a_usage_error(cli: Cli, fake: FakeMbs) -> None:
    """Not a file and not a URL: exit 2, nothing sent."""
    assert cli.run("import", "no-such-file.yaml") == 2
    assert "neither a file nor an scmurl" in cli.err.getvalue()
    assert fake.requests == []


def test_import_refused_shows_the_servers_message(cli: Cli, fake: FakeMbs) -> None:
    """A disabled import exits 3 with MBS's 403 message."""
    fake.admin = False
    assert cli.run("import", "git://h/modules/p.git?#el8") == 3
    assert cli.err.getvalue() == "rida: 403 Forbidden: Import module API is disabled.\n"
