"""The hub's records of what builds produced: RPMs, archives and build logs,
and the content generators' side (reservations, buildroots).

They are plain dataclasses held by L{ridad.kojisim.state.HubState}, so a
transaction copies and rolls them back with the rest of the state. The bytes
of an imported archive or log are kept with its record (kojisim has no
``packages/`` tree on disk) so that a test can read back what was imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Archive", "BuildLog", "Buildroot", "Rpm"]


@dataclass(frozen=True)
class Rpm:
    """An RPM of a build (``rpminfo``), with the header values kojisim knows.

    ``headers`` maps upper-case RPM tag names to their values (``LICENSE``:
    a string, ``EXCLUSIVEARCH``: a list, ...); other known tags read as nil.
    """

    id: int
    build_id: int
    name: str
    version: str
    release: str
    epoch: int | None
    arch: str
    payloadhash: str
    size: int
    buildtime: int
    headers: dict[str, Any] = field(default_factory=dict)
    buildroot_id: int | None = None

    @property
    def nvr(self) -> str:
        """``name-version-release``."""
        return f"{self.name}-{self.version}-{self.release}"


@dataclass
class Archive:
    """A non-RPM output of a build (``archiveinfo``), e.g. ``modulemd.txt``."""

    id: int
    build_id: int
    buildroot_id: int | None
    filename: str
    size: int
    checksum: str
    checksum_type: int
    type_id: int
    btype_id: int
    extra: Any
    content: bytes = b""
    rpm_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class BuildLog:
    """A log file of a build (``getBuildLogs``): its name, sub-directory and bytes."""

    name: str
    subdir: str
    content: bytes


@dataclass
class Buildroot:
    """A content generator's buildroot of an import (only what the hub echoes)."""

    id: int
    cg_id: int
    cg_version: str
    container_type: str
    container_arch: str
    host_os: str
    host_arch: str
    extra: Any
    rpm_ids: list[int] = field(default_factory=list)
    tools: list[Any] = field(default_factory=list)
