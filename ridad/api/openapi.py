"""The OpenAPI 3.1 description of both APIs, read once from
``openapi.yaml`` beside this module and served as JSON."""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any

import yaml
from twisted.web.iweb import IRequest

from ridad import __version__
from ridad.api.responses import write_json

DOCUMENT_FILE = "openapi.yaml"
RIDA_PATH = "/rida/openapi.json"
MBS_PATH = "/module-build-service/openapi.json"


def read_document() -> dict[str, Any]:
    """The description as a JSON value, ``info.version`` set to ridad's.

    :return: a fresh dict on every call.
    """
    text = resources.files("ridad.api").joinpath(DOCUMENT_FILE).read_text("utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    document["info"]["version"] = __version__
    return document


#: Read at import, before the reactor runs: serving it never touches a file.
_DOCUMENT = read_document()


def openapi_document() -> dict[str, Any]:
    """A copy of the description that ridad serves."""
    return copy.deepcopy(_DOCUMENT)


def write_openapi(request: IRequest) -> bytes:
    """Answer ``request`` with the description (200, JSON)."""
    return write_json(request, _DOCUMENT)
