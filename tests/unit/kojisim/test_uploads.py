"""Uploads into the hub's work area: fast raw POSTs and legacy base64 chunks."""

from __future__ import annotations

import base64
import hashlib
import xmlrpc.client
import zlib
from pathlib import Path

from ridad.kojisim.hub import KojiHub
from tests.unit.kojisim.support import HUB_URL, HubClient

CONTENT = b"not really an rpm\n" * 100


def _fast_upload(client: HubClient, query: str, body: bytes) -> object:
    """POST an octet-stream upload; answer the decoded result or the fault."""
    reply = client.http(
        "POST",
        body,
        url=f"{HUB_URL}?{query}",
        headers={"Content-Type": "application/octet-stream"},
    )
    try:
        return xmlrpc.client.loads(reply.body.decode(), use_builtin_types=True)[0][0]
    except xmlrpc.client.Fault as fault:
        return (fault.faultCode, fault.faultString)


def test_fast_upload_writes_the_file_and_reports_adler32(
    hub: KojiHub, admin: HubClient
) -> None:
    """A raw POST with query arguments stores the body and answers its checksum."""
    query = "filename=a-1-1.src.rpm&filepath=cli-build%2Fx&fileverify=adler32&offset=0&overwrite=1"
    result = _fast_upload(admin, query, CONTENT)
    digest = "%08x" % (zlib.adler32(CONTENT) & 0xFFFFFFFF)
    assert result == {
        "size": len(CONTENT),
        "fileverify": "adler32",
        "offset": 0,
        "hexdigest": digest,
    }
    assert (Path(hub.upload_dir) / "cli-build/x/a-1-1.src.rpm").read_bytes() == CONTENT
    check = admin.call("checkUpload", "cli-build/x", "a-1-1.src.rpm", verify="adler32")
    assert (check["size"], check["sumlength"], check["hexdigest"]) == (
        len(CONTENT),
        len(CONTENT),
        digest,
    )
    assert admin.call("checkUpload", "cli-build/x", "missing.src.rpm") is None


def test_fast_upload_without_overwrite_refuses_an_existing_file(
    admin: HubClient,
) -> None:
    """Uploading to an existing path without overwrite is ``upload path exists``."""
    query = "filename=f.txt&filepath=d&fileverify=adler32&offset=0"
    _fast_upload(admin, query, b"one")
    code, message = _fast_upload(admin, query, b"two")
    assert code == 1000 and message.startswith("upload path exists: ")


def test_anonymous_fast_upload_reads_the_query_as_session_args(
    anonymous: HubClient,
) -> None:
    """Without session headers the query is parsed as URL session arguments."""
    result = _fast_upload(anonymous, "filename=f&filepath=d&offset=0", b"x")
    assert result == (1002, "'session-id' not specified in session args")


def test_upload_paths_may_not_leave_the_work_area(admin: HubClient) -> None:
    """``..`` or absolute directories and names with slashes are refused."""
    for query in (
        "filename=f&filepath=..%2Fup",
        "filename=f&filepath=%2Fetc",
        "filename=a%2Fb&filepath=d",
    ):
        code, message = _fast_upload(admin, query, b"x")
        assert code == 1000 and message.startswith("Invalid upload")


def test_legacy_upload_in_chunks_is_verified_at_the_end(
    hub: KojiHub, admin: HubClient
) -> None:
    """uploadFile writes base64 chunks; offset -1 checks the whole file's digest."""
    first, second = CONTENT[:700], CONTENT[700:]
    for offset, chunk in ((0, first), (700, second)):
        digest = ["sha256", hashlib.sha256(chunk).hexdigest()]
        encoded = base64.b64encode(chunk).decode()
        assert admin.call(
            "uploadFile", "up", "f.bin", len(chunk), digest, offset, encoded
        )
    whole = ["sha256", hashlib.sha256(CONTENT).hexdigest()]
    assert admin.call("uploadFile", "up", "f.bin", len(CONTENT), whole, -1, "") is True
    assert (Path(hub.upload_dir) / "up/f.bin").read_bytes() == CONTENT
    wrong = ["sha256", "0" * 64]
    assert admin.call("uploadFile", "up", "g.bin", 3, wrong, 0, "YWJj") is False


def test_legacy_upload_needs_a_login(anonymous: HubClient) -> None:
    """uploadFile is refused to anonymous callers."""
    assert anonymous.fault_of("uploadFile", "up", "f", 1, None, 0, "eA==")[0] == 1004
