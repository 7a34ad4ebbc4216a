"""SCM URLs and repository locations: parsing, normalisation and rendering.

Pure code. A module SCM URL names a repository, optionally a file inside it,
and a ref: ``git://host/modules/foo.git?#main``. Everything that could make
git do something other than fetch from the named repository (credentials,
option-like or transport-like strings, odd characters) is refused with
L{InvalidRequest}, whose message says what to fix.
L{ridad.scm.whitelist.Whitelist} decides which repositories may be used.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from ridad.errors import InvalidRequest

__all__ = [
    "MAX_URL_LENGTH",
    "RepoLocation",
    "ScmUrl",
    "check_ref",
    "parse_repository",
    "parse_scmurl",
]

MAX_URL_LENGTH = 4096

# Scheme as written -> protocol name git knows it by.
_GIT_PROTOCOLS = {
    "git": "git",
    "https": "https",
    "http": "http",
    "git+https": "https",
    "file": "file",
}
_DEFAULT_PORTS = {"git": 9418, "https": 443, "http": 80, "git+https": 443}
_ALLOWED_SCHEMES = "git://, https://, http://, git+https:// or file://"

_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_PERCENT_RE = re.compile(r"%([0-9A-Fa-f]{2})")
_SEGMENT_RE = re.compile(r"[A-Za-z0-9._~+@=,-]+")
_LABEL_RE = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_PORT_RE = re.compile(r"[0-9]{1,5}")
_REF_FORBIDDEN = set("~^:?*[\\#")


def _shown(text: str) -> str:
    """
    Quote user input for an error message, escaping anything unprintable.

    @return: C{repr} of the text, shortened to 200 characters.
    """
    if len(text) > 200:
        text = text[:200] + "..."
    return repr(text)


def _check_characters(text: str, what: str) -> None:
    """
    Refuse empty, overlong, non-ASCII, control and whitespace characters.

    @raise InvalidRequest: naming the first offending character.
    """
    if not isinstance(text, str):
        raise InvalidRequest(f"The {what} must be a string")
    if not text:
        raise InvalidRequest(f"The {what} is empty")
    if len(text) > MAX_URL_LENGTH:
        raise InvalidRequest(
            f"The {what} is {len(text)} characters long; "
            f"at most {MAX_URL_LENGTH} are allowed"
        )
    for position, char in enumerate(text):
        code = ord(char)
        if char == "\x00":
            raise InvalidRequest(f"The {what} contains a NUL character")
        if code < 0x20 or code == 0x7F or char.isspace():
            raise InvalidRequest(
                f"The {what} contains a control or whitespace character "
                f"(U+{code:04X}) at position {position}; remove it"
            )
        if code > 0x7E:
            raise InvalidRequest(
                f"The {what} contains the non-ASCII character U+{code:04X} at "
                f"position {position}; use ASCII (xn-- form for host names)"
            )


def check_ref(ref: str) -> None:
    """
    Check a git ref (branch, tag, full ref or commit hash) is safe and valid.

    Applies git's check-ref-format rules, and refuses anything git could take
    as an option (a leading C{-}) or a transport (C{::}).

    @raise InvalidRequest: saying what is wrong with the ref.
    """
    _check_characters(ref, "ref")
    where = f"The ref {_shown(ref)}"
    if ref.startswith("-"):
        raise InvalidRequest(f"{where} must not start with '-'")
    if "::" in ref:
        raise InvalidRequest(f"{where} must not contain '::'")
    bad = sorted(set(ref) & _REF_FORBIDDEN)
    if bad:
        raise InvalidRequest(
            f"{where} contains {''.join(bad)!r}; refs may not contain any of "
            "~ ^ : ? * [ \\ #"
        )
    if ".." in ref or "@{" in ref or ref == "@":
        raise InvalidRequest(f"{where} must not contain '..' or '@{{' or be '@'")
    if ref.startswith("/") or ref.endswith("/") or "//" in ref:
        raise InvalidRequest(f"{where} must not start or end with '/' or hold '//'")
    if ref.endswith("."):
        raise InvalidRequest(f"{where} must not end with '.'")
    for part in ref.split("/"):
        if part.startswith(".") or part.endswith(".lock"):
            raise InvalidRequest(
                f"{where} has a component starting with '.' or ending with '.lock'"
            )


@dataclass(frozen=True)
class RepoLocation:
    """
    A normalised git repository location (no ref).

    C{path} starts with C{/} and has no trailing C{/} except for the root.
    """

    scheme: str
    host: str
    port: int | None
    path: str

    @property
    def git_protocol(self) -> str:
        """
        The protocol name git knows the scheme by, for C{protocol.<name>.allow}.

        @return: one of C{git}, C{https}, C{http}, C{file}.
        """
        return _GIT_PROTOCOLS[self.scheme]

    @property
    def url(self) -> str:
        """
        The URL to hand to git (C{git+https} becomes C{https}).

        @return: the URL text.
        """
        return _render(self.git_protocol, self.host, self.port, self.path)

    def render(self) -> str:
        """
        The canonical text of this location, keeping the scheme as written.

        @return: text that L{parse_repository} turns back into an equal value.
        """
        return _render(self.scheme, self.host, self.port, self.path)

    def __str__(self) -> str:
        """
        Show the canonical text.

        @return: L{render}'s result.
        """
        return self.render()

    def join(self, name: str) -> RepoLocation:
        """
        Append a component name as one more path segment.

        @return: the location of that component's repository.
        @raise InvalidRequest: the name is empty, holds C{/} or C{::}, starts
            with C{-} or C{.}, or has characters a path may not hold.
        """
        _check_characters(name, "component name")
        if "/" in name or "::" in name or name[0] in "-.":
            raise InvalidRequest(
                f"The component name {_shown(name)} must not contain '/' or "
                "'::' nor start with '-' or '.'"
            )
        _check_segment(name, f"The component name {_shown(name)}")
        base = "" if self.path == "/" else self.path
        return RepoLocation(self.scheme, self.host, self.port, f"{base}/{name}")

    def is_under(self, prefix: RepoLocation) -> bool:
        """
        Whether this location is C{prefix} itself or below it.

        Scheme, host and port must be equal; paths match on segment
        boundaries.

        @return: C{True} when C{prefix} covers this location.
        """
        if (self.scheme, self.host, self.port) != (
            prefix.scheme,
            prefix.host,
            prefix.port,
        ):
            return False
        if prefix.path == "/" or self.path == prefix.path:
            return True
        return self.path.startswith(prefix.path + "/")


@dataclass(frozen=True)
class ScmUrl:
    """
    A parsed module SCM URL: repository, optional file inside it, and ref.

    C{original} keeps the text as submitted, for display; it takes no part
    in comparisons.
    """

    scheme: str
    host: str
    port: int | None
    repo_path: str
    file_path: str | None
    ref: str
    original: str = field(default="", compare=False, repr=False)

    @property
    def repository(self) -> RepoLocation:
        """
        The repository part.

        @return: the repository's location.
        """
        return RepoLocation(self.scheme, self.host, self.port, self.repo_path)

    @property
    def name(self) -> str:
        """
        The repository name: its last path segment without C{.git}.

        @return: the name.
        """
        return _repository_name(self.repo_path.rsplit("/", 1)[-1])

    @property
    def modulemd_path(self) -> str:
        """
        The path of the modulemd file inside the repository.

        @return: C{file_path}, or C{<name>.yaml} when the URL names no file.
        """
        return self.file_path if self.file_path is not None else f"{self.name}.yaml"

    def render(self) -> str:
        """
        The canonical text of this URL.

        @return: text that L{parse_scmurl} turns back into an equal value.
        """
        path = self.repo_path
        if self.file_path is not None:
            path = f"{path}/{self.file_path}"
        return _render(self.scheme, self.host, self.port, path) + f"?#{self.ref}"

    def __str__(self) -> str:
        """
        Show the URL as submitted, or the canonical text when unknown.

        @return: the text.
        """
        return self.original or self.render()


def _render(scheme: str, host: str, port: int | None, path: str) -> str:
    """
    Build URL text from normalised parts.

    @return: C{scheme://host[:port]path}.
    """
    authority = f"[{host}]" if ":" in host else host
    if port is not None:
        authority = f"{authority}:{port}"
    return f"{scheme}://{authority}{path}"


def _repository_name(segment: str) -> str:
    """
    Strip C{.git} from a repository's last path segment.

    @return: the repository name.
    """
    return segment.removesuffix(".git")


def parse_scmurl(text: str) -> ScmUrl:
    """
    Parse and normalise a module SCM URL such as C{git://h/modules/foo.git?#main}.

    @return: the parsed URL.
    @raise InvalidRequest: the text is not an acceptable SCM URL; the message
        says what to fix.
    """
    _check_characters(text, "SCM URL")
    base, hash_sign, ref = text.partition("#")
    if not hash_sign:
        raise InvalidRequest(
            f"The SCM URL {_shown(text)} has no ref: add '#<commit, branch or "
            "tag>', as in git://host/modules/foo.git?#main"
        )
    if not ref:
        raise InvalidRequest(f"The SCM URL {_shown(text)} has an empty ref after '#'")
    check_ref(ref)
    base = base.removesuffix("?")
    scheme, host, port, segments = _parse_location(base, text, "SCM URL")
    split = next(
        (i + 1 for i, seg in enumerate(segments) if seg.endswith(".git")),
        len(segments),
    )
    repo, inside = segments[:split], segments[split:]
    if not repo:
        raise InvalidRequest(f"The SCM URL {_shown(text)} names no repository path")
    if not _repository_name(repo[-1]):
        raise InvalidRequest(
            f"The SCM URL {_shown(text)} has a repository segment '.git' without a name"
        )
    return ScmUrl(
        scheme=scheme,
        host=host,
        port=port,
        repo_path="/" + "/".join(repo),
        file_path="/".join(inside) if inside else None,
        ref=ref,
        original=text,
    )


def parse_repository(text: str) -> RepoLocation:
    """
    Parse and normalise a repository location (no ref), such as a whitelist
    entry, C{rpms_default_repository} or a component's C{repository}.

    @return: the normalised location.
    @raise InvalidRequest: the text is not an acceptable repository location.
    """
    _check_characters(text, "repository URL")
    if "#" in text:
        raise InvalidRequest(
            f"The repository URL {_shown(text)} must not contain '#': "
            "a repository location has no ref"
        )
    scheme, host, port, segments = _parse_location(text, text, "repository URL")
    return RepoLocation(scheme, host, port, "/" + "/".join(segments))


def _parse_location(
    base: str, text: str, what: str
) -> tuple[str, str, int | None, list[str]]:
    """
    Split C{scheme://authority/path} (no C{#}) into normalised parts.

    @return: scheme, host, port (C{None} for the default) and path segments.
    @raise InvalidRequest: any part is unacceptable.
    """
    where = f"The {what} {_shown(text)}"
    if "?" in base:
        raise InvalidRequest(
            f"{where} has a query string; only an empty '?' before '#' is allowed"
        )
    if "\\" in base:
        raise InvalidRequest(f"{where} must not contain a backslash")
    match = _SCHEME_RE.match(base)
    if match is None:
        if "::" in base:
            raise InvalidRequest(
                f"{where} uses a git transport ('::'); use {_ALLOWED_SCHEMES}"
            )
        raise InvalidRequest(
            f"{where} is not a URL; write scheme://host/path with a scheme "
            f"of {_ALLOWED_SCHEMES}"
        )
    scheme = match.group(1).lower()
    if scheme not in _GIT_PROTOCOLS:
        raise InvalidRequest(
            f"{where} uses the scheme {scheme!r}, which is not allowed; "
            f"use {_ALLOWED_SCHEMES}"
        )
    authority, _, path = base[match.end() :].partition("/")
    host, port = _parse_authority(authority, scheme, where)
    return scheme, host, port, _parse_path(path, where)


def _parse_authority(authority: str, scheme: str, where: str) -> tuple[str, int | None]:
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
    return None if _DEFAULT_PORTS.get(scheme) == port else port


def _parse_path(path: str, where: str) -> list[str]:
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
        _check_segment(segment, where)
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


def _check_segment(segment: str, where: str) -> None:
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
