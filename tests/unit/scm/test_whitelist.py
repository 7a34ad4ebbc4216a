"""Tests for L{ridad.scm.whitelist}: the repository locations a whitelist
allows, attempts to get around it, bad entries and require(); with
Hypothesis, that whatever it allows really lies under an entry.

Parsing SCM URLs is in test_url_parsing.py and test_url_refusals.py.
"""

from __future__ import annotations

import posixpath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ridad.errors import Forbidden, InvalidRequest
from ridad.scm.url import parse_repository, parse_scmurl
from ridad.scm.whitelist import Whitelist

WHITELIST = Whitelist(
    [
        "git://pkgs.example.org/modules/",
        "https://pkgs.example.org/rpms",
    ]
)


# --- whitelist ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "git://pkgs.example.org/modules/foo.git?#main",
        "GIT://PKGS.EXAMPLE.ORG.:9418/modules//./foo.git#main",
        "git://pkgs.example.org/modules/sub/foo.git#main",
        "git://pkgs.example.org/rpms/../modules/foo.git#main",
        "https://pkgs.example.org/rpms/bash.git#main",
        "https://pkgs.example.org:443/rpms/bash#main",
        "https://pkgs.example.org/rpms#main",
    ],
)
def test_whitelist_allows_locations_below_an_entry(text: str) -> None:
    """Normalised locations at or below an entry on a segment boundary are allowed."""
    assert WHITELIST.allows(parse_scmurl(text).repository)


BYPASSES = [
    # credentials
    "git://user@pkgs.example.org/modules/foo.git#main",
    "https://u:p@pkgs.example.org/rpms/foo.git#main",
    "git://pkgs.example.org@evil.example/modules/foo.git#main",
    "git://evil.example#@pkgs.example.org/modules/foo.git",
    # leaving the prefix with ..
    "git://pkgs.example.org/modules/../rpms/x.git#main",
    "git://pkgs.example.org/modules/%2e%2e/rpms/x.git#main",
    "git://pkgs.example.org/modules/%2E%2e/x.git#main",
    "git://pkgs.example.org/modules/%2E%2e/#main",
    "git://pkgs.example.org/modules/.%2e/secret.git#main",
    "git://pkgs.example.org/modules/../../etc.git#main",
    # percent-encoded slashes
    "git://pkgs.example.org/modules%2f..%2frpms/x.git#main",
    "git://pkgs.example.org/modules%2Fx.git#main",
    "git://pkgs.example.org/modules%252f..%252fx.git#main",
    # prefix boundaries
    "git://pkgs.example.org/modules-evil/x.git#main",
    "git://pkgs.example.org/modulesx#main",
    "git://pkgs.example.org/modulesx.git#main",
    "git://pkgs.example.org/modules.git#main",
    "https://pkgs.example.org/rpmsevil/x.git#main",
    "git://pkgs.example.org/#main",
    "git://pkgs.example.org/Modules/foo.git#main",
    # other schemes
    "ssh://pkgs.example.org/modules/foo.git#main",
    "git+ssh://pkgs.example.org/modules/foo.git#main",
    "http://pkgs.example.org/rpms/x.git#main",
    "git+https://pkgs.example.org/rpms/x.git#main",
    "https://pkgs.example.org/modules/foo.git#main",
    "file:///modules/foo.git#main",
    "file://pkgs.example.org/modules/foo.git#main",
    "ext::sh -c touch% /tmp/pwned#main",
    "fd::17#main",
    # ports
    "git://pkgs.example.org:9419/modules/foo.git#main",
    "git://pkgs.example.org:443/modules/foo.git#main",
    "https://pkgs.example.org:9418/rpms/x.git#main",
    # host tricks
    "git://pkgs.example.org.evil.example/modules/foo.git#main",
    "git://evil.example/pkgs.example.org/modules/foo.git#main",
    "git://pkgs.example.org../modules/foo.git#main",
    "git://pkgs-example.org/modules/foo.git#main",
    "git://pkgs.example.org%2eevil/modules/foo.git#main",
    "git://pkgs.ex\u0430mple.org/modules/foo.git#main",
    "git://xn--pkgs-example-org/modules/foo.git#main",
    "git://[::1]/modules/foo.git#main",
    "git://[::ffff:127.0.0.1]/modules/foo.git#main",
    "git://127.0.0.1/modules/foo.git#main",
    "git://pkgs.example.org\\@evil/modules/foo.git#main",
    # option and transport injection
    "git://pkgs.example.org/modules/foo.git#-upload-pack=evil",
    "git://pkgs.example.org/modules/foo.git?#--foo",
    "git://pkgs.example.org/modules/--upload-pack=evil#main",
    "git://pkgs.example.org/modules/ext::sh#main",
    # control characters and whitespace
    "git://pkgs.example.org/modules/foo.git#main\n",
    "git://pkgs.example.org/modules/foo%0a.git#main",
    "git://pkgs.example.org/modules/foo.git#ma\x00in",
    "git://pkgs.example.org/modules/foo .git#main",
    "git://pkgs.example.org/modules/foo.git\t#main",
]


