"""Koji's wire format: request bodies, responses, faults and multicall entries."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

import koji
import pytest
from hypothesis import given
from hypothesis import strategies as st
from koji import xmlrpcplus

from ridad.errors import KojiError, KojiFault
from ridad.koji.wire import (
    KojiCall,
    decode_response,
    encode_call,
    encode_multicall,
    fault_from,
    multicall_results,
    session_from_login,
)

# Text XML 1.0 carries unchanged: no control characters (a carriage return
# would come back as a newline), no surrogates.
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
KEYS = TEXT.filter(lambda k: k != "__starstar")
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4)
    ),
    max_leaves=12,
)


def _response(value: Any) -> bytes:
    return xmlrpcplus.dumps((value,), methodresponse=1).encode()


def test_keyword_arguments_travel_as_a_trailing_starstar_struct() -> None:
    """getTag("x", strict=True) sends the params ["x", {strict, __starstar}]."""
    params, method = xmlrpc.client.loads(
        encode_call("getTag", ("x",), {"strict": True})
    )
    assert method == "getTag"
    assert params == ("x", {"strict": True, "__starstar": True})


def test_call_without_keywords_has_no_starstar_struct() -> None:
    """Positional-only calls send exactly their arguments."""
    params, _ = xmlrpc.client.loads(encode_call("getTaskInfo", (5,), {}))
    assert params == (5,)


def test_nil_and_i8_are_written_for_none_and_64_bit_ints() -> None:
    """None goes out as <nil/> and an int beyond 2**31 as <i8>, like koji's client."""
    body = encode_call("echo", (None, 2**40, -(2**33), 7), {})
    assert b"<value><nil/></value>" in body
    assert b"<value><i8>1099511627776</i8></value>" in body
    assert b"<value><i8>-8589934592</i8></value>" in body
    assert b"<value><int>7</int></value>" in body


def test_ints_beyond_64_bits_cannot_be_encoded() -> None:
    """An int XML-RPC cannot carry raises KojiError, not OverflowError."""
    with pytest.raises(KojiError):
        encode_call("echo", (2**64,), {})


def test_nil_and_i8_are_read_from_responses() -> None:
    """<nil/> reads as None and <i8> as int."""
    body = (
        b"<?xml version='1.0'?><methodResponse><params><param><value><array><data>"
        b"<value><nil/></value><value><i8>5000000000</i8></value>"
        b"</data></array></value></param></params></methodResponse>"
    )
    assert decode_response(body) == [None, 5000000000]


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (1000, "GenericError"),
        (1002, "AuthError"),
        (1004, "ActionNotAllowed"),
        (1005, "BuildError"),
        (1007, "AuthExpired"),
        (1008, "SequenceError"),
        (1009, "RetryError"),
        (1014, "ServerOffline"),
        (1019, "ParameterError"),
        (1, "Fault"),
    ],
)
def test_fault_becomes_koji_fault_named_after_koji_exception(
    code: int, name: str
) -> None:
    """A <fault> raises KojiFault with the code, the string and koji's class name."""
    body = xmlrpcplus.dumps(xmlrpcplus.Fault(code, "no way")).encode()
    with pytest.raises(KojiFault) as raised:
        decode_response(body)
    assert (raised.value.fault_code, raised.value.fault_name) == (code, name)
    assert raised.value.message == "no way"


def test_malformed_fault_is_a_koji_error() -> None:
    """A fault without an int code and a string is malformed."""
    with pytest.raises(KojiError) as raised:
        fault_from("1000", None)
    assert not isinstance(raised.value, KojiFault)


def test_multicall_body_holds_encoded_entries_in_order() -> None:
    """Each entry is {methodName, params} with params already __starstar-encoded."""
    body = encode_multicall(
        [KojiCall("getTaskInfo", (1,)), KojiCall("getTag", ("t",), {"strict": True})]
    )
    (entries,), method = xmlrpc.client.loads(body)
    assert method == "multiCall"
    assert entries == [
        {"methodName": "getTaskInfo", "params": [1]},
        {"methodName": "getTag", "params": ["t", {"strict": True, "__starstar": True}]},
    ]


def test_multicall_results_unwrap_values_and_keep_faults() -> None:
    """[value] entries give the value, fault structs a KojiFault instance."""
    results = multicall_results(
        [[None], {"faultCode": 1000, "faultString": "nope", "traceback": []}, [[1]]],
        3,
    )
    assert results[0] is None and results[2] == [1]
    assert isinstance(results[1], KojiFault)
    assert (results[1].fault_code, results[1].fault_name) == (1000, "GenericError")


@pytest.mark.parametrize("value", [None, [], [[1], [2]], [[1, 2]], ["x"], [{"x": 1}]])
def test_malformed_multicall_result_is_a_koji_error(value: Any) -> None:
    """A multicall answer of the wrong shape or length raises KojiError."""
    with pytest.raises(KojiError):
        multicall_results(value, 1)


@pytest.mark.parametrize(
    "value", [None, {}, {"session-id": "2", "session-key": "k"}, {"session-id": 2}]
)
def test_login_answer_without_a_session_is_a_koji_error(value: Any) -> None:
    """A login answer must carry an int session-id and a key."""
    with pytest.raises(KojiError):
        session_from_login(value)


@given(
    args=st.lists(VALUES, max_size=4), kwargs=st.dictionaries(KEYS, VALUES, max_size=3)
)
def test_hub_decodes_what_the_client_encodes(
    args: list[Any], kwargs: dict[str, Any]
) -> None:
    """The hub's decode_args gives back the args and kwargs encode_call sent."""
    params, method = xmlrpcplus.loads(encode_call("m", tuple(args), kwargs))
    assert method == "m"
    decoded_args, decoded_kwargs = koji.decode_args(*params)
    assert (list(decoded_args), decoded_kwargs) == (args, kwargs)


@given(value=VALUES)
def test_client_decodes_what_the_hub_encodes(value: Any) -> None:
    """decode_response reads back any value the hub's marshaller writes."""
    assert decode_response(_response(value)) == value


@given(body=st.binary(max_size=200) | TEXT.map(str.encode))
def test_garbage_response_raises_only_koji_error(body: bytes) -> None:
    """Bytes that are not a one-value response raise KojiError and nothing else."""
    try:
        decode_response(body)
    except KojiError:
        pass
