"""The Server-Sent Events parser: fields, comments, line endings, split chunks."""

from __future__ import annotations

from ridad.cli.sse import ServerEvent, SseParser


def test_events_with_ids_types_and_multiline_data() -> None:
    parser = SseParser()
    events = parser.feed(
        b"retry: 2000\n: connected\n\nid: 7\nevent: module.state.change\n"
        b'data: {"a": 1}\n\ndata:one\ndata: two\n\n'
    )
    assert events == [
        ServerEvent(id="7", event="module.state.change", data='{"a": 1}'),
        ServerEvent(id="7", event="message", data="one\ntwo"),
    ]
    assert parser.retry_milliseconds == 2000 and parser.comments == 1


def test_chunks_split_anywhere_and_every_line_ending() -> None:
    """CRLF, CR and LF end lines; a chunk may end inside a line or a CRLF."""
    stream = b"id: 1\r\ndata: x\r\n\r\nid: 2\rdata: y\r\rid: 3\ndata: z\n\n"
    for size in (1, 2, 3, 5, len(stream)):
        parser = SseParser()
        events = []
        for start in range(0, len(stream), size):
            events += parser.feed(stream[start : start + size])
        assert [(e.id, e.data) for e in events] == [("1", "x"), ("2", "y"), ("3", "z")]
        assert parser.last_event_id == "3"


def test_blank_events_and_unknown_fields_dispatch_nothing() -> None:
    parser = SseParser()
    assert parser.feed(b"\n\nevent: x\n\nfoo: bar\nretry: soon\n\n") == []
    assert parser.retry_milliseconds is None
