"""Random XML-RPC calls: the hub answers each with a result or a fault,
always HTTP 200 and at once, never an HTTP error or silence."""

from __future__ import annotations

import xmlrpc.client
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ridad.kojisim.dispatch import all_exports
from tests.unit.kojisim.support import HubClient, make_hub, seed_module_tags

METHODS = sorted(all_exports()) + ["multiCall", "system.multicall", "noSuchMethod"]

#: Text XML can carry (the client cannot send control characters).
xml_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, blacklist_categories=("Cs",)),
    max_size=20,
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    xml_text,
    st.sampled_from(
        ["mod", "mod-build", "f40-build", "alpha", "admin", "alpha-1.0-1", 1, 2]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(xml_text, inner, max_size=4)
    ),
    max_leaves=12,
)
keywords = st.dictionaries(
    st.sampled_from(
        ["strict", "opts", "event", "tagID", "request", "owner", "queryOpts", "bogus"]
    ),
    values,
    max_size=3,
)


def _decoded(reply_body: bytes) -> Any:
    """The result, or the fault, of an XML-RPC response."""
    try:
        return xmlrpc.client.loads(reply_body.decode(), use_builtin_types=True)[0][0]
    except xmlrpc.client.Fault as fault:
        assert isinstance(fault.faultCode, int) and isinstance(fault.faultString, str)
        return fault


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    method=st.sampled_from(METHODS),
    args=st.lists(values, max_size=4),
    kwargs=keywords,
    logged_in=st.booleans(),
)
def test_random_calls_get_a_result_or_a_fault_never_an_http_error(
    tmp_path: Path,
    method: str,
    args: list[Any],
    kwargs: dict[str, Any],
    logged_in: bool,
) -> None:
    """Any parameters to any method give HTTP 200 with a result or a fault."""
    hub = make_hub(upload_dir=str(tmp_path))
    client = HubClient(hub)
    client.login()
    seed_module_tags(client)
    if not logged_in:
        client.session = None
    reply = client.raw_call(method, *args, **kwargs)
    assert reply.code == 200, reply
    assert reply.headers["content-type"] == ["text/xml"]
    _decoded(reply.body)
    hub.stop()
