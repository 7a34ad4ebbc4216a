"""Koji's XML-RPC wire format: request bodies, responses, faults, multicalls.

Encoding uses koji's own marshalling (``koji.xmlrpcplus.dumps``: ``<nil/>``
and ``<i8>``) and keyword arguments travel the ``__starstar`` way of
``koji.encode_args``, so the bodies are byte for byte those of the koji
client. Responses are parsed by ``koji.xmlrpcplus.loads`` (the standard
parser behind defusedxml's guard), which reads ``<nil/>`` and ``<i8>``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import koji
from koji import xmlrpcplus

from ridad.errors import KojiError, KojiFault

#: Fault codes the client acts on (docs/koji.md, faults).
AUTH_ERROR = 1002
AUTH_EXPIRED = 1007
RETRY_ERROR = 1009
SERVER_OFFLINE = 1014


#: Hub methods ridad calls that change nothing: a request made only of these
#: may be sent again under a new call number when its answer was lost.
READ_METHODS = frozenset(
    {
        "checkUpload",
        "downloadTaskOutput",
        "getAPIVersion",
        "getBuild",
        "getBuildTarget",
        "getInheritanceData",
        "getKojiVersion",
        "getLastEvent",
        "getLoggedInUser",
        "getRPMHeaders",
        "getRepo",
        "getTag",
        "getTagGroups",
        "getTaskChildren",
        "getTaskInfo",
        "getTaskResult",
        "getUser",
        "listBuildRPMs",
        "listBuilds",
        "listPackages",
        "listTagged",
        "listTaskOutput",
        "listTasks",
    }
)


@dataclass(frozen=True)
class KojiCall:
    """One entry of a multicall: a hub method with its arguments."""

    method: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)


def encode_params(args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[Any, ...]:
    """The positional XML-RPC params of a call, keywords as a ``__starstar`` struct."""
    return tuple(koji.encode_args(*args, **kwargs))


def encode_call(method: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> bytes:
    """The UTF-8 ``<methodCall>`` body the koji client sends for this call.

    :raises KojiError: for a value XML-RPC cannot carry (an int beyond 64 bits,
        an object of an unknown type).
    """
    try:
        text = xmlrpcplus.dumps(encode_params(args, kwargs), method, allow_none=1)
    except (OverflowError, TypeError) as exc:
        raise KojiError(f"Cannot encode a call of {method}: {exc}") from exc
    return text.encode("utf-8")


def encode_multicall(calls: Sequence[KojiCall]) -> bytes:
    """The body of one ``multiCall`` request carrying ``calls`` in order.

    :raises KojiError: for a value XML-RPC cannot carry.
    """
    entries = [
        {"methodName": call.method, "params": encode_params(call.args, call.kwargs)}
        for call in calls
    ]
    return encode_call("multiCall", (entries,), {})


@functools.lru_cache(maxsize=64)
def fault_name(code: int) -> str:
    """Koji's exception class name for a fault code (``koji.convertFault``).

    :returns: e.g. ``GenericError`` for 1000; ``Fault`` for codes koji does not
        know (1 is any non-koji exception on the hub).
    """
    converted = koji.convertFault(xmlrpcplus.Fault(code, ""))
    if isinstance(converted, koji.GenericError):
        return type(converted).__name__
    return "Fault"


def fault_from(code: Any, message: Any) -> KojiFault:
    """The KojiFault for a ``faultCode``/``faultString`` pair from the hub.

    :raises KojiError: when the pair is not an int and a string.
    """
    if type(code) is not int or not isinstance(message, str):
        raise KojiError(f"Malformed fault from the Koji hub: {code!r}, {message!r}")
    return KojiFault(message, fault_code=code, fault_name=fault_name(code))


def decode_response(body: bytes) -> Any:
    """The value of a ``<methodResponse>``, ``<nil/>`` and ``<i8>`` included.

    :raises KojiFault: for a ``<fault>`` answer.
    :raises KojiError: for anything that is not a one-value XML-RPC response.
    """
    try:
        params, _ = xmlrpcplus.loads(body)
    except xmlrpcplus.Fault as fault:
        raise fault_from(fault.faultCode, fault.faultString) from None
    except Exception as exc:  # the parser raises many types; translate them all
        raise KojiError(f"Malformed response from the Koji hub: {exc!r}") from exc
    if len(params) != 1:
        raise KojiError(f"Koji hub response holds {len(params)} values, not 1")
    return params[0]


def multicall_results(value: Any, expected: int) -> list[Any]:
    """Unpack a ``multiCall`` result: each entry's value, or a KojiFault.

    :returns: a list in call order; a failed entry is a KojiFault instance
        (not raised), a successful one the value inside its one-element array.
    :raises KojiError: when the shape or the number of entries is wrong.
    """
    if not isinstance(value, list) or len(value) != expected:
        raise KojiError(f"Koji multiCall answered {value!r:.200} for {expected} calls")
    results: list[Any] = []
    for entry in value:
        if isinstance(entry, list) and len(entry) == 1:
            results.append(entry[0])
        elif isinstance(entry, dict) and "faultCode" in entry:
            results.append(fault_from(entry["faultCode"], entry.get("faultString")))
        else:
            raise KojiError(f"Malformed Koji multiCall entry: {entry!r:.200}")
    return results


def session_from_login(value: Any) -> tuple[int, str]:
    """The session id and key in a ``login``/``sslLogin`` answer.

    :raises KojiError: when the answer does not hold them.
    """
    if isinstance(value, dict):
        session_id = value.get("session-id")
        key = value.get("session-key")
        if type(session_id) is int and isinstance(key, str) and key:
            return session_id, key
    raise KojiError("Koji login did not return a session")
