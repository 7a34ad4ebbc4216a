"""The authority and path of an SCM URL: host, port and path segments.

Pure code used by L{ridad.scm.url}: each function normalises one part of
C{scheme://host:port/path} or refuses it with L{InvalidRequest}, naming the
URL (C{where}) and the part that is wrong.
"""

from __future__ import annotations

import ipaddress
import re

from ridad.errors import InvalidRequest

__all__ = ["check_segment", "parse_authority", "parse_path"]

DEFAULT_PORTS = {"git": 9418, "https": 443, "http": 80, "git+https": 443}

_PERCENT_RE = re.compile(r"%([0-9A-Fa-f]{2})")
_SEGMENT_RE = re.compile(r"[A-Za-z0-9._~+@=,-]+")
_LABEL_RE = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_PORT_RE = re.compile(r"[0-9]{1,5}")


def parse_authority(authority: str, scheme: str, where: str) -> tuple[str, int | None]:
    """
    Normalise C{host[:port]}: lower case, no trailing dot, no default port.

    @return: the host and the port (C{None} when default or absent).
    @raise InvalidRequest: credentials, a bad host or a bad port.
    """
    if "@" in authority:
        raise InvalidRequest(
            f"{where} contains credentials ('user@' or 'user:password@'); remove them"
        )
    if "%" in authority:
        raise InvalidRequest(f"{where} has percent-encoding in its host")
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise InvalidRequest(f"{where} has an unterminated '[' in its host")
        host_text, rest = authority[1:end], authority[end + 1 :]
        if rest and not rest.startswith(":"):
            raise InvalidRequest(f"{where} has text after ']' in its host")
        port_text = rest[1:] if rest else None
        host = _normalise_ipv6(host_text, where)
    else:
        host_text, colon, port_text_or_empty = authority.partition(":")
        port_text = port_text_or_empty if colon else None
        host = _normalise_host(host_text, scheme, where)
    port = _parse_port(port_text, scheme, where)
    if scheme == "file":
        if host or port is not None:
            raise InvalidRequest(
                f"{where} is a file:// URL with a host or port; write file:///path"
            )
    elif not host:
        raise InvalidRequest(f"{where} has no host")
    return host, port


def _normalise_ipv6(text: str, where: str) -> str:
    """
    Normalise a bracketed IPv6 address to its compressed lower-case form.

    @return: the address text without brackets.
    @raise InvalidRequest: not an IPv6 address, or it has a zone id.
    """
    try:
        return ipaddress.IPv6Address(text).compressed
    except ValueError:
        raise InvalidRequest(
            f"{where} has an invalid IPv6 address in brackets (zone ids are "
            "not allowed)"
        ) from None


def _normalise_host(text: str, scheme: str, where: str) -> str:
    """
    Normalise a host name or IPv4 address.

    @return: the lower-case host without a trailing dot (empty for
        C{file://} with no host or C{localhost}).
    @raise InvalidRequest: not a valid DNS name or dotted-quad IPv4 address.
    """
    host = text.lower()
    host = host.removesuffix(".")
    if scheme == "file" and host in ("", "localhost"):
        return ""
    labels = host.split(".")
    if not all(_LABEL_RE.fullmatch(label) for label in labels):
        raise InvalidRequest(
            f"{where} has an invalid host name {text!r}; use letters, digits "
            "and '-' in dot-separated labels"
        )
    if labels[-1].isdigit():
        try:
            address = ipaddress.IPv4Address(host)
        except ValueError:
            raise InvalidRequest(
                f"{where} has an invalid IPv4 address {text!r}; write four "
                "decimal numbers"
            ) from None
        if str(address) != host:
            raise InvalidRequest(f"{where} has a non-canonical IPv4 address")
    return host


def _parse_port(text: str | None, scheme: str, where: str) -> int | None:
    """
    Parse a port; the scheme's default port becomes C{None}.

    @return: the port, or C{None} when absent, empty or default.
    @raise InvalidRequest: not a number from 1 to 65535.
    """
    if not text:
        return None
    if not _PORT_RE.fullmatch(text.lstrip("0") or "0") or not 0 < int(text) < 65536:
        raise InvalidRequest(f"{where} has an invalid port {text!r}")
    port = int(text)
    return None if DEFAULT_PORTS.get(scheme) == port else port


def parse_path(path: str, where: str) -> list[str]:
    """
    Percent-decode the path, resolve C{.} and C{..} and drop empty segments.

    @return: the normalised segments.
    @raise InvalidRequest: a segment is unsafe, or C{..} leaves the root.
    """
    segments: list[str] = []
    for raw in path.split("/"):
        segment = _percent_decode(raw, where)
        if segment in ("", "."):
            continue
        if segment == "..":
            if not segments:
                raise InvalidRequest(f"{where} has a '..' that goes above the root")
            segments.pop()
            continue
        check_segment(segment, where)
        segments.append(segment)
    return segments


def _percent_decode(raw: str, where: str) -> str:
    """
    Decode C{%XX} escapes in one path segment.

    @return: the decoded segment.
    @raise InvalidRequest: a malformed escape, an encoded C{/}, or bytes that
        are not printable ASCII.
    """
    if "%" not in raw:
        return raw
    if raw.count("%") != len(_PERCENT_RE.findall(raw)):
        raise InvalidRequest(f"{where} has a malformed percent-escape")
    decoded = _PERCENT_RE.sub(lambda m: chr(int(m.group(1), 16)), raw)
    if "/" in decoded or "\\" in decoded:
        raise InvalidRequest(
            f"{where} has a percent-encoded '/' or '\\' (%2F, %5C) in its path"
        )
    if any(not 0x20 < ord(char) < 0x7F for char in decoded):
        raise InvalidRequest(
            f"{where} has a percent-encoded control, whitespace or non-ASCII "
            "character in its path"
        )
    return decoded


def check_segment(segment: str, where: str) -> None:
    """
    Refuse a path segment git could misread, or that needs URL escaping.

    @raise InvalidRequest: the segment starts with C{-}, holds C{::} or a
        character outside C{A-Z a-z 0-9 . _ ~ + @ = , -}.
    """
    if segment.startswith("-"):
        raise InvalidRequest(
            f"{where} has a path segment starting with '-' ({segment!r})"
        )
    if "::" in segment:
        raise InvalidRequest(f"{where} has '::' in its path")
    if not _SEGMENT_RE.fullmatch(segment):
        bad = sorted({c for c in segment if not _SEGMENT_RE.fullmatch(c)})
        raise InvalidRequest(
            f"{where} has the character(s) {''.join(bad)!r} in its path; use "
            "letters, digits and . _ ~ + @ = , -"
        )
