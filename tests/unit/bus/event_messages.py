"""What the Koji and Fedora event parser tests share: the destination
prefixes each format arrives under, JSON bodies, and Hypothesis strategies
for arbitrary messages and for the ids, NVRs and tags of well-formed ones."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from ridad.bus.events import BUILD_STATE_NAMES, TASK_STATE_NAMES

KOJI_PREFIXES = ["/topic/koji.", "topic://koji.", "koji.", ""]
FEDORA_PREFIXES = [
    "/queue/Consumer.ridad.VirtualTopic.eng.",
    "org.fedoraproject.prod.",
    "/topic/",
    "",
]


def json_body(data: Any) -> bytes:
    """JSON bytes."""
    return json.dumps(data).encode()


# Arbitrary messages: any destination, props and body, JSON or not.

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
_keys = st.sampled_from(
    [
        "id",
        "parent",
        "new",
        "old",
        "info",
        "build",
        "tag",
        "repo",
        "task_id",
        "build_id",
        "repo_id",
        "nvr",
        "name",
        "version",
        "release",
        "tag_name",
    ]
)
_nested = st.dictionaries(_keys, _json_values, max_size=6)
bodies = (
    st.binary(max_size=40)
    | _json_values.map(json_body)
    | st.dictionaries(_keys, _json_values | _nested, max_size=8).map(json_body)
)
_suffixes = st.sampled_from(
    [f"task.{s}" for s in TASK_STATE_NAMES]
    + [f"build.{s}" for s in BUILD_STATE_NAMES]
    + ["build.tag", "build.untag", "repo.done", "repo.init", "package.add"]
    + ["buildsys." + t for t in ("build.state.change", "task.state.change")]
    + ["buildsys.tag", "buildsys.untag", "buildsys.repo.done", "buildsys.repo.init"]
)
destinations = st.text(max_size=20) | st.builds(
    lambda p, s: p + s, st.sampled_from(KOJI_PREFIXES + FEDORA_PREFIXES), _suffixes
)
header_dicts = st.dictionaries(
    _keys,
    st.text(max_size=6) | st.integers(0, 10**20).map(str) | st.sampled_from(["None"]),
    max_size=5,
)

# The parts of well-formed messages.

ids = st.integers(min_value=1, max_value=2**40)
nvrs = st.builds(
    lambda n, v, r: f"{n}-{v}-{r}",
    st.from_regex(r"[a-z][a-z0-9_+-]{0,8}", fullmatch=True),
    st.from_regex(r"[0-9][0-9.]{0,5}", fullmatch=True),
    st.from_regex(r"[0-9][a-z0-9_.]{0,10}", fullmatch=True),
)
tag_names = st.from_regex(r"[a-z][a-z0-9_.-]{0,15}", fullmatch=True)
