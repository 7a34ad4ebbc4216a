"""Tests for L{ridad.bus.framing}: frame encoding, the incremental parser, builders."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ridad.bus.framing import (
    COMMANDS,
    Frame,
    FrameParser,
    StompProtocolError,
    ack_frame,
    connect_frame,
    disconnect_frame,
    encode_frame,
    send_frame,
    subscribe_frame,
)
from ridad.errors import BusUnavailable

# --- strategies ----------------------------------------------------------------

_tricky = st.sampled_from([":", "\n", "\\", "\r", "\\c", "\\n", "\x00", "é", "\u2028"])
header_text = st.lists(
    st.one_of(_tricky, st.characters(exclude_categories=("Cs",))), max_size=12
).map("".join)
header_names = header_text.filter(lambda name: name != "content-length")
escaped_commands = st.sampled_from(sorted(COMMANDS - {"CONNECT", "STOMP", "CONNECTED"}))


@st.composite
def frames(draw: st.DrawFn) -> Frame:
    """Any frame whose headers are escaped on the wire."""
    headers = draw(st.lists(st.tuples(header_names, header_text), max_size=6))
    return Frame(draw(escaped_commands), tuple(headers), draw(st.binary(max_size=64)))


def as_parsed(frame: Frame) -> Frame:
    """``frame`` as the parser returns it: with the content-length encode adds."""
    if not frame.body:
        return frame
    length = ("content-length", str(len(frame.body)))
    return Frame(frame.command, (*frame.headers, length), frame.body)


def feed_in_chunks(parser: FrameParser, data: bytes, cuts: list[int]) -> list[Frame]:
    """Feed ``data`` split at ``cuts``; return every frame parsed."""
    out: list[Frame] = []
    previous = 0
    for cut in [*sorted(cuts), len(data)]:
        out.extend(parser.feed(data[previous:cut]))
        previous = cut
    return out


# --- round trips -------------------------------------------------------------


@given(
    st.lists(frames(), min_size=1, max_size=4),
    st.sampled_from(["1.1", "1.2"]),
    st.data(),
)
def test_parse_of_encode_is_identity_across_chunks_and_heart_beats(
    sent: list[Frame], version: str, data: st.DataObject
) -> None:
    """Encoded frames parse back unchanged, however split and with heart-beats between."""
    stream = b""
    for frame in sent:
        stream += data.draw(st.sampled_from([b"", b"\n", b"\r\n", b"\n\r\n\n"]))
        stream += encode_frame(frame, version=version)
    stream += data.draw(st.sampled_from([b"", b"\n", b"\r\n"]))
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=8))
    parsed = feed_in_chunks(FrameParser(version=version), stream, cuts)
    assert parsed == [as_parsed(frame) for frame in sent]


@given(
    st.lists(
        st.tuples(
            st.text(
                st.characters(exclude_categories=("Cs",), exclude_characters=":\r\n"),
                max_size=10,
            ),
            st.text(
                st.characters(exclude_categories=("Cs",), exclude_characters="\r\n"),
                max_size=10,
            ),
        ),
        max_size=5,
    ),
    st.sampled_from(["CONNECT", "CONNECTED"]),
)
def test_connect_headers_travel_unescaped(
    headers: list[tuple[str, str]], command: str
) -> None:
    """CONNECT and CONNECTED headers are neither escaped nor unescaped."""
    assume(all(name != "version" for name, _ in headers))
    frame = Frame(command, tuple(headers))
    encoded = encode_frame(frame, version="1.2")
    for name, value in headers:
        assert f"{name}:{value}\n".encode() in encoded
    assert FrameParser(version="1.2").feed(encoded) == [frame]


@given(st.binary(max_size=200), st.lists(st.integers(0, 200), max_size=6))
def test_garbage_raises_only_protocol_errors(junk: bytes, cuts: list[int]) -> None:
    """Random bytes parse to frames or raise StompProtocolError, nothing else."""
    try:
        feed_in_chunks(
            FrameParser(version="1.2"), junk, [c for c in cuts if c <= len(junk)]
        )
    except StompProtocolError:
        pass


@given(frames(), st.data())
def test_damaged_frames_raise_only_protocol_errors(
    frame: Frame, data: st.DataObject
) -> None:
    """A valid encoding with bytes overwritten parses or raises StompProtocolError."""
    encoded = bytearray(encode_frame(frame, version="1.2"))
    for _ in range(data.draw(st.integers(1, 4))):
        encoded[data.draw(st.integers(0, len(encoded) - 1))] = data.draw(
            st.integers(0, 255)
        )
    try:
        FrameParser(version="1.2").feed(bytes(encoded))
    except StompProtocolError:
        pass


# --- the parser ----------------------------------------------------------------


def test_content_length_counts_bytes_and_keeps_nuls_and_newlines() -> None:
    """A body with NULs, newlines and multi-byte text is read by its byte count."""
    body = "é\x00\n\r\nä".encode()
    wire = b"MESSAGE\ncontent-length:%d\n\n%s\x00" % (len(body), body)
    assert FrameParser(version="1.2").feed(wire) == [
        Frame("MESSAGE", (("content-length", str(len(body))),), body)
    ]


def test_body_without_content_length_ends_at_first_nul() -> None:
    """Without content-length the body runs to the first NUL; the rest is the next frame."""
    parser = FrameParser(version="1.2")
    assert parser.feed(
        b"MESSAGE\na:b\n\nline1\nline2\x00\nRECEIPT\nreceipt-id:7\n\n\x00"
    ) == [
        Frame("MESSAGE", (("a", "b"),), b"line1\nline2"),
        Frame("RECEIPT", (("receipt-id", "7"),)),
    ]


def test_frame_split_byte_by_byte_is_parsed_once_complete() -> None:
    """Feeding one byte at a time yields the frame exactly when its NUL arrives."""
    wire = encode_frame(Frame("MESSAGE", (("k", "v:\n"),), b"x\x00y"), version="1.2")
    parser = FrameParser(version="1.2")
    seen = [parser.feed(wire[i : i + 1]) for i in range(len(wire))]
    assert seen[:-1] == [[]] * (len(wire) - 1)
    assert seen[-1][0].body == b"x\x00y"


def test_crlf_lines_are_accepted_in_stomp_1_2() -> None:
    """STOMP 1.2 frames may end their lines with CRLF."""
    wire = b"MESSAGE\r\nname:va\\rl\r\n\r\nbody\x00\r\n"
    assert FrameParser(version="1.2").feed(wire) == [
        Frame("MESSAGE", (("name", "va\rl"),), b"body")
    ]


def test_stomp_1_1_keeps_a_carriage_return_in_a_value() -> None:
    """STOMP 1.1 has no CRLF line ends, so a CR before LF belongs to the value."""
    assert FrameParser(version="1.1").feed(b"MESSAGE\nk:v\r\n\n\x00") == [
        Frame("MESSAGE", (("k", "v\r"),))
    ]


def test_repeated_header_first_value_wins() -> None:
    """header() answers the first of repeated headers; all stay in the frame."""
    [frame] = FrameParser(version="1.2").feed(b"MESSAGE\nfoo:1\nfoo:2\n\n\x00")
    assert frame.header("foo") == "1"
    assert frame.headers == (("foo", "1"), ("foo", "2"))
    assert frame.header("bar") is None


def test_connected_frame_switches_the_parser_to_its_version() -> None:
    """Frames after CONNECTED are unescaped by the version it announced."""
    parser = FrameParser()
    frames_ = parser.feed(
        b"CONNECTED\nversion:1.2\nserver:a\\b\n\n\x00\nMESSAGE\nx:a\\cb\\r\n\n\x00"
    )
    assert frames_[0].header("server") == "a\\b"
    assert frames_[1].header("x") == "a:b\r"
    assert parser.version == "1.2"


@pytest.mark.parametrize(
    ("wire", "problem"),
    [
        (b"HELLO\n\n\x00", "Unknown command"),
        (b"MESSAGE\nno colon here\n\n\x00", "without colon"),
        (b"MESSAGE\nk:\\t\n\n\x00", "Undefined escape"),
        (b"MESSAGE\nk:trailing\\\n\n\x00", "Undefined escape"),
        (b"MESSAGE\ncontent-length:x\n\n\x00", "Bad content-length"),
        (b"MESSAGE\ncontent-length:1\n\nab\x00", "No NUL"),
        (b"MESSAGE\n\xff:1\n\n\x00", "not UTF-8"),
        (b"\rX", "Carriage return"),
    ],
)
def test_malformed_input_raises_protocol_error(wire: bytes, problem: str) -> None:
    """Each kind of malformed input raises StompProtocolError naming the problem."""
    with pytest.raises(StompProtocolError, match=problem):
        FrameParser(version="1.2").feed(wire)


def test_protocol_error_is_a_bus_unavailable() -> None:
    """A broker speaking garbage is a retryable bus outage to callers."""
    assert issubclass(StompProtocolError, BusUnavailable)


def test_lone_carriage_return_waits_for_more_bytes() -> None:
    """A CR at the end of a chunk may be the start of a CRLF heart-beat."""
    parser = FrameParser(version="1.2")
    assert parser.feed(b"\r") == []
    assert parser.feed(b"\nRECEIPT\nreceipt-id:1\n\n\x00") == [
        Frame("RECEIPT", (("receipt-id", "1"),))
    ]


@pytest.mark.parametrize(
    "wire",
    [
        b"MESSAGE\n" + b"k:" + b"v" * 200,
        b"MESSAGE\ncontent-length:500\n\n",
        b"MESSAGE\n\n" + b"x" * 200,
    ],
)
def test_frames_over_the_size_limit_are_refused(wire: bytes) -> None:
    """Headers, declared bodies and unterminated bodies over the limit raise."""
    with pytest.raises(StompProtocolError, match="larger than"):
        FrameParser(version="1.2", max_frame_bytes=100).feed(wire)


# --- the encoder and builders ---------------------------------------------------


def test_encode_adds_content_length_in_bytes() -> None:
    """A frame with a body gets content-length counted in bytes, and ends with NUL."""
    body = "ü".encode()
    assert encode_frame(
        Frame("SEND", (("destination", "/q"),), body), version="1.2"
    ) == (b"SEND\ndestination:/q\ncontent-length:2\n\n\xc3\xbc\x00")


def test_encode_escapes_per_version() -> None:
    """1.1 escapes backslash, LF and colon; 1.2 also CR."""
    frame = Frame("SEND", (("a:b", "c\\d\ne\rf"),))
    assert b"a\\cb:c\\\\d\\ne\rf\n" in encode_frame(frame, version="1.1")
    assert b"a\\cb:c\\\\d\\ne\\rf\n" in encode_frame(frame, version="1.2")


def test_encode_refuses_a_wrong_content_length() -> None:
    """A caller's content-length that does not match the body is a bug."""
    with pytest.raises(ValueError, match="content-length"):
        encode_frame(Frame("SEND", (("content-length", "9"),), b"ab"), version="1.2")


