"""SCM URLs and repository locations: parsing, normalisation and rendering.

Pure code. A module SCM URL names a repository, optionally a file inside it,
and a ref: ``git://host/modules/foo.git?#main``. Everything that could make
git do something other than fetch from the named repository (credentials,
option-like or transport-like strings, odd characters) is refused with
L{InvalidRequest}, whose message says what to fix.
L{ridad.scm.whitelist.Whitelist} decides which repositories may be used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ridad.errors import InvalidRequest
from ridad.scm.refs import MAX_URL_LENGTH, check_ref, check_text, shown
from ridad.scm.urlparts import check_segment, parse_authority, parse_path

__all__ = [
    "MAX_URL_LENGTH",
    "RepoLocation",
    "ScmUrl",
    "check_ref",
    "parse_repository",
    "parse_scmurl",
]

# Scheme as written -> protocol name git knows it by.
_GIT_PROTOCOLS = {
    "git": "git",
    "https": "https",
    "http": "http",
    "git+https": "https",
    "file": "file",
}
_ALLOWED_SCHEMES = "git://, https://, http://, git+https:// or file://"

_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


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
        check_text(name, "component name")
        if "/" in name or "::" in name or name[0] in "-.":
            raise InvalidRequest(
                f"The component name {shown(name)} must not contain '/' or "
                "'::' nor start with '-' or '.'"
            )
        check_segment(name, f"The component name {shown(name)}")
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
    check_text(text, "SCM URL")
    base, hash_sign, ref = text.partition("#")
    if not hash_sign:
        raise InvalidRequest(
            f"The SCM URL {shown(text)} has no ref: add '#<commit, branch or "
            "tag>', as in git://host/modules/foo.git?#main"
        )
    if not ref:
        raise InvalidRequest(f"The SCM URL {shown(text)} has an empty ref after '#'")
    check_ref(ref)
    base = base.removesuffix("?")
    scheme, host, port, segments = _parse_location(base, text, "SCM URL")
    split = next(
        (i + 1 for i, seg in enumerate(segments) if seg.endswith(".git")),
        len(segments),
    )
    repo, inside = segments[:split], segments[split:]
    if not repo:
        raise InvalidRequest(f"The SCM URL {shown(text)} names no repository path")
    if not _repository_name(repo[-1]):
        raise InvalidRequest(
            f"The SCM URL {shown(text)} has a repository segment '.git' without a name"
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
    check_text(text, "repository URL")
    if "#" in text:
        raise InvalidRequest(
            f"The repository URL {shown(text)} must not contain '#': "
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
    where = f"The {what} {shown(text)}"
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
    host, port = parse_authority(authority, scheme, where)
    return scheme, host, port, parse_path(path, where)
