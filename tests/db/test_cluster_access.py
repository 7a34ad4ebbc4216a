"""Tests for ridad.db.cluster_access: the state directory, the socket
directory and the authentication files of the embedded cluster."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from ridad.db.cluster_access import (
    choose_socket_dir,
    make_state_dir,
    prepare_socket_dir,
    write_access_files,
)
from ridad.errors import ConfigError

as_root = pytest.mark.usefixtures("running_as_root")


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_a_state_dir_ridad_creates_is_0750_whatever_the_umask(
    open_dir: Path, umask: int
) -> None:
    """make_state_dir makes a missing state_dir (and its parents) 0750."""
    state_dir = open_dir / "parent" / "state"
    previous = os.umask(umask)
    try:
        make_state_dir(str(state_dir))
    finally:
        os.umask(previous)
    assert state_dir.stat().st_mode & 0o777 == 0o750


def test_an_existing_state_dir_is_left_as_it_is(open_dir: Path) -> None:
    """A state_dir the administrator made keeps its mode."""
    state_dir = open_dir / "state"
    state_dir.mkdir(mode=0o711)
    state_dir.chmod(0o711)
    make_state_dir(str(state_dir), group_of="postgres")
    assert state_dir.stat().st_mode & 0o777 == 0o711
    assert state_dir.stat().st_gid == os.getegid()


@as_root
def test_as_root_the_state_dir_belongs_to_the_postgres_group(open_dir: Path) -> None:
    """The postgres account may enter a root-owned 0750 state_dir, others may not."""
    state_dir = open_dir / "state"
    make_state_dir(str(state_dir), group_of="postgres")
    info = state_dir.stat()
    assert (info.st_uid, info.st_mode & 0o777) == (0, 0o750)
    assert info.st_gid == pwd.getpwnam("postgres").pw_gid


def test_the_socket_dir_is_beside_the_data_unless_its_path_cannot_serve() -> None:
    """Too long for a Unix socket, or unsafe for pg_ctl's shell: the fallback."""
    assert choose_socket_dir("/var/lib/ridad/postgres", "/tmp/ridad-pg-1") == (
        "/var/lib/ridad/postgres-socket",
        False,
    )
    long_dir = "/var/lib/" + "x" * 100 + "/postgres"
    assert choose_socket_dir(long_dir, "/tmp/ridad-pg-1") == (
        "/tmp/ridad-pg-1/postgres-socket",
        True,
    )
    spaced = "/var/lib/my state/postgres"
    assert choose_socket_dir(spaced, "/tmp/ridad-pg-1")[1]
    with pytest.raises(ConfigError):
        choose_socket_dir(long_dir, "/" + "t" * 100)


def test_the_socket_dir_of_a_non_root_ridad_is_its_own_0700(open_dir: Path) -> None:
    """Not as root: ridad's own directory, 0700, tightened if it was loosened."""
    socket_dir = open_dir / "postgres-socket"
    prepare_socket_dir(str(socket_dir), None)
    assert socket_dir.stat().st_mode & 0o777 == 0o700
    socket_dir.chmod(0o777)
    prepare_socket_dir(str(socket_dir), None)
    assert socket_dir.stat().st_mode & 0o777 == 0o700


@as_root
def test_as_root_the_socket_dir_lets_in_root_and_postgres_only(open_dir: Path) -> None:
    """As root: owned by postgres (which makes the socket), group root, 0750."""
    socket_dir = open_dir / "postgres-socket"
    prepare_socket_dir(str(socket_dir), "postgres")
    info = socket_dir.stat()
    assert info.st_uid == pwd.getpwnam("postgres").pw_uid
    assert (info.st_gid, info.st_mode & 0o777) == (0, 0o750)


def test_a_socket_path_that_is_not_a_directory_is_refused(open_dir: Path) -> None:
    """A file or symlink where the socket directory goes is a ConfigError."""
    (open_dir / "target").mkdir()
    (open_dir / "postgres-socket").symlink_to(open_dir / "target")
    with pytest.raises(ConfigError):
        prepare_socket_dir(str(open_dir / "postgres-socket"), None)


def test_access_files_allow_peer_connections_of_ridads_account_only(
    open_dir: Path,
) -> None:
    """pg_hba.conf: local peer with the map; pg_ident.conf: our account only."""
    me = pwd.getpwuid(os.geteuid()).pw_name
    assert write_access_files(str(open_dir), "postgres")
    hba = [
        line
        for line in (open_dir / "pg_hba.conf").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert hba == ["local all all peer map=ridad"]
    ident = (open_dir / "pg_ident.conf").read_text().splitlines()
    assert [line for line in ident if not line.startswith("#")] == [
        f"ridad {me} postgres"
    ]
    assert not write_access_files(str(open_dir), "postgres")
