"""Small RPM files for the ``rida submit --srpm`` tests: the lead, a
signature header and a main header laid out as rpm writes them (only the
tags the tests need), and a real SRPM made by rpmbuild."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

from tests.helpers import require_program

STRING, INT32 = 6, 4


def header(entries: list[tuple[int, int, bytes]]) -> bytes:
    """An RPM header of (tag, type, data) entries, one value each."""
    index, store = b"", b""
    for tag, kind, data in entries:
        if kind == INT32 and len(store) % 4:
            store += b"\0" * (4 - len(store) % 4)
        index += struct.pack(">iiii", tag, kind, len(store), 1)
        store += data
    magic = b"\x8e\xad\xe8\x01\0\0\0\0"
    return magic + struct.pack(">II", len(entries), len(store)) + index + store


def rpm_bytes(
    name: str, *, source: bool = True, lead_source: bool | None = None
) -> bytes:
    """An RPM named ``name``: a source one (SOURCEPACKAGE tag and lead type
    1), or a binary one (a SOURCERPM tag)."""
    lead_type = int(source if lead_source is None else lead_source)
    lead = b"\xed\xab\xee\xdb\x03\x00" + struct.pack(">H", lead_type)
    lead = lead.ljust(96, b"\0")
    signature = header([(1000, INT32, struct.pack(">i", 12345)), (270, STRING, b"x\0")])
    signature += b"\0" * (-len(signature) % 8)
    tags = [
        (1000, STRING, name.encode() + b"\0"),
        (1001, STRING, b"1.0\0"),
        (1002, STRING, b"1\0"),
    ]
    if source:
        tags.append((1106, INT32, struct.pack(">i", 1)))
    else:
        tags.append((1044, STRING, name.encode() + b"-1.0-1.src.rpm\0"))
    return lead + signature + header(tags) + b"payload"


def write_rpm(path: Path, name: str, **kwargs: bool) -> Path:
    """Write ``rpm_bytes(name)`` to ``path``."""
    path.write_bytes(rpm_bytes(name, **kwargs))
    return path


SPEC = """Name: {name}
Version: 2.5
Release: 3
Summary: test
License: MIT
BuildArch: noarch
%description
test
%files
"""


def rpmbuild_srpm(directory: Path, name: str) -> Path:
    """A real SRPM of package ``name`` made by ``rpmbuild -bs``."""
    rpmbuild = require_program("rpmbuild", "rpm")
    spec = directory / f"{name}.spec"
    spec.write_text(SPEC.format(name=name))
    subprocess.run(
        [
            rpmbuild,
            "-bs",
            "--define",
            f"_topdir {directory / 'rpmbuild'}",
            "--define",
            f"_srcrpmdir {directory}",
            str(spec),
        ],
        check=True,
        capture_output=True,
    )
    return directory / f"{name}-2.5-3.src.rpm"
