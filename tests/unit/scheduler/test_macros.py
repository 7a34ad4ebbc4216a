"""Tests for ridad.scheduler.macros: the dist tag, the macros file and the SRPM.

The SRPM tests run the real rpmbuild on the real reactor, because the
package rpmbuild writes is what they check.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from hypothesis import given
from hypothesis import strategies as st

from ridad.errors import RidadError
from ridad.scheduler.macros import (
    MacrosSrpm,
    build_macros_srpm,
    macros_text,
    module_dist,
)
from tests.helpers import require_program

NSVC = {
    "name": "testmod",
    "stream": "master",
    "version": 20261101100000,
    "context": "abcdef12",
}
HASH = hashlib.sha1(b"testmod.master.20261101100000.abcdef12").hexdigest()[:8]
BUILDOPTS = "%perl_bootstrap 1\n%with_tests 0\n%danger %(echo ran-on-the-host)\n"

needs_rpmbuild = pytest.mark.usefixtures("rpmbuild_installed")


@pytest.fixture
def rpmbuild_installed() -> None:
    """The test runs rpmbuild."""
    require_program("rpmbuild", "rpm")


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


async def _build(work_dir: Path, **overrides: Any) -> MacrosSrpm:
    """Build the macros SRPM of testmod (build 1, base f40) with overrides."""
    arguments: dict[str, Any] = {
        **NSVC,
        "reactor": _reactor(),
        "work_dir": str(work_dir),
        "module_build_id": 1,
        "base_stream": "f40",
        "rpm_macros": BUILDOPTS,
        **overrides,
    }
    return await build_macros_srpm(**arguments)


def _srpm_files(srpm: Path) -> dict[str, str]:
    """The files inside an SRPM, by name, as text."""
    archive = subprocess.run(
        ["rpm2archive", "-"],
        input=srpm.read_bytes(),
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    files = {}
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar.getmembers():
            extracted = tar.extractfile(member)
            if extracted is not None:
                files[os.path.basename(member.name)] = extracted.read().decode()
    return files


def _script(tmp_path: Path, body: str) -> str:
    """Write an executable shell script standing in for rpmbuild."""
    path = tmp_path / "fake-rpmbuild"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


# The dist tag and the macros file


def test_dist_follows_mbs_with_base_stream_build_id_and_nsvc_hash() -> None:
    """The dist is .module+<base stream>+<build id>+<sha1(n.s.v.c)[:8]>."""
    assert module_dist(**NSVC, module_build_id=1, base_stream="f40") == (
        f".module+f40+1+{HASH}"
    )


def test_dist_without_base_module_leaves_the_marking_out() -> None:
    """Without a base module the dist is .module+<build id>+<hash>, as in MBS."""
    assert module_dist(**NSVC, module_build_id=7, base_stream=None) == (
        f".module+7+{HASH}"
    )


def test_dist_replaces_dashes_in_the_base_stream() -> None:
    """A dash in the base stream becomes an underscore; dots stay."""
    dist = module_dist(**NSVC, module_build_id=3, base_stream="el8.4.0-z")
    assert dist == f".module+el8.4.0_z+3+{HASH}"


@pytest.mark.parametrize(
    "field,value", [("stream", "a b"), ("context", "ab%cd"), ("name", "")]
)
def test_dist_refuses_parts_that_break_a_macro_line(field: str, value: str) -> None:
    """An empty part, whitespace or % in a part raises RidadError."""
    parts: dict[str, Any] = {**NSVC, field: value}
    with pytest.raises(RidadError):
        module_dist(**parts, module_build_id=1, base_stream="f40")


@given(
    stream=st.text(
        alphabet=st.characters(codec="ascii", categories=["L", "N", "P"]),
        min_size=1,
    ).filter(lambda s: "%" not in s),
    module_build_id=st.integers(min_value=1, max_value=2**63 - 1),
)
def test_dist_is_one_release_safe_token_for_any_base_stream(
    stream: str, module_build_id: int
) -> None:
    """Any base stream without whitespace or % gives a dist with no dash."""
    dist = module_dist(**NSVC, module_build_id=module_build_id, base_stream=stream)
    assert dist.startswith(".module+")
    assert dist.endswith(f"+{module_build_id}+{HASH}")
    assert "-" not in dist and not any(c.isspace() for c in dist)


def test_macros_text_defines_module_macros_then_buildopts_verbatim() -> None:
    """The macros file defines %dist and the module macros, then the buildopts text."""
    text = macros_text(
        **NSVC, module_build_id=1, base_stream="f40", rpm_macros=BUILDOPTS
    )
    lines = text.splitlines()
    for line in [
        f"%dist .module+f40+1+{HASH}",
        "%modularitylabel testmod:master:20261101100000:abcdef12",
        "%_module_build 1",
        "%_module_name testmod",
        "%_module_stream master",
        "%_module_version 20261101100000",
        "%_module_context abcdef12",
    ]:
        assert line in lines
    assert text.endswith(BUILDOPTS)
    assert lines.index("%_module_context abcdef12") < lines.index("%perl_bootstrap 1")


def test_macros_text_without_buildopts_ends_after_module_macros() -> None:
    """No buildopts macros adds nothing after the module macros."""
    text = macros_text(**NSVC, module_build_id=1, base_stream=None, rpm_macros=None)
    assert "%_module_context abcdef12" in text
    assert "perl" not in text and text.endswith("\n")


# The SRPM, built by the real rpmbuild


@needs_rpmbuild
@pytest_twisted.ensureDeferred
async def test_srpm_is_named_by_its_nvr_with_the_module_dist(tmp_path: Path) -> None:
    """rpm reads module-build-macros-0.1-1<dist> from the SRPM we return."""
    srpm = await _build(tmp_path)
    path = tmp_path / srpm.filename
    path.write_bytes(srpm.content)
    queried = subprocess.run(
        ["rpm", "-qp", "--qf", "%{NAME}-%{VERSION}-%{RELEASE}", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert srpm.dist == f".module+f40+1+{HASH}"
    assert queried == srpm.nvr == f"module-build-macros-0.1-1{srpm.dist}"
    assert srpm.filename == f"{srpm.nvr}.src.rpm"


@needs_rpmbuild
@pytest_twisted.ensureDeferred
async def test_srpm_carries_the_spec_and_the_macros_with_buildopts(
    tmp_path: Path,
) -> None:
    """The SRPM holds the spec and the macros file, buildopts macros unexpanded."""
    srpm = await _build(tmp_path)
    path = tmp_path / srpm.filename
    path.write_bytes(srpm.content)
    files = _srpm_files(path)
    assert set(files) == {"module-build-macros.spec", "macros.modules"}
    assert files["macros.modules"] == macros_text(
        **NSVC, module_build_id=1, base_stream="f40", rpm_macros=BUILDOPTS
    )
    assert "%danger %(echo ran-on-the-host)" in files["macros.modules"]
    spec = files["module-build-macros.spec"]
    assert "BuildArch:  noarch" in spec and "License:    MIT" in spec
    assert "%{buildroot}%{_rpmmacrodir}/macros.zz-modules" in spec


@needs_rpmbuild
@pytest_twisted.ensureDeferred
async def test_successful_build_leaves_nothing_in_the_work_dir(
    tmp_path: Path,
) -> None:
    """The temporary rpmbuild tree is removed after a successful build."""
    work_dir = tmp_path / "work"
    work_dir.mkdir()
    await _build(work_dir)
    assert list(work_dir.iterdir()) == []


@pytest_twisted.ensureDeferred
async def test_failed_rpmbuild_raises_with_its_stderr_and_removes_the_tree(
    tmp_path: Path,
) -> None:
    """An rpmbuild exiting non-zero raises RidadError quoting its stderr tail."""
    work_dir = tmp_path / "work"
    work_dir.mkdir()
    fake = _script(tmp_path, "echo 'error: line 3: bad macro' >&2\nexit 1")
    with pytest.raises(RidadError) as raised:
        await _build(work_dir, rpmbuild_binary=fake)
    assert "exited with status 1" in raised.value.message
    assert "error: line 3: bad macro" in raised.value.message
    assert list(work_dir.iterdir()) == []


@pytest_twisted.ensureDeferred
async def test_slow_rpmbuild_is_killed_at_the_time_limit(tmp_path: Path) -> None:
    """An rpmbuild outliving timeout_seconds raises RidadError; the tree goes."""
    work_dir = tmp_path / "work"
    work_dir.mkdir()
    fake = _script(tmp_path, "exec sleep 30")
    with pytest.raises(RidadError) as raised:
        await _build(work_dir, rpmbuild_binary=fake, timeout_seconds=0.3)
    assert "did not finish within 0.3 s" in raised.value.message
    assert list(work_dir.iterdir()) == []


@pytest_twisted.ensureDeferred
async def test_missing_rpmbuild_raises_without_leaving_a_tree(tmp_path: Path) -> None:
    """A nonexistent rpmbuild path raises RidadError and leaves the work dir empty."""
    work_dir = tmp_path / "work"
    work_dir.mkdir()
    with pytest.raises(RidadError) as raised:
        await _build(work_dir, rpmbuild_binary=str(tmp_path / "no-such-rpmbuild"))
    assert "no-such-rpmbuild" in raised.value.message
    assert list(work_dir.iterdir()) == []


@pytest_twisted.ensureDeferred
async def test_srpm_without_rpmbuild_output_is_an_error(tmp_path: Path) -> None:
    """An rpmbuild that exits 0 but writes no SRPM raises RidadError."""
    work_dir = tmp_path / "work"
    work_dir.mkdir()
    fake = _script(tmp_path, "exit 0")
    with pytest.raises(RidadError, match="0 SRPMs"):
        await _build(work_dir, rpmbuild_binary=fake)
    assert list(work_dir.iterdir()) == []


def test_a_scratch_build_dist_starts_with_scrmod() -> None:
    """MBS marks a scratch module's RPMs .scrmod+ instead of .module+."""
    dist = module_dist(**NSVC, module_build_id=5, base_stream="f40", scratch=True)
    assert dist == f".scrmod+f40+5+{HASH}"
