"""Koji dicts to domain values (from the real hub's answers), and NVR strings."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ridad.domain.koji import KojiBuild, KojiEvent, KojiRepo, KojiTask
from ridad.errors import KojiError
from ridad.koji.values import (
    build_from_info,
    event_from_info,
    parse_nvr,
    render_nvr,
    repo_from_info,
    task_from_info,
)
from tests.unit.koji.recordings import load, response_value

NVR_PART = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1
).filter(lambda s: not any(c.isspace() for c in s))
VERSION_PART = NVR_PART.filter(lambda s: "-" not in s)
INFO_VALUES = st.none() | st.integers() | st.floats() | st.text() | st.booleans()


def _recorded(number: int) -> Any:
    value = response_value(load(number))
    return value[0] if isinstance(value, list) else value


def test_free_task_from_get_task_info() -> None:
    """A FREE build task (exchange 045) has no start or completion time."""
    info = _recorded(45)
    assert task_from_info(info) == KojiTask(
        id=1,
        state="free",
        method="build",
        create_ts=info["create_ts"],
        start_ts=None,
        completion_ts=None,
        parent=None,
        owner=1,
    )
    assert not task_from_info(info).finished


@pytest.mark.parametrize(
    ("number", "state"), [(60, "closed"), (74, "canceled"), (57, "closed")]
)
def test_finished_tasks_from_recorded_answers(number: int, state: str) -> None:
    """Closed and canceled tasks read their state name and completion time."""
    info = _recorded(number)
    task = task_from_info(info)
    assert (task.state, task.completion_ts) == (state, info["completion_ts"])
    assert task.finished


def test_failed_task_from_a_multicall_poll() -> None:
    """The FAILED task of the multicall poll (exchange 048) reads as failed."""
    entries = response_value(load(48))
    assert [task_from_info(e[0]).state for e in entries[:3]] == [
        "closed",
        "closed",
        "failed",
    ]


@pytest.mark.parametrize("number", [54, 53, 61])
def test_build_from_get_build_list_builds_and_list_tagged(number: int) -> None:
    """getBuild, listBuilds (no ``id``) and listTagged dicts give the same build."""
    assert build_from_info(_recorded(number)) == KojiBuild(
        id=2,
        nvr="alpha-1.0-1.module_f40+1+abcdef12",
        name="alpha",
        version="1.0",
        release="1.module_f40+1+abcdef12",
        state="complete",
        task_id=1,
    )


@pytest.mark.parametrize("number", [70, 71])
def test_repo_from_get_repo_and_repo_info(number: int) -> None:
    """getRepo and repoInfo dicts give the READY repo of the -build tag."""
    assert repo_from_info(_recorded(number)) == KojiRepo(
        id=1,
        state="ready",
        create_event=27,
        tag_name="module-testmod-master-20261101100000-abcdef12-build",
    )


@pytest.mark.parametrize(
    "change",
    [
        {"state": 6},
        {"state": -1},
        {"state": "FREE"},
        {"id": "1"},
        {"id": True},
        {"create_ts": "yesterday"},
        {"start_ts": "now"},
        {"owner": None},
        {"method": 3},
    ],
)
def test_malformed_task_info_is_a_koji_error(change: dict[str, Any]) -> None:
    """A wrong type or unknown state raises KojiError naming the problem."""
    info = {**_recorded(45), **change}
    with pytest.raises(KojiError, match="Malformed Koji task info"):
        task_from_info(info)


@pytest.mark.parametrize("missing", ["id", "state", "method", "create_ts", "owner"])
def test_task_info_without_a_field_is_a_koji_error(missing: str) -> None:
    """A missing required field raises KojiError, not KeyError."""
    info = dict(_recorded(45))
    del info[missing]
    with pytest.raises(KojiError):
        task_from_info(info)


@pytest.mark.parametrize(
    "change", [{"nvr": "alpha-2.0-1"}, {"state": 9}, {"version": "1-0"}, {"name": 1}]
)
def test_malformed_build_info_is_a_koji_error(change: dict[str, Any]) -> None:
    """An inconsistent NVR, unknown state or bad part raises KojiError."""
    with pytest.raises(KojiError):
        build_from_info({**_recorded(54), **change})


@pytest.mark.parametrize("info", [None, [], "x", {"id": 1}])
def test_non_dict_infos_are_koji_errors(info: Any) -> None:
    """Things that are not the hub's structs raise KojiError."""
    for convert in (task_from_info, build_from_info, repo_from_info):
        with pytest.raises(KojiError):
            convert(info)


@pytest.mark.parametrize(
    ("nvr", "parts"),
    [
        ("bash-5.2.26-3.fc40", ("bash", "5.2.26", "3.fc40")),
        ("python3-foo-bar-1.0-1", ("python3-foo-bar", "1.0", "1")),
        (
            "module-build-macros-0.1-1.module_f40+1+abcdef12",
            ("module-build-macros", "0.1", "1.module_f40+1+abcdef12"),
        ),
    ],
)
def test_nvr_splits_at_the_last_two_dashes(nvr: str, parts: tuple[str, ...]) -> None:
    """The name keeps its dashes; version and release have none."""
    assert parse_nvr(nvr) == parts


@pytest.mark.parametrize(
    "nvr", ["", "bash", "bash-5.2", "-1-1", "a--1", "a-1-", "a b-1-1"]
)
def test_invalid_nvr_is_a_koji_error(nvr: str) -> None:
    """Fewer than three non-empty parts, or whitespace, raises KojiError."""
    with pytest.raises(KojiError):
        parse_nvr(nvr)


@given(name=NVR_PART, version=VERSION_PART, release=VERSION_PART)
def test_nvr_render_then_parse_round_trips(
    name: str, version: str, release: str
) -> None:
    """parse_nvr(render_nvr(n, v, r)) gives back (n, v, r)."""
    assert parse_nvr(render_nvr(name, version, release)) == (name, version, release)


@given(text=st.text())
def test_garbage_nvr_raises_only_koji_error(text: str) -> None:
    """Any string either parses into parts that render back to it, or raises KojiError."""
    try:
        parts = parse_nvr(text)
    except KojiError:
        return
    assert render_nvr(*parts) == text


@given(
    info=st.dictionaries(
        st.sampled_from(
            [
                "id",
                "state",
                "method",
                "create_ts",
                "owner",
                "parent",
                "nvr",
                "name",
                "version",
                "release",
                "create_event",
                "tag_name",
                "task_id",
            ]
        ),
        INFO_VALUES,
    )
)
def test_arbitrary_dicts_raise_only_koji_error(info: dict[str, Any]) -> None:
    """Converters given arbitrary dicts return a value or raise KojiError."""
    for convert in (task_from_info, build_from_info, repo_from_info):
        try:
            convert(info)
        except KojiError:
            pass


def test_event_from_get_last_event() -> None:
    """``getLastEvent``'s ``{id, ts}`` is a KojiEvent."""
    assert event_from_info({"id": 812, "ts": 1764633600.5}) == KojiEvent(
        812, 1764633600.5
    )


@given(st.one_of(st.none(), st.integers(), st.dictionaries(st.text(), st.text())))
def test_malformed_event_is_a_koji_error(info: Any) -> None:
    """Anything but an event struct raises only KojiError."""
    with pytest.raises(KojiError):
        event_from_info(info)
