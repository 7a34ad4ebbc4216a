"""Finding tags, builds, users, targets and tasks the ways the hub accepts.

Each takes what a client may pass (an id, a name, a dict) and answers the
record or None, or raises the hub's error when ``strict``.
"""

from __future__ import annotations

from typing import Any

import koji

from ridad.kojisim.state import Build, HubState, Tag, Target, Task, User

__all__ = [
    "check_str",
    "find_build",
    "find_tag",
    "find_target",
    "find_user",
    "int_param",
    "require_task",
]


def int_param(value: Any) -> int:
    """Cast a parameter to int as the hub's ``convert_value`` does.

    :raises koji.ParameterError: the value is not an integer.
    """
    if value is None:
        raise koji.ParameterError("Invalid type, expected type <class 'int'>")
    try:
        return int(value)
    except (ValueError, TypeError, OverflowError):
        raise koji.ParameterError(
            f"Invalid type for value '{value}': {type(value)}, expected type"
            " <class 'int'>"
        ) from None


def check_str(value: Any) -> str:
    """Require a string parameter.

    :raises koji.ParameterError: it is not one.
    """
    if not isinstance(value, str):
        raise koji.ParameterError(
            f"Invalid type for value '{value}': {type(value)}, expected type"
            " <class 'str'>"
        )
    return value


def find_tag(state: HubState, info: Any, *, strict: bool = False) -> Tag | None:
    """A live tag by id, name or ``{id|name}`` dict.

    :raises koji.GenericError: strict and no such tag.
    :raises koji.ParameterError: ``info`` has an unusable type.
    """
    tag: Tag | None
    if isinstance(info, bool):
        raise koji.ParameterError(f"Invalid type for tagInfo: {type(info)}")
    if isinstance(info, int):
        tag = state.live_tag(info)
    elif isinstance(info, str):
        tag = state.tag_by_name(info)
    elif isinstance(info, dict) and ("id" in info or "name" in info):
        key = info.get("id", info.get("name"))
        return find_tag(state, key, strict=strict)
    else:
        raise koji.ParameterError(f"Invalid type for tagInfo: {type(info)}")
    if tag is None and strict:
        raise koji.GenericError(f"No such tagInfo: {info!r}")
    return tag


def find_user(state: HubState, info: Any, *, strict: bool = False) -> User | None:
    """A user by id, name or ``{id|name}`` dict.

    :raises koji.GenericError: strict and no such user, or a bad ``info``.
    """
    user: User | None = None
    if isinstance(info, int) and not isinstance(info, bool):
        user = state.users.get(info)
    elif isinstance(info, str):
        user = state.user_by_name(info)
    elif isinstance(info, dict) and ("id" in info or "name" in info):
        return find_user(state, info.get("id", info.get("name")), strict=strict)
    else:
        raise koji.GenericError(f"Invalid type for userInfo: {type(info)}")
    if user is None and strict:
        raise koji.GenericError(f"No such user: {info!r}")
    return user


def find_build(state: HubState, info: Any, *, strict: bool = False) -> Build | None:
    """A build by id, ``"n-v-r"`` or ``{name, version, release}``.

    :raises koji.GenericError: strict and no such build, or a bad ``info``.
    """
    build: Build | None
    if isinstance(info, int) and not isinstance(info, bool):
        build = state.builds.get(info)
    else:
        if isinstance(info, str):
            data = koji.parse_NVR(info)
        elif isinstance(info, dict):
            data = info
        else:
            raise koji.GenericError(f"Invalid type for argument: {type(info)!r}")
        if not all(key in data for key in ("name", "version", "release")):
            raise koji.GenericError("did not provide name, version, and release")
        build = state.build_by_nvr(
            str(data["name"]), str(data["version"]), str(data["release"])
        )
    if build is None and strict:
        raise koji.GenericError(f"No such build: {info!r}")
    return build


def find_target(state: HubState, info: Any, *, strict: bool = False) -> Target | None:
    """A build target by id, name or ``{id|name}`` dict.

    :raises koji.GenericError: strict and no such target.
    """
    target: Target | None = None
    if isinstance(info, int) and not isinstance(info, bool):
        target = state.targets.get(info)
    elif isinstance(info, str):
        target = state.target_by_name(info)
    elif isinstance(info, dict) and ("id" in info or "name" in info):
        return find_target(state, info.get("id", info.get("name")), strict=strict)
    if target is None and strict:
        raise koji.GenericError(f"No such build target: {info}")
    return target


def require_task(state: HubState, task_id: Any) -> Task:
    """The task with this id, the way the hub's strict queries fail.

    :raises koji.GenericError: ``query returned no rows``.
    :raises koji.ParameterError: the id is not an integer.
    """
    task = state.tasks.get(int_param(task_id))
    if task is None:
        raise koji.GenericError("query returned no rows")
    return task