def test_connect_cannot_carry_a_line_break() -> None:
    """CONNECT is never escaped, so a line break in a passcode is refused."""
    frame = connect_frame(host="/", login="u", passcode="p\nq", heart_beat_ms=(0, 0))
    with pytest.raises(ValueError, match="unescaped"):
        encode_frame(frame, version="1.2")


def test_connect_frame_accepts_both_versions_and_offers_heart_beats() -> None:
    """CONNECT asks for 1.1 or 1.2, names the vhost and carries credentials."""
    frame = connect_frame(
        host="vh", login="u", passcode="p", heart_beat_ms=(5000, 7000)
    )
    assert frame == Frame(
        "CONNECT",
        (
            ("accept-version", "1.1,1.2"),
            ("host", "vh"),
            ("heart-beat", "5000,7000"),
            ("login", "u"),
            ("passcode", "p"),
        ),
    )


def test_send_frame_puts_receipt_last_and_refuses_owned_headers() -> None:
    """SEND carries the caller's headers in order; receipt and destination are ours."""
    frame = send_frame("/topic/x", b"{}", {"a": "1", "b": "2"}, receipt="r1")
    assert frame.headers == (
        ("destination", "/topic/x"),
        ("a", "1"),
        ("b", "2"),
        ("receipt", "r1"),
    )
    with pytest.raises(ValueError, match="receipt"):
        send_frame("/topic/x", b"", {"receipt": "mine"}, receipt="r1")


