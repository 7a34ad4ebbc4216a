"""Tests for L{ridad.scm.url}: parsing and normalising SCM URLs and repository
locations, and joining a component name to a location; with Hypothesis, that
any text parses or raises InvalidRequest and that URLs survive rendering and
non-canonical spellings.

Refused URLs are in test_url_refusals.py, the whitelist in test_whitelist.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ridad.errors import InvalidRequest
from ridad.scm.url import RepoLocation, ScmUrl, parse_repository, parse_scmurl

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
