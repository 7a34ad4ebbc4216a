"""Tests for L{ridad.scm.url} and L{ridad.scm.whitelist}: SCM URL parsing,
normalisation and the whitelist."""

from __future__ import annotations

import posixpath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ridad.errors import Forbidden, InvalidRequest
from ridad.scm.url import (
    MAX_URL_LENGTH,
    RepoLocation,
    ScmUrl,
    check_ref,
    parse_repository,
    parse_scmurl,
)
from ridad.scm.whitelist import Whitelist

WHITELIST = Whitelist(
    [
        "git://pkgs.example.org/modules/",
        "https://pkgs.example.org/rpms",
    ]
)


# --- parsing and normalising -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "git://pkgs.example.org/modules/foo.git?#main",
            ScmUrl("git", "pkgs.example.org", None, "/modules/foo.git", None, "main"),
        ),
        (
            "git://pkgs.example.org/modules/foo.git#main",
            ScmUrl("git", "pkgs.example.org", None, "/modules/foo.git", None, "main"),
        ),
        (
            "git://pkgs.example.org/modules/foo.git/sub/foo.yaml?#v1",
            ScmUrl(
                "git",
                "pkgs.example.org",
                None,
                "/modules/foo.git",
                "sub/foo.yaml",
                "v1",
            ),
        ),
        (
            "https://h.example.org/modules/foo?#" + "a" * 40,
            ScmUrl("https", "h.example.org", None, "/modules/foo", None, "a" * 40),
        ),
        (
            "GIT://PKGS.Example.ORG.:9418/modules//./foo.git?#main",
            ScmUrl("git", "pkgs.example.org", None, "/modules/foo.git", None, "main"),
        ),
        (
            "git://pkgs.example.org/rpms/../modules/%66oo.git?#main",
            ScmUrl("git", "pkgs.example.org", None, "/modules/foo.git", None, "main"),
        ),
        (
            "https://h:443/r.git?#m",
            ScmUrl("https", "h", None, "/r.git", None, "m"),
        ),
        (
            "http://h:80/r.git?#m",
            ScmUrl("http", "h", None, "/r.git", None, "m"),
        ),
        (
            "git+https://h:443/r.git?#m",
            ScmUrl("git+https", "h", None, "/r.git", None, "m"),
        ),
        (
            "git://h:9419/r.git?#m",
            ScmUrl("git", "h", 9419, "/r.git", None, "m"),
        ),
        (
            "git://h:00443/r.git?#m",
            ScmUrl("git", "h", 443, "/r.git", None, "m"),
        ),
        (
            "file:///srv/git/foo.git?#refs/heads/main",
            ScmUrl("file", "", None, "/srv/git/foo.git", None, "refs/heads/main"),
        ),
        (
            "file://localhost/srv/git/foo.git?#main",
            ScmUrl("file", "", None, "/srv/git/foo.git", None, "main"),
        ),
        (
            "git://[::FFFF:7F00:1]:9419/r.git?#m",
            ScmUrl("git", "::ffff:7f00:1", 9419, "/r.git", None, "m"),
        ),
        (
            "git://10.0.0.1/r.git?#m",
            ScmUrl("git", "10.0.0.1", None, "/r.git", None, "m"),
        ),
        (
            "git://xn--bcher-kva.example/r.git?#m",
            ScmUrl("git", "xn--bcher-kva.example", None, "/r.git", None, "m"),
        ),
    ],
)
def test_valid_scmurls_parse_to_normalised_parts(text: str, expected: ScmUrl) -> None:
    """Scheme and host are lower-cased, default ports dropped and paths normalised."""
    assert parse_scmurl(text) == expected


def test_original_text_is_kept_but_not_compared() -> None:
    """The submitted text is kept for display and ignored by equality."""
    text = "GIT://Pkgs.Example.Org/modules/foo.git#main"
    url = parse_scmurl(text)
    assert url.original == text
    assert str(url) == text
    assert url == parse_scmurl("git://pkgs.example.org/modules/foo.git?#main")
    assert url.render() == "git://pkgs.example.org/modules/foo.git?#main"


