"""Multicalls (per-entry results, batching) and fast uploads (chunks, checks)."""

from __future__ import annotations

import zlib
from collections.abc import Coroutine
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import koji
import pytest
from twisted.internet.defer import Deferred

from ridad.errors import KojiError, KojiFault
from ridad.koji.auth import PasswordAuth
from ridad.koji.client import KojiCall
from tests.helpers import failure_of, result_of
from tests.unit.koji.fakehub import fault, make_world, result

PASSWORD = PasswordAuth("mbs", "secret")


def _run(coroutine: Coroutine[Any, Any, Any]) -> Deferred[Any]:
    return Deferred.fromCoroutine(coroutine)


def _get_tag(name: str, strict: bool = False) -> Any:
    if name == "missing":
        if strict:
            raise koji.GenericError(f"No such tagInfo: '{name}'")
        return None
    return {"name": name}


def test_multicall_returns_values_and_faults_in_call_order() -> None:
    """A failed entry is a KojiFault in its place; the others are their values."""
    world = make_world()
    world.hub.methods["getTag"] = _get_tag
    results = result_of(
        _run(
            world.client.multicall(
                [
                    KojiCall("getTag", ("a",)),
                    KojiCall("getTag", ("missing",), {"strict": True}),
                    KojiCall("getTag", ("missing",)),
                    KojiCall("getTag", ("b",)),
                ]
            )
        )
    )
    assert results[0] == {"name": "a"}
    assert isinstance(results[1], KojiFault)
    assert (results[1].fault_code, results[1].fault_name) == (1000, "GenericError")
    assert results[1].message == "No such tagInfo: 'missing'"
    assert results[2:] == [None, {"name": "b"}]
    (sent,) = world.hub.received
    assert sent.args[0][1] == {
        "methodName": "getTag",
        "params": ["missing", {"strict": True, "__starstar": True}],
    }


def test_multicall_is_split_into_batches() -> None:
    """Five calls in batches of two are three multiCall requests, results in order."""
    world = make_world(auth=PASSWORD)
    world.hub.methods["echo"] = lambda n: n
    calls = [KojiCall("echo", (n,)) for n in range(5)]
    assert result_of(_run(world.client.multicall(calls, batch=2))) == [0, 1, 2, 3, 4]
    batches = world.hub.calls("multiCall")
    assert [len(r.args[0]) for r in batches] == [2, 2, 1]
    assert [r.callnum for r in batches] == [0, 1, 2]


def test_empty_multicall_sends_nothing() -> None:
    """No calls, no request."""
    world = make_world()
    assert result_of(_run(world.client.multicall([]))) == []
    assert world.hub.received == []


def test_refused_multicall_raises() -> None:
    """A fault for the whole multiCall request is raised, not returned."""
    world = make_world()
    world.hub.script(fault(1004, "not allowed"))
    failure = failure_of(_run(world.client.multicall([KojiCall("x")])), KojiFault)
    assert failure.value.fault_code == 1004


def test_multicall_with_a_missing_entry_is_a_koji_error() -> None:
    """An answer with fewer entries than calls raises KojiError."""
    world = make_world()
    world.hub.script(result([[1]]))
    failure_of(_run(world.client.multicall([KojiCall("x"), KojiCall("y")])), KojiError)


def test_upload_posts_raw_chunks_then_checks_the_file() -> None:
    """Chunks go as octet-stream POSTs with koji's query; checkUpload verifies."""
    world = make_world(auth=PASSWORD)
    data = bytes(range(256)) * 10  # 2560 bytes: chunks of 1024, 1024, 512
    result_of(
        _run(world.client.upload(data, path="tasks/1", name="a.rpm", chunk_bytes=1024))
    )
    chunks = world.hub.calls("rawUpload")
    assert [dict(parse_qsl(urlsplit(r.uri).query)) for r in chunks] == [
        {
            "filename": "a.rpm",
            "filepath": "tasks/1",
            "fileverify": "adler32",
            "offset": str(offset),
            "overwrite": "1",
        }
        for offset in (0, 1024, 2048)
    ]
    assert [r.headers["content-type"] for r in chunks] == [
        "application/octet-stream"
    ] * 3
    assert b"".join(r.body for r in chunks) == data
    (check,) = world.hub.calls("checkUpload")
    assert (check.args, check.kwargs) == (("tasks/1", "a.rpm"), {"verify": "adler32"})
    assert world.hub.files["tasks/1/a.rpm"] == data


def test_empty_upload_sends_one_empty_chunk() -> None:
    """An empty file is one empty POST, as koji's client does."""
    world = make_world(auth=PASSWORD)
    result_of(_run(world.client.upload(b"", path="p", name="empty")))
    (chunk,) = world.hub.calls("rawUpload")
    assert chunk.body == b""
    assert world.hub.files["p/empty"] == b""


@pytest.mark.parametrize(
    "reply",
    [
        {"size": 2, "fileverify": "adler32", "offset": 0, "hexdigest": "024d0127"},
        {"size": 3, "fileverify": "adler32", "offset": 5, "hexdigest": "024d0127"},
        {"size": 3, "fileverify": "adler32", "offset": 0, "hexdigest": "00000000"},
        None,
    ],
)
def test_chunk_reply_that_does_not_match_is_a_koji_error(reply: Any) -> None:
    """A chunk reply with another size, offset or checksum fails the upload."""
    world = make_world(auth=PASSWORD)
    world.hub.script(result({"session-id": 1, "session-key": "1-k"}), result(reply))
    failure_of(_run(world.client.upload(b"abc", path="p", name="n")), KojiError)
    assert world.hub.calls("checkUpload") == []


@pytest.mark.parametrize(
    "check",
    [
        None,
        {"size": 4, "mtime": 1.0, "sumlength": 4, "hexdigest": "024d0127"},
        {"size": 3, "mtime": 1.0, "sumlength": 3, "hexdigest": "ffffffff"},
    ],
)
def test_check_that_does_not_match_is_a_koji_error(check: Any) -> None:
    """A missing file, or one of another size or checksum, fails the upload."""
    world = make_world(auth=PASSWORD)
    world.hub.methods["checkUpload"] = lambda path, name, **kwargs: check
    failure_of(_run(world.client.upload(b"abc", path="p", name="n")), KojiError)


def test_check_accepts_sizes_sent_as_strings() -> None:
    """Older hubs send large sizes as decimal strings; they are accepted."""
    world = make_world(auth=PASSWORD)
    digest = f"{zlib.adler32(b'abc'):08x}"
    world.hub.methods["checkUpload"] = lambda path, name, **kwargs: {
        "size": "3",
        "hexdigest": digest,
    }
    result_of(_run(world.client.upload(b"abc", path="p", name="n")))


def test_refused_chunk_raises_the_fault() -> None:
    """A fault for a chunk (e.g. path exists) is raised as KojiFault."""
    world = make_world(auth=PASSWORD)
    world.hub.script(
        result({"session-id": 1, "session-key": "1-k"}),
        fault(1000, "upload path exists: p/n"),
    )
    failure = failure_of(
        _run(world.client.upload(b"abc", path="p", name="n")), KojiFault
    )
    assert failure.value.fault_code == 1000
