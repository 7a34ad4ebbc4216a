"""XML-RPC on the wire, exactly as the Koji hub marshals it.

Requests are parsed with koji's own parser (defusedxml-protected, ``<nil/>``
and ``<i8>`` aware); responses are written with koji's ``ExtendedMarshaller``
extended, as the hub does, to send ``datetime`` values as strings.
"""

from __future__ import annotations

import datetime
import sys
import traceback
from typing import Any
from xml.parsers.expat import ExpatError

import koji
from koji.xmlrpcplus import ExtendedMarshaller, Fault, dumps, getparser

__all__ = [
    "HUB_VERSION",
    "BadRequest",
    "HubMarshaller",
    "dump_fault",
    "dump_request",
    "dump_result",
    "fault_for",
    "koji_error",
    "multicall_fault",
    "parse_call",
    "parse_response",
]

#: The Koji hub version kojisim answers as (``getKojiVersion``, ``Koji-Version``).
HUB_VERSION = "1.35.3"


class BadRequest(Exception):
    """The HTTP body is not an XML-RPC document (answered with HTTP 400)."""


class HubMarshaller(ExtendedMarshaller):
    """The hub's marshaller: ``datetime`` values go out as ISO strings."""

    dispatch = ExtendedMarshaller.dispatch.copy()

    def dump_datetime(self, value: datetime.datetime, write: Any) -> None:
        """Write a datetime as ``isoformat(' ')``, like the hub does."""
        self.dump_unicode(value.isoformat(" "), write)

    dispatch[datetime.datetime] = dump_datetime


def parse_call(body: bytes) -> tuple[tuple[Any, ...], str | None]:
    """Parse an XML-RPC method call.

    :returns: the positional parameters and the method name.
    :raises BadRequest: the body is empty or not well-formed XML.
    """
    if not body:
        raise BadRequest("Invalid request: Empty request")
    parser, unmarshaller = getparser()
    try:
        parser.feed(body)
        parser.close()
    except ExpatError as e:
        raise BadRequest(f"Invalid request: {e}") from e
    return tuple(unmarshaller.close()), unmarshaller.getmethodname()


def dump_result(value: Any) -> str:
    """The ``<methodResponse>`` document carrying ``value``."""
    return str(dumps((value,), methodresponse=1, marshaller=HubMarshaller))


def dump_fault(code: int, message: str) -> str:
    """The ``<methodResponse>`` document carrying a fault."""
    return str(dumps(Fault(code, message), marshaller=HubMarshaller))


def dump_request(method: str, args: tuple[Any, ...]) -> str:
    """A ``<methodCall>`` document, as the hub stores task requests."""
    return str(dumps(tuple(args), methodname=method, marshaller=HubMarshaller))


def parse_response(document: str) -> Any:
    """Decode a stored ``<methodResponse>``; a stored fault is raised.

    :raises Fault: the document holds a fault.
    """
    parser, unmarshaller = getparser()
    parser.feed(document.encode("utf-8"))
    parser.close()
    return unmarshaller.close()[0]


def fault_for(error: BaseException) -> tuple[int, str]:
    """The fault code and string the hub sends for an exception."""
    if isinstance(error, Fault):
        return error.faultCode, error.faultString
    code = getattr(type(error), "faultCode", None)
    if isinstance(error, koji.GenericError) and isinstance(code, int):
        return code, str(error)
    return 1, f"{type(error)}: {error}"


def multicall_fault(error: BaseException) -> dict[str, Any]:
    """A multicall entry for a failed call, with the hub's traceback list."""
    if isinstance(error, Fault):
        return {"faultCode": error.faultCode, "faultString": error.faultString}
    code = getattr(type(error), "faultCode", 1)
    return {
        "faultCode": code if isinstance(code, int) else 1,
        "faultString": ", ".join(str(arg) for arg in error.args),
        "traceback": traceback.format_exception(*sys.exc_info()),
    }


def koji_error(code: int, message: str) -> Exception:
    """The koji exception class for ``code`` carrying ``message``.

    Codes without a koji class become a plain XML-RPC ``Fault``.
    """
    for cls in _koji_error_classes():
        if cls.faultCode == code:
            error: Exception = cls(message)
            return error
    return Fault(code, message)


def _koji_error_classes() -> list[type[koji.GenericError]]:
    """Every koji exception class, most specific first."""
    found: list[type[koji.GenericError]] = []
    pending: list[type[koji.GenericError]] = [koji.GenericError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda c: c is koji.GenericError)
