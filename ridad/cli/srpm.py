"""The package name of a source RPM, read from its header as ``rpm -qp
--qf %{NAME}`` reads it, without the rpm Python bindings (they are not
installable from PyPI).

An RPM file is a 96-byte lead, a signature header padded to 8 bytes, then
the main header: a magic, an index of (tag, type, offset, count) entries
and a data store. The name is the string of tag 1000 (RPMTAG_NAME).
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from ridad.cli.exits import UsageError

_LEAD_MAGIC = b"\xed\xab\xee\xdb"
_HEADER_MAGIC = b"\x8e\xad\xe8\x01"
_LEAD_SIZE = 96
#: Lead type of a source package (0 is a binary one).
_LEAD_SOURCE = 1
_TAG_NAME = 1000
_TAG_SOURCEPACKAGE = 1106
_TYPE_STRING = 6
#: Far above any real header; a corrupt count fails before reading it.
_MAX_HEADER_BYTES = 64 << 20


def srpm_name(path: str) -> str:
    """The Name of the source RPM at ``path``.

    :raises UsageError: the file cannot be read, is not an RPM, or is a
        binary RPM.
    """
    try:
        with open(path, "rb") as handle:
            return _read_name(handle, path)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


def _read_name(handle: BinaryIO, path: str) -> str:
    lead = handle.read(_LEAD_SIZE)
    if len(lead) < _LEAD_SIZE or lead[:4] != _LEAD_MAGIC:
        raise UsageError(f"{path} is not an RPM file (no RPM lead)")
    _read_header(handle, path, pad=True)  # the signature header
    tags = _read_header(handle, path, pad=False)
    source = lead[6:8] == struct.pack(">H", _LEAD_SOURCE)
    if not source and _TAG_SOURCEPACKAGE not in tags:
        raise UsageError(
            f"{path} is a binary RPM, not a source RPM (build one with rpmbuild -bs)"
        )
    name = tags.get(_TAG_NAME)
    if not name:
        raise UsageError(f"{path} is an RPM without a Name in its header")
    return name


def _read_header(handle: BinaryIO, path: str, *, pad: bool) -> dict[int, str]:
    """One header's string tags; the file is left after it (and its padding)."""
    intro = handle.read(16)
    if len(intro) < 16 or intro[:4] != _HEADER_MAGIC:
        raise UsageError(f"{path} is not an RPM file (a header is damaged)")
    count, size = struct.unpack(">II", intro[8:16])
    if count * 16 + size > _MAX_HEADER_BYTES:
        raise UsageError(f"{path} is not an RPM file (a header is damaged)")
    index = handle.read(count * 16)
    store = handle.read(size)
    if len(index) < count * 16 or len(store) < size:
        raise UsageError(f"{path} is a truncated RPM file")
    if pad and size % 8:
        handle.read(8 - size % 8)
    strings: dict[int, str] = {}
    for number in range(count):
        tag, kind, offset, _ = struct.unpack_from(">iiii", index, number * 16)
        if kind == _TYPE_STRING and 0 <= offset < size:
            end = store.find(b"\0", offset)
            strings[tag] = store[offset : end if end >= 0 else size].decode(
                "utf-8", "replace"
            )
        elif tag == _TAG_SOURCEPACKAGE:
            strings[tag] = "1"
    return strings
