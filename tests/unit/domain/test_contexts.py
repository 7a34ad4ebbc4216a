"""MBS's stream versions and context hashes, on MBS's own test values."""

from __future__ import annotations

import hashlib

import pytest

from ridad.domain.builds import compute_contexts
from ridad.domain.contexts import (
    build_context,
    contexts,
    is_versioned_stream,
    module_context,
    runtime_context,
    stream_version,
)
from ridad.domain.modulemd import Dependencies


@pytest.mark.parametrize(
    ("stream", "padded", "unpadded"),
    [
        ("f29.1.0", 290100.0, 290100.0),
        ("f29", 290000.0, 29.0),
        ("f27.02.30", 270230.0, 270230.0),
        ("el8", 80000.0, 8.0),
        ("el8.1.0", 80100.0, 80100.0),
        ("el8.2.1", 80201.0, 80201.0),
        ("el8.10.0", 81000.0, 81000.0),
        ("f29-beta", 290000.0, 29.0),
        ("f100", 100000.0, 100.0),
        ("1.2.3.4", 1020304.0, 1020304.0),
        ("rawhide", 0.0, 0.0),
    ],
)
def test_stream_version_is_mbs_get_stream_version(
    stream: str, padded: float | None, unpadded: float | None
) -> None:
    """The table of MBS's test_models: digits and dots, two digits a part."""
    assert stream_version(stream) == padded
    assert stream_version(stream, right_pad=False) == unpadded


def test_stream_suffixes_add_to_the_first_matching_pattern() -> None:
    """MBS's STREAM_SUFFIXES: ``el8.z`` is 80000.2, ``el8.1.0.z`` 80100.3."""
    suffixes = ((r"el\d+\.z", 0.2), (r"el\d+\.\d+\.\d+\.z", 0.3))
    assert stream_version("el8.z", suffixes=suffixes) == pytest.approx(80000.2)
    assert stream_version("el8.1.0.z", suffixes=suffixes) == pytest.approx(80100.3)
    assert stream_version("el8.1.0", suffixes=suffixes) == 80100.0


@pytest.mark.parametrize(
    ("stream", "versioned"),
    [
        ("el8.1.0", True),
        ("f29.1.0", True),
        ("f29", False),
        ("el8", False),
        ("x", False),
    ],
)
def test_versioned_streams_are_the_x_y_z_ones(stream: str, versioned: bool) -> None:
    """MBS orders base streams by version only when they are ``x.y.z``."""
    assert is_versioned_stream(stream) is versioned


@pytest.mark.parametrize(
    ("buildrequires", "requires", "expected"),
    [
        # MBS test_mse.py test_generate_expanded_mmds_context.
        ({"gtk": "1", "platform": "f28"}, {"gtk": ["1"]}, "e1e005fb"),
        ({"gtk": "2", "platform": "f28"}, {"gtk": ["2"]}, "ce132a1e"),
        ({"platform": "f29"}, {"platform": ["f29"]}, "6c81f848"),
    ],
)
def test_contexts_reproduce_mbs_values(
    buildrequires: dict[str, str], requires: dict[str, list[str]], expected: str
) -> None:
    """The NSVC context MBS gives these dependencies."""
    entry = Dependencies(
        buildrequires={k: (v,) for k, v in buildrequires.items()},
        requires={k: tuple(v) for k, v in requires.items()},
    )
    result = contexts(buildrequires, [entry], ("platform",))
    assert result.context == expected
    assert (result.build_context, result.runtime_context, result.context) == (
        compute_contexts(buildrequires, requires)
    )


def test_the_first_vector_hashes_as_published() -> None:
    """Spelled out: sha1 of the sorted JSON with default separators."""
    build = build_context({"platform": "f28", "gtk": "1"})
    assert build == hashlib.sha1(b'{"gtk": "1", "platform": "f28"}').hexdigest()
    assert build.startswith("ea432ace")
    runtime = runtime_context([Dependencies(requires={"gtk": ("1",)})])
    assert runtime.startswith("447cde81")
    assert module_context(build, runtime) == "e1e005fb"


def test_build_context_without_base_modules() -> None:
    """build_context_no_bms hashes the same mapping less the base modules."""
    result = contexts({"gtk": "1", "platform": "f28"}, [], ("platform",))
    assert result.build_context_no_bms == build_context({"gtk": "1"})
    assert result.build_context_no_bms != result.build_context


def test_runtime_context_is_the_union_over_every_entry() -> None:
    """Streams of one name across entries merge, sorted; ``[]`` adds none."""
    entries = [
        Dependencies(requires={"gtk": ("2",), "foo": ()}),
        Dependencies(requires={"gtk": ("1",), "bar": ("-3",)}),
    ]
    expected = hashlib.sha1(
        b'{"bar": ["-3"], "foo": [], "gtk": ["1", "2"]}'
    ).hexdigest()
    assert runtime_context(entries) == expected
