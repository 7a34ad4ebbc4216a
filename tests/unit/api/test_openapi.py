"""The OpenAPI description (ridad/api/openapi.yaml) is a valid OpenAPI 3.1
document, describes exactly the routes both Klein apps serve, and is what
both description URLs answer."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from klein import Klein
from openapi_spec_validator import OpenAPIV31SpecValidator
from twisted.internet.task import Clock

from ridad import __version__
from ridad.api.app import RidadApi
from ridad.api.mbs import MbsApi
from ridad.api.openapi import MBS_PATH, RIDA_PATH, openapi_document
from ridad.api.responses import error_document
from ridad.db.pool import Pool
from tests.helpers import result_of
from tests.unit.api.support import Apps, make_apps

#: Methods werkzeug adds by itself to a GET rule; not described.
IMPLICIT_METHODS = {"HEAD", "OPTIONS"}
OPERATION_METHODS = {
    "get",
    "put",
    "post",
    "delete",
    "options",
    "head",
    "patch",
    "trace",
}
#: werkzeug converter -> the JSON Schema type of its path parameter.
CONVERTER_TYPES = {"int": "integer", "number": "integer", "default": "string"}
PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


def served_rules(app: Klein) -> Iterator[tuple[str, str, dict[str, str]]]:
    """``(path template, method, {parameter: converter})`` of every rule of
    ``app``, the template written as OpenAPI writes it."""
    for rule in app.url_map.iter_rules():
        template = PARAMETER.sub(r"{\2}", rule.rule)
        converters = {
            name: converter or "default"
            for converter, name in PARAMETER.findall(rule.rule)
        }
        for method in sorted(set(rule.methods or ()) - IMPLICIT_METHODS):
            yield template, method, converters


def all_served() -> list[tuple[str, str, dict[str, str]]]:
    """The rules of both apps."""
    return [*served_rules(RidadApi.app), *served_rules(MbsApi.app)]


def described() -> set[tuple[str, str]]:
    """``(path, METHOD)`` of every operation of the description."""
    return {
        (path, method.upper())
        for path, item in openapi_document()["paths"].items()
        for method in item
        if method in OPERATION_METHODS
    }


def same_path(path: str) -> str:
    """A path without its trailing slash: both forms are served."""
    return path.rstrip("/") or "/"


def test_description_is_a_valid_openapi_3_1_document() -> None:
    """openapi-spec-validator finds nothing wrong in the served description."""
    document = openapi_document()
    assert document["openapi"].startswith("3.1.")
    errors = [str(e) for e in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []


def test_description_carries_ridads_version() -> None:
    """``info.version`` is the running ridad's version."""
    assert openapi_document()["info"]["version"] == __version__


def test_every_served_route_is_described() -> None:
    """Each rule of both Klein apps (HEAD aside) is an operation of the
    description, in one of its slash forms."""
    operations = {(same_path(p), m) for p, m in described()}
    missing = sorted(
        (path, method)
        for path, method, _ in all_served()
        if (same_path(path), method) not in operations
    )
    assert missing == []


def test_every_described_operation_is_served_as_written() -> None:
    """Each operation of the description is a rule of one of the apps, with
    the path exactly as the description writes it."""
    served = {(path, method) for path, method, _ in all_served()}
    assert sorted(described() - served) == []


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """``node`` itself, or what its local ``$ref`` points at."""
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _path_parameters(document: dict[str, Any], path: str, method: str) -> dict:
    item = document["paths"][path]
    listed = [*item.get("parameters", []), *item[method.lower()].get("parameters", [])]
    resolved = [_resolve(document, p) for p in listed]
    return {p["name"]: p for p in resolved if p["in"] == "path"}


def test_path_parameters_are_the_route_arguments_with_their_types() -> None:
    """Every described operation names exactly its rule's path arguments,
    required, with the type of the rule's converter."""
    document = openapi_document()
    operations = described()
    checked = 0
    for path, method, converters in all_served():
        if (path, method) not in operations:
            continue
        parameters = _path_parameters(document, path, method)
        assert set(parameters) == set(converters), (path, method)
        for name, converter in converters.items():
            schema = _resolve(document, parameters[name]["schema"])
            assert parameters[name]["required"] is True
            assert schema["type"] == CONVERTER_TYPES[converter], (path, name)
        checked += 1
    assert checked == len(operations)


def _schema(name: str) -> dict[str, Any]:
    """A schema of the description that resolves its ``$ref`` in it."""
    return {
        "$ref": f"#/components/schemas/{name}",
        "components": openapi_document()["components"],
    }


@pytest.mark.parametrize(
    "body",
    [
        error_document(404, "Module build 7 does not exist"),
        error_document(400, "bad query", {"parameters": {"page": "too large"}}),
        error_document(500, "unexpected", {"error_id": "0" * 32}),
    ],
)
def test_error_documents_have_the_described_error_shape(body: dict) -> None:
    """What ``error_document`` builds is valid against the Error schema."""
    jsonschema.validate(body, _schema("Error"), cls=jsonschema.Draft202012Validator)


def test_error_schema_refuses_other_members() -> None:
    """The Error schema is strict: an unknown member is invalid."""
    body = {**error_document(404, "gone"), "trace": "..."}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, _schema("Error"), cls=jsonschema.Draft202012Validator)


@pytest.fixture
def apps() -> Apps:
    """Both apps on a pool that is never started (any query would fail)."""
    clock = Clock()
    return make_apps(Pool(dsn="host=/nonexistent", reactor=clock, size=1), clock=clock)


@pytest.mark.parametrize(
    "app, path", [("rida", RIDA_PATH), ("mbs", MBS_PATH)], ids=["rida", "mbs"]
)
def test_both_description_urls_answer_the_description(
    apps: Apps, app: str, path: str
) -> None:
    """``GET /rida/openapi.json`` and ``GET /module-build-service/openapi.json``
    answer 200 with the same JSON document, without touching the database."""
    response = result_of(getattr(apps, app).get(f"http://ridad{path}"))
    assert response.code == 200
    assert response.headers.getRawHeaders(b"content-type") == [b"application/json"]
    assert json.loads(result_of(response.content())) == openapi_document()


def test_description_url_is_get_only(apps: Apps) -> None:
    """A POST to the description is the API's 501 for an unimplemented method."""
    response = result_of(apps.rida.post(f"http://ridad{RIDA_PATH}", data=b"{}"))
    assert response.code == 501
    body = json.loads(result_of(response.content()))
    assert body["details"]["allowed_methods"] == ["GET", "HEAD"]
