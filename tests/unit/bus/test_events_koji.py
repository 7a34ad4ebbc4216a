"""Tests for L{ridad.bus.events} with Koji's own format (protonmsg): task,
build, tag and repo messages as one L{KojiEvent}, and malformed messages as
ValueError only.

Fedora's messages are in test_events_fedora.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ridad.bus.events import (
    BUILD_STATE_NAMES,
    TASK_STATE_NAMES,
    KojiEvent,
    parse_koji_message,
)
from tests.unit.bus.event_messages import (
    KOJI_PREFIXES,
    bodies,
    destinations,
    header_dicts,
    ids,
    json_body,
    nvrs,
    tag_names,
)


def _build_info(build_id: int, task_id: int | None, nvr: str = "foo-1.0-1") -> dict:
    """A getBuild dict (the fields the parser reads, and a few more)."""
    name, version, release = nvr.rsplit("-", 2)
    return {
        "id": build_id,
        "build_id": build_id,
        "name": name,
        "version": version,
        "release": release,
        "nvr": nvr,
        "task_id": task_id,
        "state": 1,
        "extra": {"source": {"original_url": "git://x"}},
    }


def _koji_task(task_id: int, parent: int | None, old: str | None, new: str) -> tuple:
    """A ``task.<new>`` message: address, headers (props), body."""
    headers = {"type": "TaskStateChange", "id": str(task_id), "method": "buildArch"}
    headers.update({"attribute": "state", "new": new.upper()})
    if parent is not None:
        headers["parent"] = str(parent)
    if old is not None:
        headers["old"] = old.upper()
    info = {"id": task_id, "parent": parent, "method": "buildArch", "request": []}
    body = {"attribute": "state", "old": old, "new": new.upper(), "info": info}
    return f"task.{new}", headers, json_body(body)


def _koji_build(build_id: int, task_id: int | None, nvr: str, new: int) -> tuple:
    """A ``build.<state>`` message."""
    name, version, release = nvr.rsplit("-", 2)
    state = BUILD_STATE_NAMES[new]
    headers = {"type": "BuildStateChange", "name": name, "version": version}
    headers.update({"release": release, "attribute": "state", "new": state.upper()})
    body = {
        "attribute": "state",
        "old": None,
        "new": new,
        "info": _build_info(build_id, task_id, nvr),
        "btypes": {"rpm": None},
    }
    return f"build.{state}", headers, json_body(body)


def _koji_tagging(action: str, tag: str, build_id: int, nvr: str) -> tuple:
    """A ``build.tag`` or ``build.untag`` message."""
    name, version, release = nvr.rsplit("-", 2)
    headers = {"type": action.capitalize(), "tag": tag, "name": name}
    headers.update({"version": version, "release": release, "user": "kojiadmin"})
    body = {
        "tag": {"id": 7, "name": tag, "arches": None},
        "build": _build_info(build_id, None, nvr),
        "user": {"id": 1, "name": "kojiadmin", "status": 0, "usertype": 0},
        "force": False,
    }
    return f"build.{action}", headers, json_body(body)


def _koji_repo_done(repo_id: int, tag: str, task_id: int) -> tuple:
    """A ``repo.done`` message: task_id null in the body, set in the props."""
    headers = {"type": "RepoDone", "tag": tag, "repo_id": str(repo_id)}
    headers.update({"task_id": str(task_id), "expire": "false"})
    repo = {"id": repo_id, "tag_name": tag, "state": 0, "task_id": task_id}
    body = {"repo": repo, "data": {}, "expire": False, "task_id": None}
    return "repo.done", headers, json_body(body)


# --- Koji's format -----------------------------------------------------------


@pytest.mark.parametrize("prefix", KOJI_PREFIXES)
def test_task_closed_under_any_prefix(prefix: str) -> None:
    """A task.closed message gives the task, its parent and the state name."""
    address, headers, body = _koji_task(12, 10, "open", "closed")
    assert parse_koji_message(prefix + address, headers, body) == KojiEvent(
        kind="task", task_id=12, parent_task_id=10, state="closed", source_format="koji"
    )


def test_task_free_with_make_task_options_as_info() -> None:
    """On creation ``info`` holds the raw request XML and no times; that parses."""
    info = {"id": 5, "method": "build", "request": "<?xml version='1.0'?>", "state": 0}
    body = {"attribute": "state", "old": None, "new": "FREE", "info": info}
    event = parse_koji_message("/topic/koji.task.free", {}, json_body(body))
    assert event == KojiEvent(
        kind="task", task_id=5, state="free", source_format="koji"
    )


def test_task_id_from_the_props_alone() -> None:
    """Without ``info`` the props still name the task."""
    event = parse_koji_message("koji.task.failed", {"id": "9", "parent": "None"}, b"{}")
    assert event is not None and (event.task_id, event.parent_task_id) == (9, None)


def test_build_complete_names_build_nvr_and_task() -> None:
    """build.complete gives the build id, NVR, build task and state."""
    address, headers, body = _koji_build(41, 12, "foo-1.0-1.module_f40", 1)
    assert parse_koji_message("/topic/koji." + address, headers, body) == KojiEvent(
        kind="build",
        task_id=12,
        build_id=41,
        nvr="foo-1.0-1.module_f40",
        state="complete",
        source_format="koji",
    )


@pytest.mark.parametrize("action", ["tag", "untag"])
def test_tag_and_untag(action: str) -> None:
    """build.tag and build.untag give the tag name and the build."""
    address, headers, body = _koji_tagging(action, "module-foo-build", 41, "foo-1-2")
    event = parse_koji_message("topic://koji." + address, headers, body)
    assert event == KojiEvent(
        kind=action,
        build_id=41,
        nvr="foo-1-2",
        tag="module-foo-build",
        source_format="koji",
    )


def test_repo_done_takes_the_task_from_the_props() -> None:
    """repo.done's body has task_id null; the prop (and repo.task_id) give it."""
    address, headers, body = _koji_repo_done(88, "module-foo-build", 77)
    event = parse_koji_message("/topic/koji." + address, headers, body)
    assert event == KojiEvent(
        kind="repo",
        task_id=77,
        repo_id=88,
        tag="module-foo-build",
        state="ready",
        source_format="koji",
    )


