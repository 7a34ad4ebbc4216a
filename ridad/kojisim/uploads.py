"""File uploads into the hub's work area: fast (raw POST) and legacy (base64).

Files land in ``<upload_dir>/<path>/<name>``; ``build`` can then name an
uploaded SRPM by its path relative to the upload area.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import koji
from koji.util import adler32_constructor

from ridad.kojisim.context import Call, current
from ridad.kojisim.exports import Exports

__all__ = ["exports", "fast_upload", "upload_path"]

exports = Exports()

_VERIFIERS: dict[str, Callable[[], Any]] = {
    "adler32": adler32_constructor,
    "md5": hashlib.md5,
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
}


def _verifier(name: Any) -> Any:
    """A fresh checksum object for ``name`` (None: no checking).

    :raises koji.GenericError: unknown checksum type.
    """
    if not name:
        return None
    if name not in _VERIFIERS:
        raise koji.GenericError(f"Unsupported verify type: {name}")
    return _VERIFIERS[name]()


def upload_path(
    upload_dir: str, reldir: Any, name: Any, *, create: bool = False
) -> str:
    """The file an upload of ``name`` into ``reldir`` goes to.

    :raises koji.GenericError: a name or directory that would escape the area.
    """
    if not isinstance(name, str) or not isinstance(reldir, str):
        raise koji.GenericError(f"Invalid upload filename: {name}")
    directory, base = os.path.split(name)
    if directory or not base or base.startswith("."):
        raise koji.GenericError(f"Invalid upload filename: {name}")
    normalized = os.path.normpath(reldir)
    if not reldir or normalized.startswith(("..", "/")) or normalized == ".":
        raise koji.GenericError(f"Invalid upload directory: {reldir}")
    full = os.path.join(upload_dir, normalized)
    if create:
        os.makedirs(full, exist_ok=True)
    return os.path.join(full, base)


def fast_upload(call: Call, query: str, body: bytes) -> dict[str, Any]:
    """The raw octet-stream upload: write ``body`` at ``offset``.

    :raises koji.ActionNotAllowed: anonymous.
    :raises koji.GenericError: the file exists (without ``overwrite``), bad path.
    """
    if not call.logged_in:
        raise koji.ActionNotAllowed("you must be logged-in to upload a file")
    args = parse_qs(query, strict_parsing=True)
    name = args["filename"][0]
    verify = args.get("fileverify", [""])[0]
    overwrite = args.get("overwrite", [""])[0]
    offset = int(args.get("offset", ["0"])[0])
    path = upload_path(
        call.core.upload_dir, args.get("filepath", [""])[0], name, create=True
    )
    if os.path.exists(path):
        if not os.path.isfile(path):
            raise koji.GenericError(f"destination not a file: {path}")
        if offset == 0 and not overwrite:
            raise koji.GenericError(f"upload path exists: {path}")
    checksum = _verifier(verify)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        if offset == -1:
            offset = os.lseek(fd, 0, os.SEEK_END)
        else:
            os.ftruncate(fd, offset)
            os.lseek(fd, offset, os.SEEK_SET)
        os.write(fd, body)
    finally:
        os.close(fd)
    result: dict[str, Any] = {"size": len(body), "fileverify": verify, "offset": offset}
    if checksum is not None:
        checksum.update(body)
        result["hexdigest"] = checksum.hexdigest()
    return result


@exports.method("checkUpload")
def check_upload(
    self: Any,
    path: Any,
    name: Any,
    verify: Any = None,
    tail: Any = None,
    volume: Any = None,
) -> dict[str, Any] | None:
    """Size, mtime and (with ``verify``) the checksum of an uploaded file, or None.

    :raises koji.GenericError: bad path, unknown checksum, negative tail.
    """
    filename = upload_path(current().core.upload_dir, path, name)
    if not os.path.exists(filename):
        return None
    if not os.path.isfile(filename):
        raise koji.GenericError(f"Not a regular file: {filename}")
    stat = os.stat(filename)
    data: dict[str, Any] = {"size": stat.st_size, "mtime": stat.st_mtime}
    checksum = _verifier(verify)
    if checksum is not None:
        with open(filename, "rb") as handle:
            if tail is not None:
                if tail < 0:
                    raise koji.GenericError(f"Invalid tail value: {tail!r}")
                handle.seek(max(stat.st_size - tail, 0))
            content = handle.read()
        checksum.update(content)
        data["sumlength"] = len(content)
        data["hexdigest"] = checksum.hexdigest()
    return data


@exports.method("uploadFile")
def upload_file(
    self: Any,
    path: Any,
    name: Any,
    size: Any,
    md5sum: Any,
    offset: Any,
    data: Any,
    volume: Any = None,
    checksum: Any = None,
) -> bool:
    """Legacy upload of a base64 chunk; ``offset`` -1 finishes the file.

    :returns: True, or False when the size or digest does not match.
    :raises koji.ActionNotAllowed: anonymous.
    :raises koji.GenericError: the first chunk of an existing file; bad path.
    """
    call = current()
    call.assert_login()
    contents = base64.b64decode(data)
    offset, size = koji.decode_int(offset), koji.decode_int(size)
    verify, digest = _digest_spec(md5sum if checksum is None else checksum)
    if offset != -1:
        if size is not None and size != len(contents):
            return False
        if verify is not None and digest != _hexdigest(verify, contents):
            return False
    filename = upload_path(call.core.upload_dir, path, name, create=True)
    if offset == 0 and os.path.exists(filename) and not filename.endswith(".log"):
        raise koji.GenericError(f"file already exists: {filename}")
    fd = os.open(filename, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        return _write_chunk(fd, contents, offset, size, verify, digest)
    finally:
        os.close(fd)


def _write_chunk(
    fd: int, contents: bytes, offset: int, size: int | None, verify: Any, digest: Any
) -> bool:
    """Write a legacy chunk; at the end (offset -1) trim and check the whole file."""
    if offset == 0 or (offset == -1 and size == len(contents)):
        os.ftruncate(fd, 0)
    os.lseek(
        fd, 0 if offset == -1 else offset, os.SEEK_END if offset == -1 else os.SEEK_SET
    )
    os.write(fd, contents)
    if offset != -1:
        return True
    if size is not None and size < os.lseek(fd, 0, os.SEEK_END):
        os.ftruncate(fd, size)
    if verify is None:
        return True
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return bool(digest == _hexdigest(verify, b"".join(chunks)))


def _digest_spec(checksum: Any) -> tuple[str | None, str | None]:
    """The checksum type and digest of ``uploadFile``'s md5sum/checksum argument."""
    if checksum is None:
        return None, None
    if isinstance(checksum, str):
        return "md5", checksum
    verify, digest = checksum
    return verify, digest


def _hexdigest(verify: str, content: bytes) -> str:
    """The hex digest of ``content``.

    :raises koji.GenericError: unknown checksum type.
    """
    checksum = _verifier(verify)
    checksum.update(content)
    return str(checksum.hexdigest())
