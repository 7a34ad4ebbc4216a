"""MBS's list filters on what resolution records (issue 11 §4), parsed into
``Condition``s of the fixed expressions in ``ridad.db.mbs_filters``:

- ``base_module_br=name:stream:version:context``, ``base_module_br_name``,
  ``base_module_br_stream``, ``base_module_br_stream_version_lte`` and
  ``_gte`` (a number: MBS's stream version, ``el8.1.0`` is 80100): builds
  built against such a base module;
- ``virtual_stream`` (repeatable, any of): base modules offering it;
- ``buildrequires`` (repeatable, all of): ``name`` or ``name:stream`` of a
  module the build was built against;
- ``rpm=NVR`` (or ``N-E:V-R``, ``N-V-R.arch``): the module build that built
  it, by its version-release, which a module's ``%dist`` makes its own;
- ``cg_build_koji_tag``: builds imported and tagged into that tag
  (``koji.cg_tag``; any other tag matches nothing).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from ridad.api.inputs import UINT64_MAX, whole_number
from ridad.db.mbs_filters import like_suffix
from ridad.db.mbs_queries import Condition

KEYS = frozenset(
    {
        "base_module_br",
        "base_module_br_name",
        "base_module_br_stream",
        "base_module_br_stream_version_lte",
        "base_module_br_stream_version_gte",
        "virtual_stream",
        "buildrequires",
        "rpm",
        "cg_build_koji_tag",
    }
)
_ARCH_SUFFIXES = (
    ".src",
    ".noarch",
    ".x86_64",
    ".aarch64",
    ".ppc64le",
    ".s390x",
    ".i686",
)


class Problems(Protocol):
    """Where a bad value is reported (``mbs_params.Problems``)."""

    def add(self, key: str, problem: str) -> None: ...


def _single(args: Mapping[str, list[str]], key: str, problems: Problems) -> str | None:
    values = set(args.get(key, []))
    if len(values) > 1:
        problems.add(key, "give it once")
        return None
    return next(iter(values), None)


def _base_module_br(text: str, problems: Problems) -> list[Condition]:
    parts = text.split(":")
    if len(parts) != 4 or "" in parts:
        problems.add("base_module_br", "must be name:stream:version:context")
        return []
    try:
        version = whole_number(parts[2], minimum=0, maximum=UINT64_MAX)
    except ValueError as e:
        problems.add("base_module_br", f"version: {e}")
        return []
    return [
        Condition("base_module_br", "expr", (parts[0], parts[1], version, parts[3]))
    ]


def _stream_version(key: str, text: str, problems: Problems) -> list[Condition]:
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if number != number or number in (float("inf"), float("-inf")):
        problems.add(key, "must be a number (a stream version such as 80100)")
        return []
    return [Condition(key, "expr", (number,))]


def _buildrequires(texts: list[str], problems: Problems) -> list[Condition]:
    conditions = []
    for text in sorted(set(texts)):
        name, colon, stream = text.partition(":")
        if not name or (colon and not stream) or ":" in stream:
            problems.add("buildrequires", "must be name or name:stream")
        elif colon:
            wanted = json.dumps({name: {"stream": stream}})
            conditions.append(Condition("buildrequires_stream", "expr", (wanted,)))
        else:
            conditions.append(Condition("buildrequires", "expr", (name,)))
    return conditions


def _rpm(text: str, problems: Problems) -> list[Condition]:
    nvr = next((text[: -len(s)] for s in _ARCH_SUFFIXES if text.endswith(s)), text)
    name_version, _, release = nvr.rpartition("-")
    name, _, version = name_version.rpartition("-")
    version = version.partition(":")[2] or version
    if not (name and version and release):
        problems.add("rpm", "must be an NVR such as foo-1.0-1.module+f40+1+abcdef12")
        return []
    return [Condition("rpm", "expr", (like_suffix(f"{version}-{release}"),))]


def resolution_filters(
    args: Mapping[str, list[str]], problems: Problems, *, cg_tag: str | None
) -> list[Condition]:
    """The conditions of the filters in ``KEYS`` that ``args`` holds."""
    conditions: list[Condition] = []
    text = _single(args, "base_module_br", problems)
    if text is not None:
        conditions.extend(_base_module_br(text, problems))
    for key in ("base_module_br_name", "base_module_br_stream"):
        text = _single(args, key, problems)
        if text is not None:
            conditions.append(Condition(key, "expr", (text,)))
    for key in (
        "base_module_br_stream_version_lte",
        "base_module_br_stream_version_gte",
    ):
        text = _single(args, key, problems)
        if text is not None:
            conditions.extend(_stream_version(key, text, problems))
    if args.get("virtual_stream"):
        streams: Any = sorted(set(args["virtual_stream"]))
        conditions.append(Condition("virtual_stream", "expr", (streams,)))
    conditions.extend(_buildrequires(args.get("buildrequires", []), problems))
    text = _single(args, "rpm", problems)
    if text is not None:
        conditions.extend(_rpm(text, problems))
    text = _single(args, "cg_build_koji_tag", problems)
    if text is not None:
        matches = cg_tag is not None and text == cg_tag
        conditions.append(
            Condition("cg_imported" if matches else "nothing", "expr", ())
        )
    return conditions