@pytest.mark.parametrize(
    "address",
    [
        "repo.init",
        "package.add",
        "import.build",
        "import.rpm",
        "sign.rpm",
        "build.promote",
        "task.weird",
        "something.else",
        "/topic/koji.retask.closed",
    ],
)
def test_kinds_ridad_does_not_use_are_none(address: str) -> None:
    """Messages ridad has no use for parse to None, whatever their body."""
    assert parse_koji_message("/topic/koji." + address, {}, b"\xff not json") is None


@pytest.mark.parametrize(
    ("destination", "headers", "body", "reason"),
    [
        ("koji.task.open", {}, b"\xff\xfe", "not UTF-8"),
        ("koji.task.open", {}, b"{", "not JSON"),
        ("koji.task.open", {}, b"[1]", "not an object"),
        ("koji.task.open", {}, b"{}", "no task id"),
        ("koji.task.open", {"id": "x1"}, b"{}", "header id"),
        ("koji.task.open", {"id": "1"}, b'{"info": {"id": 2}}', "disagrees"),
        ("koji.task.open", {"id": "1"}, b'{"new": "CLOSED"}', "address says open"),
        ("koji.task.open", {}, b'{"info": {"id": "1"}}', "info.id"),
        ("koji.task.open", {}, b'{"info": [1]}', "body.info"),
        ("koji.build.complete", {}, b'{"info": {}}', "names no build"),
        ("koji.build.complete", {}, b'{"new": 9, "info": {"id": 1}}', "not a build"),
        ("koji.build.complete", {}, b'{"new": 0, "info": {"id": 1}}', "address"),
        ("koji.build.tag", {}, b'{"build": {"id": 1}}', "names no tag"),
        ("koji.build.tag", {"tag": "t"}, b'{"build": {"nvr": 5}}', "build.nvr"),
        ("koji.repo.done", {}, b'{"repo": {}}', "no repo id"),
        ("koji.repo.done", {"repo_id": "1", "task_id": "2"}, b'{"task_id": 3}', "task"),
        ("koji.build.tag", {"tag": "t"}, b'{"build": {"id": true}}', "build.id"),
    ],
)
def test_malformed_koji_messages_say_what_is_wrong(
    destination: str, headers: dict[str, str], body: bytes, reason: str
) -> None:
    """Malformed messages raise ValueError naming the problem."""
    with pytest.raises(ValueError, match=reason):
        parse_koji_message(destination, headers, body)


# --- Hypothesis --------------------------------------------------------------


@given(destination=destinations, headers=header_dicts, body=bodies)
def test_any_koji_message_gives_an_event_none_or_value_error(
    destination: str, headers: dict[str, str], body: bytes
) -> None:
    """Whatever arrives, parse_koji_message answers or raises ValueError only."""
    try:
        result = parse_koji_message(destination, headers, body)
    except ValueError as e:
        assert str(e)
    else:
        assert result is None or isinstance(result, KojiEvent)


@given(
    prefix=st.sampled_from(KOJI_PREFIXES),
    task_id=ids,
    parent=st.none() | ids,
    state=st.sampled_from(TASK_STATE_NAMES),
    build_id=ids,
    nvr=nvrs,
    build_state=st.integers(0, len(BUILD_STATE_NAMES) - 1),
    tag=tag_names,
    repo_id=ids,
)
def test_well_formed_koji_messages_round_trip_their_ids(
    prefix: str,
    task_id: int,
    parent: int | None,
    state: str,
    build_id: int,
    nvr: str,
    build_state: int,
    tag: str,
    repo_id: int,
) -> None:
    """Generated Koji messages parse back to the ids, names and states they hold."""
    address, headers, body = _koji_task(task_id, parent, None, state)
    assert parse_koji_message(prefix + address, headers, body) == KojiEvent(
        kind="task",
        task_id=task_id,
        parent_task_id=parent,
        state=state,
        source_format="koji",
    )
    address, headers, body = _koji_build(build_id, task_id, nvr, build_state)
    event = parse_koji_message(prefix + address, headers, body)
    assert event is not None
    assert (event.build_id, event.task_id, event.nvr, event.state) == (
        build_id,
        task_id,
        nvr,
        BUILD_STATE_NAMES[build_state],
    )
    address, headers, body = _koji_tagging("tag", tag, build_id, nvr)
    event = parse_koji_message(prefix + address, headers, body)
    assert event is not None and (event.tag, event.build_id, event.nvr) == (
        tag,
        build_id,
        nvr,
    )
    address, headers, body = _koji_repo_done(repo_id, tag, task_id)
    event = parse_koji_message(prefix + address, headers, body)
    assert event is not None and (event.repo_id, event.task_id, event.tag) == (
        repo_id,
        task_id,
        tag,
    )
