"""``FakeMbs`` as a ridad: its OpenAPI description at ``/rida/openapi.json``
and dry runs of submissions; as a plain MBS (``description`` None) it
answers both as MBS does (404, and 400 for a body with ``dry_run``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ridad.api.openapi import openapi_document
from tests.unit.cli.fakembs import FakeMbs, Seen, _error, _MbsResource

#: A dry run's answer: two MSE siblings, one new and one kept.
PLANNED = {
    "dry_run": True,
    "module_builds": [
        {
            "action": "create",
            "id": None,
            "state": None,
            "nsvc": "demo:main:4020261127100000:6c81f848",
            "scratch": False,
            "buildrequires": {"platform": {"stream": "f40"}},
            "components": [
                {"name": "alpha", "ref": "main", "commit": "a" * 40, "batch": 2},
                {"name": "beta", "ref": "main", "commit": "b" * 40, "batch": 2},
                {"name": "gamma", "ref": "f40", "commit": "c" * 40, "batch": 3},
            ],
        },
        {
            "action": "keep",
            "id": 7,
            "state": "ready",
            "nsvc": "demo:main:3920261127100000:0badc0de",
            "scratch": False,
            "buildrequires": {"platform": {"stream": "f39"}},
            "components": [],
        },
    ],
}


@dataclass
class FakeRidad(FakeMbs):
    """A FakeMbs that is a ridad (or, with ``description`` None, an MBS)."""

    description: dict[str, Any] | None = field(default_factory=openapi_document)
    #: What a dry run answers: status and body.
    dry_run: tuple[int, Any] = (200, PLANNED)

    def resource(self) -> _RidadResource:
        """The twisted.web resource serving this state."""
        return _RidadResource(self)


class _RidadResource(_MbsResource):
    def _answer(self, seen: Seen) -> tuple[int, Any, dict[bytes, bytes]]:
        fake = self._fake
        assert isinstance(fake, FakeRidad)
        if seen.path == "/rida/openapi.json":
            if fake.description is None:
                return _error(404, "Not Found", "No such resource") + ({},)
            return 200, fake.description, {}
        if seen.method == "POST" and isinstance(seen.body, dict):
            if "dry_run" in seen.body and fake.description is None:
                message = "The request contains unspecified parameters: dry_run"
                return _error(400, "Bad Request", message) + ({},)
            if seen.body.get("dry_run") is True:
                return *fake.dry_run, {}
        return super()._answer(seen)