@pytest.mark.parametrize(
    ("text", "name", "modulemd_path"),
    [
        ("git://h/modules/foo.git?#m", "foo", "foo.yaml"),
        ("git://h/modules/foo?#m", "foo", "foo.yaml"),
        ("git://h/modules/foo.git/dir/bar.yaml?#m", "foo", "dir/bar.yaml"),
        ("git://h/a.git/b.git/c.yaml?#m", "a", "b.git/c.yaml"),
    ],
)
def test_name_and_modulemd_path_come_from_the_repository(
    text: str, name: str, modulemd_path: str
) -> None:
    """The repository ends at the first '.git' segment; without a file the modulemd is <name>.yaml."""
    url = parse_scmurl(text)
    assert url.name == name
    assert url.modulemd_path == modulemd_path


def test_repository_property_gives_the_git_url() -> None:
    """git+https keeps its scheme for display and allow-listing but hands https to git."""
    location = parse_scmurl("git+https://h/modules/foo.git/foo.yaml?#m").repository
    assert location == RepoLocation("git+https", "h", None, "/modules/foo.git")
    assert location.url == "https://h/modules/foo.git"
    assert location.git_protocol == "https"
    assert location.render() == "git+https://h/modules/foo.git"


@pytest.mark.parametrize(
    ("text", "protocol"),
    [("git://h/r", "git"), ("http://h/r", "http"), ("file:///r", "file")],
)
def test_git_protocol_follows_the_scheme(text: str, protocol: str) -> None:
    """Each accepted scheme maps to the protocol name git's allow-list uses."""
    assert parse_repository(text).git_protocol == protocol


def test_ipv6_hosts_are_bracketed_when_rendered() -> None:
    """An IPv6 host is stored without brackets and rendered with them."""
    location = parse_repository("git://[2001:DB8::0001]/r.git")
    assert location.host == "2001:db8::1"
    assert location.url == "git://[2001:db8::1]/r.git"


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("git://h", "/"),
        ("git://h/", "/"),
        ("git://h/rpms/", "/rpms"),
        ("git://h//rpms//", "/rpms"),
    ],
)
def test_repository_paths_drop_trailing_slashes(text: str, path: str) -> None:
    """A repository location's path has no trailing slash except the root."""
    assert parse_repository(text).path == path


# --- refusals ----------------------------------------------------------------

