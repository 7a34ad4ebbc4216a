"""``rida watch``: progress on a terminal and piped, polling on the clock,
and its exit status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ridad.cli.watch import GIVE_UP_AFTER_SECONDS
from tests.helpers import result_of
from tests.unit.cli.fakembs import API, Cli, FakeMbs

ERASE = "\r\x1b[{}A\x1b[J"
JSON = {b"Content-Type": b"application/json"}


@pytest.fixture
def fake() -> FakeMbs:
    fake = FakeMbs()
    fake.add_build(id=42, state=1)
    fake.set_component(42, "module-build-macros", None, batch=1)
    fake.set_component(42, "alpha", None, batch=2)
    fake.set_component(42, "beta", None, batch=3)
    return fake


@pytest.fixture
def cli(fake: FakeMbs, tmp_path: Path) -> Cli:
    return Cli(fake=fake, home=tmp_path)


def build_to_ready(cli: Cli, fake: FakeMbs) -> None:
    """Walk build 42 to ready, one step per 5 s poll."""
    fake.set_state(42, 2)
    fake.set_component(42, "module-build-macros", 0, batch=1, task_id=101)
    cli.clock.advance(5)
    fake.set_component(42, "module-build-macros", 1, batch=1, task_id=101, nvr="m-1")
    fake.set_component(42, "alpha", 0, batch=2, task_id=102)
    cli.clock.advance(5)
    fake.set_component(42, "alpha", 1, batch=2, task_id=102, nvr="alpha-1.0-1")
    fake.set_component(42, "beta", 1, batch=3, task_id=103, nvr="beta-1.0-1")
    fake.set_state(42, 5)
    cli.clock.advance(5)


def test_piped_watch_prints_one_line_per_change_and_exits_0(
    cli: Cli, fake: FakeMbs
) -> None:
    """Piped, each change is one line; ready exits 0 and leaves no timer."""
    ended = cli.start("watch", "42")
    build_to_ready(cli, fake)
    assert result_of(ended) == 0, cli.err.getvalue()
    name = "build 42 demo:main:4020261127100000:6c81f848"
    assert cli.out.getvalue().splitlines() == [
        f"{name}: wait, 0/3 components done",
        f"{name}: module-build-macros building (task 101)",
        f"{name}: build, 0/3 components done, batch 1",
        f"{name}: module-build-macros complete (task 101) after 5s: m-1",
        f"{name}: alpha building (task 102)",
        f"{name}: build, 1/3 components done, batch 2",
        f"{name}: alpha complete (task 102) after 5s: alpha-1.0-1",
        f"{name}: beta complete (task 103): beta-1.0-1",
        f"{name}: ready, 3/3 components done, batch 3",
    ]
    assert "\x1b" not in cli.out.getvalue()
    assert cli.clock.getDelayedCalls() == []


def api_requests(fake: FakeMbs) -> list[str]:
    """The requests of the API seen, without the event stream's (an MBS
    has none: it answers 404 and the watch polls)."""
    return [p for p in fake.paths() if not p.endswith("/events")]


def test_watch_polls_every_interval(cli: Cli, fake: FakeMbs) -> None:
    """No request before the interval has passed; one poll per interval."""
    ended = cli.start("watch", "42", "--interval", "2")
    polls = len(api_requests(fake))
    cli.clock.advance(1.9)
    assert len(api_requests(fake)) == polls
    cli.clock.advance(0.1)
    assert len(api_requests(fake)) == 2 * polls
    assert api_requests(fake)[:polls] == [
        f"GET {API}module-builds/42",
        f"GET {API}component-builds/?module_build=42&verbose=true&per_page=100&page=1",
    ]
    fake.set_state(42, 5)
    cli.clock.advance(2)
    assert result_of(ended) == 0


def test_terminal_watch_redraws_in_place(cli: Cli, fake: FakeMbs) -> None:
    """On a terminal the block is redrawn with ANSI: counts, batch, states,
    elapsed times."""
    ended = cli.start("watch", "42", tty=True)
    first = cli.out.getvalue()
    assert "\x1b" not in first
    assert first.splitlines() == [
        "build 42 demo:main:4020261127100000:6c81f848  wait  1m00s",
        "  0/3 components done",
        "    module-build-macros  waiting",
        "    alpha                waiting",
        "    beta                 waiting",
    ]
    fake.set_state(42, 2)
    fake.set_component(42, "module-build-macros", 1, batch=1, task_id=101)
    fake.set_component(42, "alpha", 0, batch=2, task_id=102)
    cli.clock.advance(5)
    fake.set_state(42, 5)
    cli.clock.advance(5)
    assert result_of(ended) == 0
    draws = cli.out.getvalue()[len(first) :].split(ERASE.format(5))
    assert draws[0] == ""
    second, third = draws[1:]
    assert second.splitlines() == [
        "build 42 demo:main:4020261127100000:6c81f848  build  1m05s",
        "  1/3 components done, batch 2",
        "    module-build-macros  complete",
        "    alpha                building       0s",
        "    beta                 waiting",
    ]
    assert third.splitlines()[0] == (
        "build 42 demo:main:4020261127100000:6c81f848  ready  6m00s"
    )
    assert third.splitlines()[3] == "    alpha                building       5s"


def test_terminal_lines_are_cut_to_the_width(cli: Cli, fake: FakeMbs) -> None:
    """A line longer than the terminal is cut, so the redraw stays aligned."""
    fake.set_state(42, 4, "x" * 500)
    assert result_of(cli.start("watch", "42", tty=True)) == 1
    assert max(len(line) for line in cli.out.getvalue().splitlines()) == 99


def test_failed_build_exits_1_with_its_reason(cli: Cli, fake: FakeMbs) -> None:
    """A build that fails ends the watch with status 1 and says why (the
    first line of a component's reason: its log would break the lines)."""
    ended = cli.start("watch", "42")
    log = "\n--- last 1 lines of build.log (Koji task 7) ---\n[exit status 1]"
    reason = "rpmbuild failed" + log  # only the first line is shown
    fake.set_component(42, "alpha", 3, batch=2, task_id=7, reason=reason)
    fake.set_state(42, 4, "Component alpha (task 7) failed")
    cli.clock.advance(5)
    assert result_of(ended) == 1
    lines = cli.out.getvalue().splitlines()
    assert lines[-2].endswith(": alpha failed (task 7): rpmbuild failed")
    assert lines[-1].endswith(
        ": failed, 0/3 components done, batch 2: Component alpha (task 7) failed"
    )


def test_retired_build_ends_the_watch_with_1(cli: Cli, fake: FakeMbs) -> None:
    """A build retired while watched (garbage) ends the watch; it is not ready."""
    ended = cli.start("watch", "42")
    fake.set_state(42, 6, "Retired by root")
    cli.clock.advance(5)
    assert result_of(ended) == 1
    assert (
        cli.out.getvalue()
        .splitlines()[-1]
        .endswith(": garbage, 0/3 components done: Retired by root")
    )
    assert cli.clock.getDelayedCalls() == []


def test_watch_of_several_builds_ends_when_all_end(cli: Cli, fake: FakeMbs) -> None:
    """With two builds, the watch ends when both end; one failed gives 1."""
    fake.add_build(id=43, state=5)
    ended = cli.start("watch", "42", "43")
    assert not ended.called
    fake.set_state(42, 4, "canceled")
    cli.clock.advance(5)
    assert result_of(ended) == 1
    # build 43 was asked once: it had ended already
    assert fake.paths().count(f"GET {API}module-builds/43") == 1


def test_watch_degrades_to_tasks_without_component_builds(
    cli: Cli, fake: FakeMbs
) -> None:
    """component-builds/ answering 404 is asked once; tasks show progress."""
    fake.has_component_builds = False
    ended = cli.start("watch", "42")
    fake.set_component(42, "alpha", 0, task_id=102)
    cli.clock.advance(5)
    fake.set_state(42, 5)
    cli.clock.advance(5)
    assert result_of(ended) == 0
    component_requests = [p for p in fake.paths() if "component-builds" in p]
    assert len(component_requests) == 1
    assert "alpha building (task 102)" in cli.out.getvalue()
    assert "batch" not in cli.out.getvalue()


def test_json_watch_prints_each_changed_build_on_one_line(
    cli: Cli, fake: FakeMbs
) -> None:
    """--json prints the server's build JSON once per change."""
    ended = cli.start("watch", "42", "--json")
    cli.clock.advance(5)  # nothing changed
    fake.set_state(42, 5)
    cli.clock.advance(5)
    assert result_of(ended) == 0
    states = [json.loads(line)["state"] for line in cli.out.getvalue().splitlines()]
    assert states == [1, 5]


def test_watch_retries_through_a_503(cli: Cli, fake: FakeMbs) -> None:
    """A 503 while watching is reported on stderr and retried."""
    ended = cli.start("watch", "42")
    fake.canned.append(
        (
            503,
            {**JSON, b"Retry-After": b"5"},
            b'{"status": 503, "error": "Service Unavailable", "message": "db down"}',
        )
    )
    cli.clock.advance(5)
    assert "rida: 503 Service Unavailable: db down" in cli.err.getvalue()
    assert "retrying" in cli.err.getvalue()
    fake.set_state(42, 5)
    cli.clock.advance(5)
    assert result_of(ended) == 0


def test_watch_gives_up_when_trouble_lasts(cli: Cli, fake: FakeMbs) -> None:
    """A server failing for GIVE_UP_AFTER_SECONDS ends the watch with 3."""
    ended = cli.start("watch", "42")
    answer = (500, {b"Content-Type": b"text/html"}, b"<h1>oops</h1>")
    fake.canned.extend([answer] * 1000)
    cli.clock.advance(5)
    cli.clock.pump([5] * int(GIVE_UP_AFTER_SECONDS / 5))
    assert result_of(ended) == 3
    assert "not JSON" in cli.err.getvalue().splitlines()[-1]
    assert cli.clock.getDelayedCalls() == []


def test_watch_of_an_unknown_build_exits_3(cli: Cli) -> None:
    """A 404 is not retried: the server's message and status 3."""
    assert cli.run("watch", "99") == 3
    assert cli.err.getvalue() == "rida: 404 Not Found: No such module build 99\n"


def test_submit_watch_watches_the_new_build(cli: Cli, fake: FakeMbs) -> None:
    """submit --watch watches the build the server created until ready."""
    ended = cli.start("submit", "git://h/modules/demo.git?#main", "--watch")
    fake.set_state(43, 5)
    cli.clock.advance(5)
    assert result_of(ended) == 0
    lines = cli.out.getvalue().splitlines()
    assert lines[0] == "Submitted module build 43: demo:main:4020261127100000:6c81f848"
    assert lines[-1] == "build 43 demo:main:4020261127100000:6c81f848: ready"


def test_watch_does_not_retry_a_server_never_reached(cli: Cli, fake: FakeMbs) -> None:
    """Trouble on the very first poll is not retried: exit 3 at once."""
    fake.canned.append((502, {b"Content-Type": b"text/html"}, b"<h1>Bad gateway</h1>"))
    assert cli.run("watch", "42") == 3
    assert len(fake.requests) == 1


def test_a_lasting_problem_is_printed_once(cli: Cli, fake: FakeMbs) -> None:
    """Piped, the same problem on three polls is one line on stderr."""
    ended = cli.start("watch", "42")
    down = (503, JSON, b'{"status": 503, "error": "x", "message": "db down"}')
    fake.canned.extend([down] * 3)
    cli.clock.pump([5, 5, 5])
    fake.set_state(42, 5)
    cli.clock.advance(5)
    assert result_of(ended) == 0
    assert cli.err.getvalue() == (
        "rida: 503 Service Unavailable: db down; the server could not do it now:"
        " try again later; retrying\n"
    )


def test_terminal_shows_the_problem_under_the_progress(cli: Cli, fake: FakeMbs) -> None:
    """On a terminal a failing poll adds a line under the redrawn progress."""
    ended = cli.start("watch", "42", tty=True)
    fake.canned.append(
        (503, JSON, b'{"status": 503, "error": "x", "message": "db down"}')
    )
    cli.clock.advance(5)
    last = cli.out.getvalue().rsplit(ERASE.format(5), 1)[-1]
    assert last.splitlines()[-1] == (
        "(503 Service Unavailable: db down; the server could not do it now:"
        " try again later; retrying)"
    )
    assert cli.err.getvalue() == ""
    fake.set_state(42, 5)
    cli.clock.advance(5)
    assert result_of(ended) == 0
    assert ERASE.format(6) in cli.out.getvalue()


def test_done_waiting_for_gating_shows_greenwaves_reason(
    cli: Cli, fake: FakeMbs
) -> None:
    """A done build that Greenwave holds: the watch says it waits for gating
    and why, prints a changed reason again, and goes on until ready."""
    ended = cli.start("watch", "42")
    fake.set_state(42, 3, "Gating: 1 of 1 required test results missing")
    cli.clock.advance(5)
    fake.set_state(42, 3, "Gating: test fedora-ci.koji-build.tier0 failed")
    cli.clock.advance(5)
    assert not ended.called
    fake.set_state(42, 5)
    cli.clock.advance(5)
    assert result_of(ended) == 0
    lines = cli.out.getvalue().splitlines()
    assert lines[-3].endswith(
        ": done, 0/3 components done, waiting for gating:"
        " Gating: 1 of 1 required test results missing"
    )
    assert lines[-2].endswith(
        "waiting for gating: Gating: test fedora-ci.koji-build.tier0 failed"
    )
    assert lines[-1].endswith(": ready, 0/3 components done")


def test_terminal_shows_the_gating_reason_under_the_title(
    cli: Cli, fake: FakeMbs
) -> None:
    """On a terminal the reason a done build waits is the second line."""
    cli.start("watch", "42", tty=True)
    fake.set_state(42, 3, "Gating: policy not satisfied")
    cli.clock.advance(5)
    block = cli.out.getvalue().rsplit("\x1b[J", 1)[-1].splitlines()
    assert "  waiting for gating: Gating: policy not satisfied" in block
