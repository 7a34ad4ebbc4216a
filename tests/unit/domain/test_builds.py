"""Pure rules identifying module builds: contexts, version, batches."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ridad.domain.builds import (
    assign_batches,
    compute_contexts,
    module_version,
    stream_version_prefix,
)
from ridad.errors import Unprocessable

WHEN = datetime(2026, 11, 27, 10, 0, 5, tzinfo=UTC)


def test_contexts_follow_mbs_formula() -> None:
    """The contexts are MBS's SHA-1s of the sorted JSON dependency maps."""
    build, runtime, context = compute_contexts(
        {"python": "3", "platform": "f40"}, {"platform": ["f40"], "python": ["3"]}
    )
    expected_build = hashlib.sha1(b'{"platform": "f40", "python": "3"}').hexdigest()
    expected_runtime = hashlib.sha1(
        b'{"platform": ["f40"], "python": ["3"]}'
    ).hexdigest()
    assert (build, runtime) == (expected_build, expected_runtime)
    assert (
        context
        == hashlib.sha1(f"{expected_build}:{expected_runtime}".encode()).hexdigest()[:8]
    )


@given(st.dictionaries(st.text(min_size=1), st.text(min_size=1), max_size=5))
def test_contexts_ignore_mapping_order(deps: dict[str, str]) -> None:
    """The same dependencies in another order give the same context."""
    reversed_deps = dict(reversed(list(deps.items())))
    requires = {k: [v] for k, v in deps.items()}
    assert compute_contexts(deps, requires) == compute_contexts(
        reversed_deps, dict(reversed(list(requires.items())))
    )
    assert len(compute_contexts(deps, requires)[2]) == 8


def test_runtime_context_sorts_streams() -> None:
    """Runtime stream lists are sorted before hashing, as MBS does."""
    assert compute_contexts({}, {"a": ["2", "1"]}) == compute_contexts(
        {}, {"a": ["1", "2"]}
    )
    assert json.dumps({"a": ["1", "2"]})  # the form hashed


@pytest.mark.parametrize(
    "stream, prefix",
    [
        ("f40", "40"),
        ("el8.1.0", "80100"),
        ("f29", "29"),
        ("el8.2.0", "80200"),
        ("el9", "9"),
        ("rawhide", None),
        ("f40-beta", "40"),
    ],
)
def test_stream_version_prefix_matches_mbs(stream: str, prefix: str | None) -> None:
    """Base module streams give MBS's version prefixes."""
    assert stream_version_prefix(stream) == prefix


def test_version_is_prefix_and_commit_time() -> None:
    """The version is the base stream prefix followed by the commit time."""
    assert module_version(base_stream="f40", committer_time=WHEN) == 4020261127100005
    assert module_version(base_stream=None, committer_time=WHEN) == 20261127100005


def test_version_too_large_keeps_the_timestamp() -> None:
    """A prefix that would pass 2**64-1 is dropped, as MBS does."""
    assert (
        module_version(base_stream="v99999999", committer_time=WHEN) == 20261127100005
    )


def test_batches_from_buildorder_start_at_two() -> None:
    """Each distinct buildorder is one batch, ascending, from batch 2."""
    assert assign_batches({"a": 10, "b": 0, "c": 10, "d": -5}, {}) == {
        "d": 2,
        "b": 3,
        "a": 4,
        "c": 4,
    }


def test_batches_from_buildafter_follow_dependencies() -> None:
    """With buildafter, a component goes one batch after what it needs."""
    batches = assign_batches(
        {"a": 0, "b": 0, "c": 0, "d": 0},
        {"b": ["a"], "c": ["a", "b"], "d": []},
    )
    assert batches == {"a": 2, "b": 3, "c": 4, "d": 2}


def test_buildafter_cycle_is_refused() -> None:
    """A buildafter cycle is a 422 naming the cycle."""
    with pytest.raises(Unprocessable, match="a -> b -> a"):
        assign_batches({"a": 0, "b": 0}, {"a": ["b"], "b": ["a"]})


def test_buildafter_self_reference_is_refused() -> None:
    """A component that builds after itself is refused."""
    with pytest.raises(Unprocessable, match="cycle"):
        assign_batches({"a": 0}, {"a": ["a"]})
