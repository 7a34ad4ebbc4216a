"""A submission sent as a ``multipart/form-data`` form (MBS's file upload:
the modulemd in a ``yaml`` file field, options as text fields), read into
the fields a JSON body would have.

The site's write guard lets such a body through only with an
``Authorization`` header (``ridad.api.writeguard``); the body's size is
bounded by ``api.max_body_bytes`` before it gets here.
"""

from __future__ import annotations

import email.parser
import email.policy
import posixpath
from typing import Any

from twisted.web.iweb import IRequest

from ridad.api.inputs import text_problem
from ridad.errors import InvalidRequest

__all__ = ["form_fields", "is_multipart"]

#: The form field that carries the modulemd file, as MBS names it.
YAML_FIELD = "yaml"
LIST_FIELDS = ("srpms",)


def is_multipart(request: IRequest) -> bool:
    """Whether the request's body is a ``multipart/form-data`` form."""
    value = request.getHeader(b"content-type") or b""
    return value.split(b";", 1)[0].strip().lower() == b"multipart/form-data"


def form_fields(request: IRequest, body: bytes) -> dict[str, Any]:
    """The fields of a multipart submission: each text field as a string
    (``srpms`` as a list, one per field), and the ``yaml`` file as
    ``modulemd`` with ``module_name`` from its file name when not given.

    :raises InvalidRequest: the form cannot be parsed, a field is given
        twice, or is not UTF-8 text; or no ``yaml`` file is in it.
    """
    content_type = (request.getHeader(b"content-type") or b"").decode("latin-1")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise InvalidRequest("the multipart/form-data body cannot be parsed")
    fields: dict[str, Any] = {}
    filename = None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or not name:
            raise InvalidRequest("a form field has no name")
        value = _text(name, part.get_payload(decode=True) or b"")
        if name == YAML_FIELD:
            name, filename = "modulemd", part.get_filename()
        if name in LIST_FIELDS:
            fields.setdefault(name, []).append(value)
        elif name in fields:
            raise InvalidRequest(f"form field {name!r} is given twice")
        else:
            fields[name] = value
    if "modulemd" not in fields:
        raise InvalidRequest(
            f"Invalid file submitted: the form has no {YAML_FIELD!r} file field"
        )
    if filename and "module_name" not in fields:
        fields["module_name"] = posixpath.splitext(posixpath.basename(filename))[0]
    return fields


def _text(name: str, payload: bytes) -> str:
    try:
        value = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest(f"form field {name!r} is not UTF-8 text") from None
    problem = text_problem(value)
    if problem:
        raise InvalidRequest(f"form field {name!r} {problem}")
    return value