@pytest.mark.parametrize("text", BYPASSES)
def test_whitelist_bypass_attempts_are_refused_or_not_allowed(text: str) -> None:
    """Each bypass attempt either fails to parse or lands outside the whitelist."""
    try:
        location = parse_scmurl(text).repository
    except InvalidRequest:
        return
    assert not WHITELIST.allows(location), location


@pytest.mark.parametrize(
    ("entry", "text", "allowed"),
    [
        ("git://h/modules/", "git://h/modules/foo.git", True),
        ("git://h/modules", "git://h/modules/foo.git", True),
        ("git://h/modules/foo.git", "git://h/modules/foo.git", True),
        ("git://h/modules/foo.git", "git://h/modules/foo.git2", False),
        ("git://h/modules", "git://h/modules", True),
        ("git://h/modules", "git://h/modules-evil/x.git", False),
        ("git://h/modules", "git://h/modulesx", False),
        ("git://h/", "git://h/anything/x.git", True),
        ("git://h", "git://h/anything/x.git", True),
        ("git://h/", "git://h2/anything/x.git", False),
        ("GIT://H.:9418/modules", "git://h/modules/x", True),
        ("git://h:9419/m", "git://h/m/x", False),
        ("git://h/m", "git://h:9419/m/x", False),
        ("file:///srv/git", "file:///srv/git/x.git", True),
        ("file:///srv/git", "file:///srv/gitx/x.git", False),
        ("git://h/srv/git", "file:///srv/git/x.git", False),
    ],
)
def test_whitelist_matches_scheme_host_port_and_path_segments(
    entry: str, text: str, allowed: bool
) -> None:
    """An entry allows exactly its own scheme, host and port, on path-segment boundaries."""
    assert Whitelist([entry]).allows(parse_repository(text)) is allowed


def test_file_scheme_is_allowed_only_with_a_file_entry() -> None:
    """allows_scheme reports whether any entry uses a scheme, such as file."""
    assert not WHITELIST.allows_scheme("file")
    assert WHITELIST.allows_scheme("git")
    assert Whitelist(["file:///srv/git"]).allows_scheme("FILE")


def test_empty_whitelist_allows_nothing() -> None:
    """With no entries no repository is allowed."""
    assert not Whitelist([]).allows(parse_repository("git://h/x.git"))


@pytest.mark.parametrize(
    "entries",
    [
        ["ssh://h/modules"],
        ["git://user@h/modules"],
        ["git://h/modules#main"],
        ["git://h/modules?"],
        ["git://h/../x"],
        ["not a url"],
        ["git://h/modules", ""],
    ],
)
def test_bad_whitelist_entries_raise_value_error(entries: list[str]) -> None:
    """An entry that is not an acceptable repository location raises ValueError naming it."""
    with pytest.raises(ValueError, match="whitelist entry"):
        Whitelist(entries)


def test_whitelist_given_a_single_string_raises_value_error() -> None:
    """A single string (a common config slip) is not taken as a list of characters."""
    with pytest.raises(ValueError, match="list"):
        Whitelist("git://h/modules")


def test_require_raises_forbidden_outside_the_whitelist() -> None:
    """require raises Forbidden naming the repository and the allowed prefixes."""
    WHITELIST.require(parse_repository("git://pkgs.example.org/modules/foo.git"))
    with pytest.raises(Forbidden) as caught:
        WHITELIST.require(parse_repository("git://evil.example/modules/foo.git"))
    assert "git://evil.example/modules/foo.git" in caught.value.message
    assert "git://pkgs.example.org/modules" in caught.value.message


# --- hypothesis --------------------------------------------------------------


@given(
    st.lists(st.sampled_from(["modules", "rpms", "modules-evil", "m"]), max_size=2),
    st.sampled_from(["git", "https", "file"]),
    st.sampled_from(["pkgs.example.org", "PKGS.example.org.", "evil.example"]),
    st.sampled_from(["", ":9418", ":443", ":9419"]),
    st.lists(
        st.sampled_from(
            ["modules", "rpms", "..", ".", "%2e%2e", "%2E.", "", "x.git", "modulesx"]
        ),
        max_size=6,
    ),
)
def test_whitelist_only_allows_locations_under_an_entry(
    entry_path: list[str], scheme: str, host: str, port: str, path: list[str]
) -> None:
    """Whatever the whitelist allows really lies under an entry once normalised."""
    entry = "git://pkgs.example.org/" + "/".join(entry_path)
    whitelist = Whitelist([entry])
    authority = "" if scheme == "file" else host + port
    try:
        location = parse_repository(f"{scheme}://{authority}/" + "/".join(path))
    except InvalidRequest:
        return
    if not whitelist.allows(location):
        return
    (allowed,) = whitelist.entries
    assert location.scheme == "git"
    assert location.host == "pkgs.example.org"
    assert location.port is None
    assert posixpath.normpath(location.path) == location.path
    assert ".." not in location.path.split("/")
    assert "%" not in location.render()
    prefix = allowed.path.rstrip("/") + "/"
    assert location.path == allowed.path or location.path.startswith(prefix)