def test_subscribe_frame_has_stompers_fields_then_ours() -> None:
    """SUBSCRIBE has id, destination and ack, then extra headers and the receipt."""
    frame = subscribe_frame(
        "/queue/a:b", "s1", ack="client-individual", headers={"x": "y"}, receipt="r"
    )
    assert frame == Frame(
        "SUBSCRIBE",
        (
            ("id", "s1"),
            ("destination", "/queue/a:b"),
            ("ack", "client-individual"),
            ("x", "y"),
            ("receipt", "r"),
        ),
    )
    with pytest.raises(ValueError, match="ack mode"):
        subscribe_frame("/queue/a", "s1", ack="sometimes")


def test_ack_frame_follows_the_negotiated_version() -> None:
    """1.2 acknowledges the ack header as id; 1.1 names message-id and subscription."""
    message = Frame(
        "MESSAGE", (("message-id", "ID:m:1"), ("subscription", "s1"), ("ack", "ID:a:2"))
    )
    assert ack_frame(message, version="1.2") == Frame("ACK", (("id", "ID:a:2"),))
    assert ack_frame(message, version="1.1") == Frame(
        "ACK", (("subscription", "s1"), ("message-id", "ID:m:1"))
    )


def test_disconnect_frame_is_well_formed() -> None:
    """DISCONNECT has its blank line (stomper's lacks it) and a receipt."""
    assert encode_frame(disconnect_frame(receipt="bye"), version="1.2") == (
        b"DISCONNECT\nreceipt:bye\n\n\x00"
    )