REFUSED = [
    # no ref, empty ref, bad fragment
    "git://h/modules/foo.git",
    "git://h/modules/foo.git?",
    "git://h/modules/foo.git?#",
    "git://h/modules/foo.git#main#x",
    # unparseable
    "",
    "foo",
    "/modules/foo.git#main",
    "h/modules/foo.git#main",
    "git:/h/modules/foo.git#main",
    "git://#main",
    "git://h#main",
    "git://h/#main",
    "git://h/.git#main",
    "git://h:/r.git:x#main",
    # other schemes and transports
    "ssh://h/modules/foo.git#main",
    "git+ssh://h/modules/foo.git#main",
    "ftp://h/modules/foo.git#main",
    "rsync://h/modules/foo.git#main",
    "git+http://h/modules/foo.git#main",
    "ext::sh -c touch% /tmp/pwned#main",
    "ext::sh#main",
    "fd::17#main",
    "fd::17/foo.git#main",
    "h:modules/foo.git#main",
    "git::git://h/x.git#main",
    # credentials
    "git://user@h/modules/foo.git#main",
    "https://u:p@h/modules/foo.git#main",
    "https://:p@h/modules/foo.git#main",
    "https://@h/modules/foo.git#main",
    "git://h@evil.example/modules/foo.git#main",
    # query strings
    "git://h/modules/foo.git?a=b#main",
    "git://h/modules/foo.git??#main",
    "git://h/modules/foo.git?#main?",
    # control characters and whitespace
    "git://h/modules/foo.git#ma\nin",
    "git://h/modules/foo.git\n#main",
    "git://h/modules/foo.git#main\n",
    "git://h/modules/foo.git#main\x00",
    "git://h/mod\x00ules/foo.git#main",
    "git://h/modules/foo.git#ma in",
    "git://h/modules/foo.git#main\t",
    " git://h/modules/foo.git#main",
    "git://h/modules/foo.git#\x7f",
    "git://h/modules/foo.git#ma\u00a0in",
    "git://h/modules/foo.git#ma\u200bin",
    "git://h/modules/foo\u202e.git#main",
    "git://h/modules/%0afoo.git#main",
    "git://h/modules/%0Afoo.git#main",
    "git://h/modules/%00foo.git#main",
    "git://h/modules/foo%20bar.git#main",
    "git://h/modules/%7f.git#main",
    "git://h/modules/%c3%a9.git#main",
    # non-ASCII (IDN must use the xn-- form)
    "git://bücher.example/r.git#main",
    "git://pkgs.ex\u0430mple.org/modules/foo.git#main",
    "git://h/modules/f\u00f6\u00f6.git#main",
    # option injection in ref and path
    "git://h/modules/foo.git#-upload-pack=evil",
    "git://h/modules/foo.git?#--foo",
    "git://h/modules/foo.git?#-",
    "git://h/modules/-foo.git#main",
    "git://h/--upload-pack=touch/foo.git#main",
    "git://h/modules/%2dfoo.git#main",
    "git://h/modules/foo.git/-x.yaml#main",
    # transport strings in ref and path
    "git://h/modules/foo.git#ext::sh",
    "git://h/modules/ext::sh/foo.git#main",
    "git://h/modules/fd::17.git#main",
    "git://h/modules/a%3a%3ab.git#main",
    # invalid refs (check-ref-format)
    "git://h/modules/foo.git#a..b",
    "git://h/modules/foo.git#a~1",
    "git://h/modules/foo.git#a^",
    "git://h/modules/foo.git#a:b",
    "git://h/modules/foo.git#a*",
    "git://h/modules/foo.git#a[b",
    "git://h/modules/foo.git#a\\b",
    "git://h/modules/foo.git#a@{1}",
    "git://h/modules/foo.git#@",
    "git://h/modules/foo.git#main.lock",
    "git://h/modules/foo.git#refs/heads/x.lock/y",
    "git://h/modules/foo.git#main/",
    "git://h/modules/foo.git#/main",
    "git://h/modules/foo.git#a//b",
    "git://h/modules/foo.git#main.",
    "git://h/modules/foo.git#.hidden",
    "git://h/modules/foo.git#a/.b",
    # paths
    "git://h/../modules/foo.git#main",
    "git://h/modules/../../foo.git#main",
    "git://h/%2e%2e/modules/foo.git#main",
    "git://h/modules/%2E%2e/%2e%2E/foo.git#main",
    "git://h/modules%2ffoo.git#main",
    "git://h/modules%2Ffoo.git#main",
    "git://h/modules%5cfoo.git#main",
    "git://h\\@evil/modules/foo.git#main",
    "git://h/modules\\foo.git#main",
    "git://h/modules/%zzfoo.git#main",
    "git://h/modules/%2foo.git#main",
    "git://h/modules/%.git#main",
    "git://h/modules/foo%25.git#main",
    "git://h/modules/foo;x.git#main",
    "git://h/modules/'foo.git#main",
    "git://h/modules/$(id).git#main",
    # hosts and ports
    "git://h:0/r.git#main",
    "git://h:65536/r.git#main",
    "git://h:99999999/r.git#main",
    "git://h:-1/r.git#main",
    "git://h:+80/r.git#main",
    "git://h:x/r.git#main",
    "git://h:1:2/r.git#main",
    "git://-h/r.git#main",
    "git://h-/r.git#main",
    "git://h..example/r.git#main",
    "git://.h/r.git#main",
    "git://h%2eexample/r.git#main",
    "git://0x7f.0.0.1/r.git#main",
    "git://127.1/r.git#main",
    "git://2130706433/r.git#main",
    "git://127.000.000.001/r.git#main",
    "git://256.0.0.1/r.git#main",
    "git://[::1/r.git#main",
    "git://[::1]x/r.git#main",
    "git://[fe80::1%25eth0]/r.git#main",
    "git://[not-an-ip]/r.git#main",
    "git://[127.0.0.1]/r.git#main",
    "file://h/srv/r.git#main",
    "file://:1/srv/r.git#main",
    "file://[::1]/srv/r.git#main",
    # too long
    "git://h/" + "a" * MAX_URL_LENGTH + ".git#main",
]


