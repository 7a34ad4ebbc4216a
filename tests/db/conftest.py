"""Fixtures of the embedded-cluster tests: a directory every account may
traverse, and the need for root."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import missing


@pytest.fixture
def running_as_root() -> None:
    """The test runs the cluster as the postgres account, which needs root."""
    if os.geteuid() != 0:
        missing("the test needs root (it runs initdb as the postgres account)")


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A fresh directory under the temporary directory that everyone may traverse."""
    path = Path(tempfile.mkdtemp(prefix="ridad-test-embedded-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
