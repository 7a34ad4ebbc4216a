"""Tests for L{ridad.errors}."""

from __future__ import annotations

from ridad.errors import ClientError, Conflict


def test_build_exists_conflict_names_the_build_and_what_may_be_resubmitted() -> None:
    """The 409 for an existing build says which build, its state, and that only a
    failed one may be submitted again, with id and state in its details."""
    error = Conflict.build_exists(nsvc="m:s:1:c", build_id=7, state="ready")
    assert isinstance(error, ClientError)
    assert error.message == (
        "Module build m:s:1:c already exists (id 7, state ready); only a failed"
        " build may be submitted again"
    )
    assert error.details == {"id": 7, "state": "ready"}