@pytest.mark.parametrize("text", REFUSED)
def test_refused_scmurls_raise_invalid_request(text: str) -> None:
    """Unsafe or malformed SCM URLs are refused with InvalidRequest and a message."""
    with pytest.raises(InvalidRequest) as caught:
        parse_scmurl(text)
    assert caught.value.message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("git://h/modules/foo.git", "no ref"),
        ("git://h/modules/foo.git?#", "empty ref"),
        ("ssh://h/foo.git#m", "git://"),
        ("https://u:p@h/foo.git#m", "credentials"),
        ("git://h/foo.git#-x", "'-'"),
        ("git://h/foo.git?a=b#m", "query string"),
        ("git://h/../foo.git#m", "'..'"),
        ("git://h/a%2fb.git#m", "%2F"),
        ("ext::sh#m", "'::'"),
        ("git://h/foo.git#m\n", "U+000A"),
    ],
)
def test_refusal_messages_say_what_to_fix(text: str, fragment: str) -> None:
    """The message names the problem so the submitter can fix it."""
    with pytest.raises(InvalidRequest) as caught:
        parse_scmurl(text)
    assert fragment in caught.value.message


def test_refusal_messages_escape_control_characters() -> None:
    """Submitted text is shown escaped, so a message never carries raw control bytes."""
    with pytest.raises(InvalidRequest) as caught:
        parse_scmurl("ssh://h/foo\x1b[31m.git#m")
    assert "\x1b" not in caught.value.message


def test_longest_allowed_url_is_accepted() -> None:
    """A URL of exactly the maximum length parses."""
    text = "git://h/" + "a" * (MAX_URL_LENGTH - len("git://h/.git#m")) + ".git#m"
    assert len(text) == MAX_URL_LENGTH
    assert parse_scmurl(text).name.startswith("a")


@pytest.mark.parametrize(
    "text",
    [
        "git://h/modules/foo.git#main",
        "git://h/modules/foo.git?#main",
        "git://h/modules?x",
        "git://h/modules?",
    ],
)
def test_repository_locations_refuse_refs_and_queries(text: str) -> None:
    """parse_repository refuses anything with a ref or a query, even an empty one."""
    with pytest.raises(InvalidRequest):
        parse_repository(text)


@pytest.mark.parametrize(
    "ref",
    ["main", "f39", "v1.0", "refs/heads/main", "a/b-c_d", "a" * 40, "HEAD", "1.2.3+x"],
)
def test_valid_refs_pass_check_ref(ref: str) -> None:
    """Ordinary branch, tag, full-ref and hash names are accepted."""
    check_ref(ref)


# --- join --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "name", "expected"),
    [
        ("git://pkgs.example.org/rpms/", "bash", "git://pkgs.example.org/rpms/bash"),
        ("git://pkgs.example.org/rpms", "bash", "git://pkgs.example.org/rpms/bash"),
        ("git://pkgs.example.org", "bash", "git://pkgs.example.org/bash"),
        ("git://h/rpms", "python3.11", "git://h/rpms/python3.11"),
        ("git://h/rpms", "gcc-c++", "git://h/rpms/gcc-c++"),
    ],
)
def test_join_appends_a_component_name(base: str, name: str, expected: str) -> None:
    """join adds the component name as one path segment."""
    assert parse_repository(base).join(name).render() == expected


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a/b",
        "-x",
        "--upload-pack=x",
        ".x",
        "..",
        ".",
        "a::b",
        "a b",
        "a\n",
        "a%2fb",
    ],
)
def test_join_refuses_unsafe_component_names(name: str) -> None:
    """Names that would change the path or look like options are refused."""
    with pytest.raises(InvalidRequest):
        parse_repository("git://h/rpms/").join(name)


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

_SCHEMES = ["git", "https", "http", "git+https", "file"]
_DEFAULT_PORTS = {"git": 9418, "https": 443, "http": 80, "git+https": 443}

_labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
_names = st.lists(_labels, min_size=1, max_size=3).map(".".join)
_hosts = st.one_of(
    _names.filter(lambda h: not h.rsplit(".", 1)[-1].isdigit()),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda a: a.compressed),
)
_segments = st.from_regex(r"[A-Za-z0-9_~+@=,][A-Za-z0-9._~+@=,-]{0,8}", fullmatch=True)
_plain_segments = _segments.filter(lambda s: not s.endswith(".git"))
_refs = st.from_regex(
    r"[A-Za-z0-9_][A-Za-z0-9._+-]{0,12}(/[A-Za-z0-9_][A-Za-z0-9_-]{0,6}){0,2}",
    fullmatch=True,
).filter(lambda r: ".." not in r and not r.endswith((".", ".lock")))


