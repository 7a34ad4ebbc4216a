"""Tests for L{ridad.scm.url}: the SCM URLs it refuses (no or bad refs,
other schemes and transports, credentials, queries, control characters,
option and transport injection, unsafe paths, hosts and ports), what the
refusal messages say, and the refs check_ref accepts.

Parsing and normalising are in test_url_parsing.py.
"""

from __future__ import annotations

import pytest

from ridad.errors import InvalidRequest
from ridad.scm.url import MAX_URL_LENGTH, check_ref, parse_repository, parse_scmurl

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
