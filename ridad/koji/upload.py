"""Koji's fast upload: the query of each chunk POST and the checks of replies.

A chunk is POSTed raw (``application/octet-stream``) to the hub URL with
``filename``, ``filepath``, ``fileverify=adler32``, ``offset`` and
``overwrite=1`` in the query, in that order, as koji's ``_prepUpload`` does;
the hub answers ``{size, fileverify, offset, hexdigest}``. The whole file is
then checked with ``checkUpload(path, name, verify='adler32')``.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from ridad.errors import KojiError


def adler32_hex(data: bytes) -> str:
    """Adler-32 of ``data`` as the hub writes it: 8 lower-case hex digits."""
    return f"{zlib.adler32(data) & 0xFFFFFFFF:08x}"


def upload_url(hub_url: str, path: str, name: str, offset: int) -> str:
    """The URL of the chunk of ``path/name`` starting at ``offset``."""
    query = urlencode(
        {
            "filename": name,
            "filepath": path,
            "fileverify": "adler32",
            "offset": str(offset),
            "overwrite": "1",
        }
    )
    return f"{hub_url}?{query}"


def chunks(data: bytes, chunk_bytes: int) -> Iterator[tuple[int, bytes]]:
    """``(offset, chunk)`` pairs covering ``data``; one empty chunk for no data."""
    if chunk_bytes < 1:
        raise ValueError(f"chunk_bytes must be positive, not {chunk_bytes}")
    yield 0, data[:chunk_bytes]
    for offset in range(chunk_bytes, len(data), chunk_bytes):
        yield offset, data[offset : offset + chunk_bytes]


def check_chunk_reply(reply: Any, offset: int, chunk: bytes) -> None:
    """Check the hub stored ``chunk`` at ``offset`` intact.

    :raises KojiError: when the reply's size, offset or checksum differ.
    """
    expected = {"size": len(chunk), "offset": offset, "hexdigest": adler32_hex(chunk)}
    if not isinstance(reply, dict):
        raise KojiError(f"Koji upload answered {reply!r:.200} for a chunk")
    got = {
        "size": _as_int(reply.get("size")),
        "offset": _as_int(reply.get("offset")),
        "hexdigest": reply.get("hexdigest"),
    }
    wrong = {k: got[k] for k, v in expected.items() if got[k] != v}
    if wrong:
        raise KojiError(
            f"Koji stored the chunk at offset {offset} wrongly: {wrong} != "
            f"{ {k: expected[k] for k in wrong} }"
        )


def check_upload(result: Any, path: str, name: str, data: bytes) -> None:
    """Check ``checkUpload``'s answer describes exactly ``data``.

    :raises KojiError: when the file is missing or its size or checksum differ.
    """
    where = f"{path}/{name}"
    if not isinstance(result, dict):
        raise KojiError(f"Koji upload of {where} failed: the file is missing")
    if _as_int(result.get("size")) != len(data):
        raise KojiError(
            f"Koji upload of {where} has {result.get('size')!r} bytes, not {len(data)}"
        )
    if result.get("hexdigest") != adler32_hex(data):
        raise KojiError(
            f"Koji upload of {where} has adler32 {result.get('hexdigest')!r}, "
            f"not {adler32_hex(data)}"
        )


def _as_int(value: Any) -> int | None:
    """An int the hub sent as ``<int>``, ``<i8>`` or a decimal string."""
    if type(value) is int:
        return value
    if isinstance(value, str) and value.isdecimal():
        return int(value)
    return None
