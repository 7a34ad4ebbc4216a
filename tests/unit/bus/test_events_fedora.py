"""Tests for L{ridad.bus.events} with Fedora's messages (buildsys.*): build,
task, tag and repo topics as one L{KojiEvent}, and malformed messages as
ValueError only.

Koji's own format is in test_events_koji.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ridad.bus.events import (
    BUILD_STATE_NAMES,
    TASK_STATE_NAMES,
    KojiEvent,
    parse_fedora_message,
)
from tests.unit.bus.event_messages import (
    FEDORA_PREFIXES,
    bodies,
    destinations,
    ids,
    json_body,
    nvrs,
    tag_names,
)


def _fedora_build(build_id: int, task_id: int | None, nvr: str, new: int) -> bytes:
    """A buildsys.build.state.change body."""
    name, version, release = nvr.rsplit("-", 2)
    return json_body(
        {
            "name": name,
            "version": version,
            "release": release,
            "epoch": None,
            "attribute": "state",
            "old": 0,
            "new": new,
            "build_id": build_id,
            "task_id": task_id,
            "owner": "mbs",
            "instance": "primary",
        }
    )


def _fedora_task(task_id: int, parent: int | None, new: str) -> bytes:
    """A buildsys.task.state.change body."""
    info = {"id": task_id, "parent": parent, "method": "build"}
    return json_body(
        {
            "id": task_id,
            "info": info,
            "method": "build",
            "attribute": "state",
            "old": "OPEN",
            "new": new.upper(),
            "owner": "mbs",
            "instance": "primary",
        }
    )


def _fedora_tagging(build_id: int, nvr: str, tag: str) -> bytes:
    """A buildsys.tag or buildsys.untag body."""
    name, version, release = nvr.rsplit("-", 2)
    return json_body(
        {
            "build_id": build_id,
            "name": name,
            "version": version,
            "release": release,
            "owner": "mbs",
            "tag": tag,
            "tag_id": 3,
            "user": "mbs",
            "instance": "primary",
        }
    )


@pytest.mark.parametrize("prefix", FEDORA_PREFIXES)
def test_fedora_build_state_change(prefix: str) -> None:
    """buildsys.build.state.change gives the build, its task and the state name."""
    body = _fedora_build(41, 12, "foo-1.0-1", 3)
    event = parse_fedora_message(prefix + "buildsys.build.state.change", body)
    assert event == KojiEvent(
        kind="build",
        task_id=12,
        build_id=41,
        nvr="foo-1.0-1",
        state="failed",
        source_format="fedora",
    )


def test_fedora_task_tag_untag_and_repo_done() -> None:
    """The other topics ridad uses give task, tag, untag and repo events."""
    prefix = "/queue/Consumer.ridad.VirtualTopic.eng."
    task = parse_fedora_message(
        prefix + "buildsys.task.state.change", _fedora_task(12, 10, "closed")
    )
    assert task == KojiEvent(
        kind="task",
        task_id=12,
        parent_task_id=10,
        state="closed",
        source_format="fedora",
    )
    for kind in ("tag", "untag"):
        body = _fedora_tagging(41, "foo-1-2", "module-foo")
        assert parse_fedora_message(
            f"org.fedoraproject.prod.buildsys.{kind}", body
        ) == KojiEvent(
            kind=kind,
            build_id=41,
            nvr="foo-1-2",
            tag="module-foo",
            source_format="fedora",
        )
    body = json_body({"instance": "primary", "repo_id": 88, "tag": "t", "tag_id": 3})
    assert parse_fedora_message(prefix + "buildsys.repo.done", body) == KojiEvent(
        kind="repo", repo_id=88, tag="t", state="ready", source_format="fedora"
    )


@pytest.mark.parametrize(
    "topic",
    ["buildsys.repo.init", "buildsys.rpm.sign", "buildsys.package.list.change"],
)
def test_fedora_topics_ridad_does_not_use_are_none(topic: str) -> None:
    """Fedora topics ridad has no use for parse to None."""
    assert parse_fedora_message("org.fedoraproject.prod." + topic, b"junk") is None


@pytest.mark.parametrize(
    ("topic", "body", "reason"),
    [
        ("buildsys.build.state.change", b'{"build_id": 1}', "no new"),
        (
            "buildsys.build.state.change",
            b'{"new": 7, "build_id": 1}',
            "not a build state",
        ),
        ("buildsys.build.state.change", b'{"new": 1, "build_id": 1}', "name, version"),
        ("buildsys.task.state.change", b'{"id": 1, "new": "DONE"}', "not a task state"),
        ("buildsys.task.state.change", b'{"id": "1", "new": "OPEN"}', "body.id"),
        ("buildsys.tag", b'{"build_id": 1, "name": "a", "version": "1"}', "name"),
        ("buildsys.repo.done", b'{"tag": "t"}', "repo_id"),
        ("buildsys.untag", b"\x80", "UTF-8"),
    ],
)
def test_malformed_fedora_messages_say_what_is_wrong(
    topic: str, body: bytes, reason: str
) -> None:
    """Malformed Fedora messages raise ValueError naming the problem."""
    with pytest.raises(ValueError, match=reason):
        parse_fedora_message("org.fedoraproject.prod." + topic, body)


# --- Hypothesis --------------------------------------------------------------


@given(destination=destinations, body=bodies)
def test_any_fedora_message_gives_an_event_none_or_value_error(
    destination: str, body: bytes
) -> None:
    """Whatever arrives, parse_fedora_message answers or raises ValueError only."""
    try:
        result = parse_fedora_message(destination, body)
    except ValueError as e:
        assert str(e)
    else:
        assert result is None or isinstance(result, KojiEvent)


@given(
    prefix=st.sampled_from(FEDORA_PREFIXES),
    task_id=ids,
    parent=st.none() | ids,
    state=st.sampled_from(TASK_STATE_NAMES),
    build_id=ids,
    nvr=nvrs,
    build_state=st.integers(0, len(BUILD_STATE_NAMES) - 1),
    tag=tag_names,
)
def test_well_formed_fedora_messages_round_trip_their_ids(
    prefix: str,
    task_id: int,
    parent: int | None,
    state: str,
    build_id: int,
    nvr: str,
    build_state: int,
    tag: str,
) -> None:
    """Generated Fedora messages parse back to the ids, names and states they hold."""
    topic = prefix + "buildsys.task.state.change"
    event = parse_fedora_message(topic, _fedora_task(task_id, parent, state))
    assert event is not None
    assert (event.task_id, event.parent_task_id, event.state) == (
        task_id,
        parent,
        state,
    )
    topic = prefix + "buildsys.build.state.change"
    event = parse_fedora_message(
        topic, _fedora_build(build_id, task_id, nvr, build_state)
    )
    assert event is not None
    assert (event.build_id, event.task_id, event.nvr, event.state) == (
        build_id,
        task_id,
        nvr,
        BUILD_STATE_NAMES[build_state],
    )
    event = parse_fedora_message(
        prefix + "buildsys.untag", _fedora_tagging(build_id, nvr, tag)
    )
    assert event is not None
    assert (event.kind, event.build_id, event.nvr, event.tag) == (
        "untag",
        build_id,
        nvr,
        tag,
    )
