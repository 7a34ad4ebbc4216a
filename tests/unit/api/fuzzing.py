"""What the request-layer fuzz tests send: hypothesis strategies of
requests whose paths, query strings, bodies and user names are full of
NULs, lone surrogates, bytes that are not UTF-8, Unicode digits, huge
numbers and deep nesting; the site around both apps; and the check every
answer must pass."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_from_bytes, unquote_to_bytes

from hypothesis import strategies as st
from treq.testing import StubTreq
from twisted.web.iweb import IRequest

from ridad.api.app import LIST_PARAMETERS
from ridad.api.auth import Identity
from ridad.api.mbs_params import (
    COMPONENT_COLUMN_FILTERS,
    MODULE_COLUMN_FILTERS,
    PAGING,
    TIME_FILTERS,
)
from ridad.api.site import make_site
from ridad.config.model import LiveConfig
from tests.unit.api.support import CONFIG, GIT, Apps

USER_HEADER = b"X-Test-User"
KNOWN_KEYS = sorted(
    {
        *LIST_PARAMETERS,
        *PAGING,
        *MODULE_COLUMN_FILTERS,
        *TIME_FILTERS,
        *COMPONENT_COLUMN_FILTERS,
        "state",
        "nsvc",
    }
)
PATHS = (
    "/rida/module-builds/",
    "/rida/module-builds/{}",
    "/module-build-service/{}/about",
    "/module-build-service/{}/module-builds/",
    "/module-build-service/1/module-builds/{}",
    "/module-build-service/2/component-builds/",
    "/module-build-service/2/component-builds/{}/",
    "/health",
)


class HeaderUser:
    """The user named (percent-encoded, surrogates allowed) in X-Test-User."""

    method = "oidc"

    async def authenticate(self, request: IRequest) -> Identity | None:
        """The header's user, or None without the header."""
        raw = request.getHeader(USER_HEADER)
        if raw is None:
            return None
        return Identity(user=unquote_to_bytes(raw).decode("utf-8", "surrogatepass"))

    def challenge(self) -> Mapping[bytes, bytes]:
        """A Bearer challenge."""
        return {b"WWW-Authenticate": b"Bearer"}


def encoded(text: str) -> str:
    """``text`` percent-encoded, lone surrogates as their (invalid) UTF-8."""
    return quote_from_bytes(text.encode("utf-8", "surrogatepass"), safe="")


#: Text with NULs, surrogates and controls mixed into any characters.
texts = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from(["\x00", "\ud800", "\udfff", "\udc80", "\x1b", ":", "9"]),
    ),
    max_size=12,
)
numbers = st.one_of(
    st.integers(0, 2**70).map(str),
    st.integers(1, 6000).map(lambda n: "9" * n),
    st.integers(1, 6000).map(lambda n: "0" * n + "1"),
    st.text(st.characters(categories=["Nd"]), min_size=1, max_size=4),
    st.sampled_from(["0", "-1", "+1", "1e3", "0x1", "1_0", " 1", "", "0" * 30 + "1"]),
)
values = st.one_of(texts, numbers)
#: Percent-encoded segments, plus raw bytes that are not UTF-8.
segments = st.one_of(
    values.map(encoded), st.binary(max_size=6).map(lambda b: quote_from_bytes(b))
)
pairs = st.tuples(st.one_of(st.sampled_from(KNOWN_KEYS), texts).map(encoded), segments)


@st.composite
def urls(draw: st.DrawFn) -> str:
    """A path of the APIs with a drawn id or version and a drawn query."""
    path = draw(st.sampled_from(PATHS)).format(draw(segments))
    query = "&".join(f"{k}={v}" for k, v in draw(st.lists(pairs, max_size=4)))
    return f"http://ridad{path}?{query}" if query else f"http://ridad{path}"


def nested(depth: int, kind: str) -> str:
    """Arrays or objects nested ``depth`` deep, closed or not."""
    if kind == "objects":
        return '{"a":' * depth + "1" + "}" * depth
    return "[" * depth + ("]" * depth if kind == "arrays" else "")


def _member(value: Any) -> str:
    if isinstance(value, int):
        return "9" * value
    return json.dumps(value)


fields = st.dictionaries(
    st.one_of(st.sampled_from(["scmurl", "branch", "state", "scratch"]), texts),
    st.one_of(
        texts,
        st.sampled_from([f"{GIT}/modules/demo.git?#main", "failed", "main"]),
        st.booleans(),
        st.integers(1, 6000),
    ),
    max_size=3,
)
bodies = st.one_of(
    st.builds(
        nested, st.integers(0, 60_000), st.sampled_from(["arrays", "objects", "open"])
    ),
    fields.map(
        lambda d: (
            "{"
            + ", ".join(f"{json.dumps(k)}: {_member(v)}" for k, v in d.items())
            + "}"
        )
    ),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
)


def check_answer(response: Any, content: bytes) -> None:
    """Not a 500, always JSON, and a 4xx is an error body naming its status
    (``/health``'s 503 is its own document)."""
    assert response.code != 500, content
    assert response.headers.getRawHeaders(b"content-type") == [b"application/json"]
    body = json.loads(content)
    if not 400 <= response.code < 500:
        return
    assert body["status"] == response.code
    assert isinstance(body["message"], str) and body["message"]


def site_client(apps: Apps) -> StubTreq:
    """A client of the whole site (guard, dispatch, both apps) over ``apps``."""
    site = make_site(
        api_resource=apps.rida_api.app.resource(),
        config=LiveConfig(CONFIG),
        by_prefix={b"/module-build-service": apps.mbs_api.app.resource()},
    )
    return StubTreq(site.resource)


@st.composite
def requests(
    draw: st.DrawFn,
) -> tuple[str, str, dict[bytes, list[bytes]], bytes | None]:
    """Method, URL, headers (maybe a user for ``HeaderUser``) and body."""
    method = draw(st.sampled_from(["GET", "POST", "PATCH", "PUT", "DELETE"]))
    headers = {b"Content-Type": [b"application/json"]}
    user = draw(st.one_of(st.none(), st.just("alice"), texts))
    if user is not None:
        headers[USER_HEADER] = [encoded(user).encode("ascii")]
    body = None
    if method in ("POST", "PATCH"):
        body = draw(bodies).encode("utf-8", "surrogatepass")
    return method, draw(urls()), headers, body