@st.composite
def _scm_urls(draw: st.DrawFn) -> ScmUrl:
    """Generate normalised ScmUrl values."""
    scheme = draw(st.sampled_from(_SCHEMES))
    host, port = "", None
    if scheme != "file":
        host = draw(_hosts)
        port = draw(
            st.none()
            | st.integers(1, 65535).filter(lambda p: p != _DEFAULT_PORTS[scheme])
        )
    repo = draw(st.lists(_plain_segments, max_size=3))
    file_path = None
    if draw(st.booleans()):
        repo.append(draw(_plain_segments) + ".git")
        inside = draw(st.lists(_segments, max_size=3))
        file_path = "/".join(inside) or None
    else:
        repo.append(draw(_plain_segments))
    return ScmUrl(scheme, host, port, "/" + "/".join(repo), file_path, draw(_refs))


def _percent_encode(text: str, which: list[bool]) -> str:
    """Percent-encode the characters of text selected by which."""
    return "".join(
        f"%{ord(c):02x}" if encode else c
        for c, encode in zip(text, which, strict=False)
    )


@st.composite
def _noisy_renderings(draw: st.DrawFn) -> tuple[ScmUrl, str]:
    """Generate a ScmUrl and a non-canonical spelling of it."""
    url = draw(_scm_urls())
    scheme = url.scheme.upper() if draw(st.booleans()) else url.scheme
    host = url.host
    if ":" in host:
        host = f"[{host.upper()}]"
    elif host and not host.replace(".", "").isdigit():
        host = host.upper() + ("." if draw(st.booleans()) else "")
    port = url.port
    if port is None and url.scheme != "file" and draw(st.booleans()):
        port = _DEFAULT_PORTS[url.scheme]
    authority = host if port is None else f"{host}:{port}"
    segments = url.repo_path.strip("/").split("/")
    if url.file_path is not None:
        segments += url.file_path.split("/")
    noisy: list[str] = []
    for segment in segments:
        noise = draw(st.sampled_from(["", "dot", "dotdot", "slash"]))
        if noise == "dot":
            noisy.append(".")
        elif noise == "dotdot":
            noisy += ["xx", ".."]
        elif noise == "slash":
            noisy.append("")
        which = draw(
            st.lists(st.booleans(), min_size=len(segment), max_size=len(segment))
        )
        noisy.append(_percent_encode(segment, which))
    question = "?" if draw(st.booleans()) else ""
    text = f"{scheme}://{authority}/" + "/".join(noisy) + f"{question}#{url.ref}"
    return url, text


@given(st.text(max_size=300))
def test_arbitrary_text_parses_or_raises_invalid_request(text: str) -> None:
    """parse_scmurl on any text returns a ScmUrl or raises InvalidRequest, nothing else."""
    try:
        result = parse_scmurl(text)
    except InvalidRequest:
        return
    assert isinstance(result, ScmUrl)


_url_alphabet = st.sampled_from(
    list("gitfhps+:/.@#?%-_~[]\\ ab0129eE2fF") + ["::", "..", "%2e", "%2f", "\n"]
)


@given(
    st.sampled_from(["git://", "https://", "file://", "GIT://", "ext::", ""]),
    st.lists(_url_alphabet, max_size=40).map("".join),
)
def test_url_like_text_parses_or_raises_invalid_request(prefix: str, rest: str) -> None:
    """URL-shaped garbage also only ever parses or raises InvalidRequest."""
    try:
        parse_scmurl(prefix + rest)
        parse_repository(prefix + rest)
    except InvalidRequest:
        pass


@given(_scm_urls())
def test_render_then_parse_gives_the_same_url(url: ScmUrl) -> None:
    """parse_scmurl(render(x)) == x for normalised URLs."""
    assert parse_scmurl(url.render()) == url
    assert parse_repository(url.repository.render()) == url.repository


@given(_noisy_renderings())
def test_non_canonical_spellings_normalise_to_the_same_url(
    case: tuple[ScmUrl, str],
) -> None:
    """Case, default ports, dot segments, extra slashes and percent-encoding normalise away."""
    url, text = case
    assert parse_scmurl(text) == url


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
