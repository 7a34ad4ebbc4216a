"""STOMP 1.1/1.2 framing: frame values, building and escaping, and the
incremental byte parser.

Pure: no Twisted, no I/O. ``stomper`` builds the frames it gets right: the
field sets of SUBSCRIBE, and of ACK in STOMP 1.1. The rest is ours, because
stomper falls short where it matters on a live connection:

- its frame reader joins the lines of a multi-line body, counts
  ``content-length`` in characters instead of bytes, and loses the frames
  that follow a heart-beat newline, so incoming bytes go through
  :class:`FrameParser`;
- its CONNECT asks only for STOMP 1.1 (ours accepts 1.1 and 1.2, see
  :func:`connect_frame`), and its DISCONNECT lacks the blank line;
- it does no header escaping (``\\c``, ``\\n``, ``\\\\`` and 1.2's ``\\r``),
  adds no ``content-length`` and returns text, so :func:`encode_frame`
  writes the bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import stomper

from ridad.errors import BusUnavailable

#: Every command a frame may carry (stomper's list, plus 1.2's STOMP).
COMMANDS = frozenset(stomper.VALID_COMMANDS) | {"STOMP"}
#: Frames whose headers are never escaped (STOMP 1.2, "Value Encoding").
_RAW_HEADER_COMMANDS = frozenset({"CONNECT", "STOMP", "CONNECTED"})
VERSIONS = ("1.0", "1.1", "1.2")
#: The most bytes one frame (command, headers and body) may take.
DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024
ACK_MODES = ("auto", "client", "client-individual")

_UNESCAPE = {
    "1.1": {"\\": "\\", "n": "\n", "c": ":"},
    "1.2": {"\\": "\\", "n": "\n", "c": ":", "r": "\r"},
}
_ESCAPE_SEQUENCE = re.compile(r"\\(.?)", re.DOTALL)
_DIGITS = re.compile(r"[0-9]{1,12}")


class StompProtocolError(BusUnavailable):
    """The peer sent bytes that are not STOMP, or a frame over the size limit."""


@dataclass(frozen=True)
class Frame:
    """One STOMP frame: a command, headers in wire order, and a body."""

    command: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (the first if repeated), else None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None


def _escape(text: str, version: str) -> str:
    if version == "1.0":
        if "\n" in text or "\r" in text:
            raise ValueError(f"STOMP 1.0 cannot carry a line break in {text!r}")
        return text
    text = text.replace("\\", "\\\\").replace("\n", "\\n").replace(":", "\\c")
    if version == "1.2":
        text = text.replace("\r", "\\r")
    return text


def _raw_header(name: str, value: str) -> str:
    if ":" in name or any(c in name + value for c in "\n\r"):
        raise ValueError(f"Header {name!r} cannot be sent unescaped")
    return f"{name}:{value}"


def encode_frame(frame: Frame, *, version: str) -> bytes:
    """The bytes of ``frame`` for a connection speaking STOMP ``version``.

    Headers are escaped as ``version`` requires (never those of CONNECT,
    STOMP and CONNECTED), a frame with a body gets ``content-length`` in
    bytes, and the frame ends with NUL.

    :raises ValueError: unknown command or version, a header that cannot be
        represented, or a ``content-length`` header that does not match.
    """
    if frame.command not in COMMANDS:
        raise ValueError(f"Unknown STOMP command {frame.command!r}")
    if version not in VERSIONS:
        raise ValueError(f"Unknown STOMP version {version!r}")
    raw = frame.command in _RAW_HEADER_COMMANDS
    lines = [frame.command]
    for name, value in frame.headers:
        if raw or version == "1.0":
            lines.append(_raw_header(name, value))
        else:
            lines.append(f"{_escape(name, version)}:{_escape(value, version)}")
    declared = frame.header("content-length")
    if declared is not None and declared != str(len(frame.body)):
        raise ValueError(
            f"content-length {declared} but the body has {len(frame.body)} bytes"
        )
    if declared is None and frame.body:
        lines.append(f"content-length:{len(frame.body)}")
    head = "\n".join(lines) + "\n\n"
    return head.encode("utf-8") + frame.body + b"\x00"


def _from_stomper(text: str) -> Frame:
    """The frame stomper built as ``text`` (STOMP 1.0 framing: no escaping)."""
    frames = FrameParser(version="1.0").feed(text.encode("utf-8"))
    if len(frames) != 1:
        raise ValueError(f"stomper built {len(frames)} frames")
    return frames[0]


def _check_field(name: str, value: str) -> None:
    if any(c in value for c in "\n\r\x00"):
        raise ValueError(f"{name} cannot contain a line break or NUL: {value!r}")


def connect_frame(
    *,
    host: str,
    login: str | None,
    passcode: str | None,
    heart_beat_ms: tuple[int, int],
) -> Frame:
    """A CONNECT frame accepting STOMP 1.1 and 1.2.

    ``heart_beat_ms`` is (how often we can send, how often we want to hear
    from the broker), 0 meaning never.

    :raises ValueError: a negative heart-beat.
    """
    send_ms, receive_ms = heart_beat_ms
    if send_ms < 0 or receive_ms < 0:
        raise ValueError(f"Negative heart-beat {heart_beat_ms!r}")
    beat = f"{send_ms},{receive_ms}"
    headers = [("accept-version", "1.1,1.2"), ("host", host), ("heart-beat", beat)]
    for name, value in (("login", login), ("passcode", passcode)):
        if value is not None:
            headers.append((name, value))
    return Frame("CONNECT", tuple(headers))


def send_frame(
    destination: str, body: bytes, headers: Mapping[str, str], *, receipt: str
) -> Frame:
    """A SEND frame to ``destination`` asking for a RECEIPT ``receipt``.

    :raises ValueError: ``headers`` names ``destination``, ``receipt`` or
        ``content-length``, which this function owns.
    """
    reserved = {"destination", "receipt", "content-length"} & set(headers)
    if reserved:
        raise ValueError(f"Headers {sorted(reserved)} are set by send_frame")
    return Frame(
        "SEND",
        (("destination", destination), *headers.items(), ("receipt", receipt)),
        bytes(body),
    )


def subscribe_frame(
    destination: str,
    subscription_id: str,
    *,
    ack: str,
    headers: Mapping[str, str] | None = None,
    receipt: str | None = None,
) -> Frame:
    """A SUBSCRIBE frame (stomper's fields), with extra headers and a receipt.

    :raises ValueError: an unknown ack mode, or a line break in a field.
    """
    if ack not in ACK_MODES:
        raise ValueError(f"Unknown ack mode {ack!r}")
    _check_field("destination", destination)
    _check_field("subscription id", subscription_id)
    frame = _from_stomper(stomper.subscribe(destination, subscription_id, ack))
    extra = [(k, v) for k, v in (headers or {}).items() if k not in ("id", "ack")]
    if receipt is not None:
        extra.append(("receipt", receipt))
    return Frame(frame.command, frame.headers + tuple(extra))


def ack_frame(message: Frame, *, version: str) -> Frame:
    """The ACK of MESSAGE ``message`` on a connection speaking ``version``.

    STOMP 1.2 acknowledges the message's ``ack`` header as ``id``; 1.1 uses
    stomper's ``message-id`` and ``subscription``.

    :raises StompProtocolError: the MESSAGE lacks the headers an ACK needs.
    """
    if version == "1.2":
        ack_id = message.header("ack") or message.header("message-id")
        if ack_id is None:
            raise StompProtocolError("MESSAGE without ack or message-id header")
        return Frame("ACK", (("id", ack_id),))
    message_id = message.header("message-id")
    subscription = message.header("subscription")
    if message_id is None or subscription is None:
        raise StompProtocolError("MESSAGE without message-id or subscription header")
    if any(c in message_id + subscription for c in "\n\r\x00"):
        return Frame(
            "ACK", (("subscription", subscription), ("message-id", message_id))
        )
    return _from_stomper(stomper.ack(message_id, subscription))


def disconnect_frame(*, receipt: str) -> Frame:
    """A DISCONNECT frame asking for a RECEIPT (stomper's lacks the blank line)."""
    return Frame("DISCONNECT", (("receipt", receipt),))


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise StompProtocolError(f"Header is not UTF-8: {raw[:80]!r}") from e


def _unescape(text: str, version: str) -> str:
    table = _UNESCAPE[version]

    def replace(match: re.Match[str]) -> str:
        try:
            return table[match.group(1)]
        except KeyError:
            raise StompProtocolError(
                f"Undefined escape \\{match.group(1)} in header {text[:80]!r}"
            ) from None

    return _ESCAPE_SEQUENCE.sub(replace, text)


@dataclass(frozen=True)
class _Head:
    command: str
    headers: tuple[tuple[str, str], ...]
    body_start: int
    content_length: int | None


class FrameParser:
    """Turns a byte stream into frames, whatever the chunk boundaries.

    End-of-line heart-beats (``\\n`` and ``\\r\\n``) between frames are
    skipped. A body is ``content-length`` bytes when the header is there,
    else everything up to the first NUL. Headers are unescaped as the
    negotiated version says: a CONNECTED frame's ``version`` header switches
    the parser at once, and :meth:`set_version` does it by hand.
    """

    def __init__(
        self,
        *,
        version: str = "1.0",
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    ) -> None:
        self.set_version(version)
        self._max_frame_bytes = max_frame_bytes
        self._buffer = bytearray()
        self._head: _Head | None = None
        self._scan = 0

    @property
    def version(self) -> str:
        """The STOMP version whose header rules apply now."""
        return self._version

    def set_version(self, version: str) -> None:
        """Parse the following frames by the rules of STOMP ``version``.

        :raises ValueError: an unknown version.
        """
        if version not in VERSIONS:
            raise ValueError(f"Unknown STOMP version {version!r}")
        self._version = version

    def feed(self, data: bytes) -> list[Frame]:
        """Take more bytes; return the frames they complete, in order.

        :raises StompProtocolError: the bytes are not STOMP, or a frame is
            larger than the limit. The parser is unusable afterwards.
        """
        self._buffer += data
        frames = []
        while (frame := self._next_frame()) is not None:
            frames.append(frame)
            if frame.command == "CONNECTED":
                negotiated = frame.header("version") or "1.0"
                if negotiated in VERSIONS:
                    self.set_version(negotiated)
        return frames

    def _next_frame(self) -> Frame | None:
        if self._head is None:
            self._skip_heart_beats()
            self._head = self._parse_head()
            if self._head is None:
                return None
        head, buffer = self._head, self._buffer
        if head.content_length is not None:
            end = head.body_start + head.content_length
            if len(buffer) <= end:
                return None
            if buffer[end] != 0:
                raise StompProtocolError("No NUL after content-length bytes of body")
        else:
            end = buffer.find(b"\x00", max(self._scan, head.body_start))
            if end < 0:
                self._scan = len(buffer)
                self._check_size(len(buffer))
                return None
        body = bytes(buffer[head.body_start : end])
        del buffer[: end + 1]
        self._head, self._scan = None, 0
        return Frame(head.command, head.headers, body)

    def _skip_heart_beats(self) -> None:
        buffer, i = self._buffer, 0
        while i < len(buffer):
            if buffer[i] == 0x0A:
                i += 1
            elif buffer[i] == 0x0D:
                if i + 1 == len(buffer):
                    break
                if buffer[i + 1] != 0x0A:
                    raise StompProtocolError("Carriage return without line feed")
                i += 2
            else:
                break
        if i:
            del buffer[:i]
            self._scan = max(0, self._scan - i)

    def _check_size(self, size: int) -> None:
        if size > self._max_frame_bytes:
            raise StompProtocolError(f"Frame larger than {self._max_frame_bytes} bytes")

    def _parse_head(self) -> _Head | None:
        buffer = self._buffer
        start = max(0, self._scan - 2)
        ends = [
            i
            for i in (buffer.find(b"\n\n", start), buffer.find(b"\n\r\n", start))
            if i >= 0
        ]
        if not ends:
            self._scan = len(buffer)
            self._check_size(len(buffer))
            return None
        block_end = min(ends)
        body_start = block_end + (2 if buffer[block_end + 1] == 0x0A else 3)
        lines = bytes(buffer[:block_end]).split(b"\n")
        command = _decode(lines[0].removesuffix(b"\r"))
        if command not in COMMANDS:
            raise StompProtocolError(f"Unknown command {command[:40]!r}")
        raw = command in _RAW_HEADER_COMMANDS or self._version == "1.0"
        strip_cr = command in _RAW_HEADER_COMMANDS or self._version == "1.2"
        headers = []
        for line in lines[1:]:
            if strip_cr:
                line = line.removesuffix(b"\r")
            name, colon, value = line.partition(b":")
            if not colon:
                raise StompProtocolError(f"Header line without colon: {line[:80]!r}")
            pair = (_decode(name), _decode(value))
            if not raw:
                pair = (
                    _unescape(pair[0], self._version),
                    _unescape(pair[1], self._version),
                )
            headers.append(pair)
        frame_headers = tuple(headers)
        length = Frame(command, frame_headers).header("content-length")
        content_length = None
        if length is not None:
            if not _DIGITS.fullmatch(length.strip()):
                raise StompProtocolError(f"Bad content-length {length[:40]!r}")
            content_length = int(length)
            self._check_size(body_start + content_length)
        self._scan = body_start
        return _Head(command, frame_headers, body_start, content_length)
