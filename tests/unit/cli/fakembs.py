"""A tiny in-memory Module Build Service (API v2) for the ``rida`` tests,
and a way to run ``rida`` against it through StubTreq on a ``task.Clock``."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from treq.testing import StubTreq
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.web.resource import Resource
from twisted.web.server import Request

from ridad.cli.auth import TokenMaker
from ridad.cli.main import rida
from ridad.cli.settings import Settings
from tests.helpers import result_of
from tests.unit.cli.fakeuploads import FakeUploads

SERVER = "http://mbs.example.org"
API = "/module-build-service/2/"
#: 2026-11-27T10:00:00Z, the time the tests' clock starts at.
NOW = 1795773600.0
STATE_NAMES = {
    0: "init",
    1: "wait",
    2: "build",
    3: "done",
    4: "failed",
    5: "ready",
    6: "garbage",
}
KOJI_STATE_NAMES = {0: "BUILDING", 1: "COMPLETE", 3: "FAILED", 4: "CANCELED"}


@dataclass
class Seen:
    """A request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeMbs:
    """The state behind the fake server; tests change it between polls."""

    builds: dict[int, dict[str, Any]] = field(default_factory=dict)
    components: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    #: False: ``component-builds/`` answers 404, as on an old MBS.
    has_component_builds: bool = True
    #: Answers to give before any routing: (code, headers, body bytes).
    canned: list[tuple[int, dict[bytes, bytes], bytes]] = field(default_factory=list)
    #: A bearer token every request must carry.
    token: str | None = None
    #: A SPNEGO token every request must carry (401 Negotiate without it).
    negotiate_token: bytes | None = None
    owner: str = "alice"
    #: Whether ``owner`` is an administrator (may retire builds).
    admin: bool = True
    #: ridad's own view of builds (``/rida/module-builds/N``); a build not
    #: here answers 404 there, as MBS does.
    seed_views: dict[int, dict[str, Any]] = field(default_factory=dict)

    def add_build(self, **fields: Any) -> dict[str, Any]:
        """Add a module build (MBS's v2 shape) and return it."""
        build_id = fields.pop("id", max(self.builds, default=0) + 1)
        state = fields.pop("state", 0)
        build = {
            "id": build_id,
            "name": "demo",
            "stream": "main",
            "version": "4020261127100000",
            "context": "6c81f848",
            "state": state,
            "state_name": STATE_NAMES[state],
            "state_reason": None,
            "owner": self.owner,
            "scmurl": "git://git.example.org/modules/demo.git?#main",
            "koji_tag": None,
            "scratch": False,
            "time_submitted": "2026-11-27T09:59:00Z",
            "time_modified": "2026-11-27T09:59:00Z",
            "time_completed": None,
            "component_builds": [],
            "tasks": {},
        }
        build.update(fields)
        self.builds[build_id] = build
        return build

    def set_state(self, build_id: int, state: int, reason: str | None = None) -> None:
        """Move a build to ``state``."""
        build = self.builds[build_id]
        build.update(state=state, state_name=STATE_NAMES[state], state_reason=reason)
        if state in (4, 5):
            build["time_completed"] = "2026-11-27T10:05:00Z"

    def set_component(
        self,
        build_id: int,
        package: str,
        state: int | None,
        *,
        batch: int = 2,
        task_id: int | None = None,
        nvr: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Set a component in both ``tasks`` and ``component-builds/``."""
        task = {"task_id": task_id, "state": state, "state_reason": reason, "nvr": nvr}
        self.builds[build_id]["tasks"].setdefault("rpms", {})[package] = task
        items = self.components.setdefault(build_id, [])
        items[:] = [c for c in items if c["package"] != package]
        component_id = build_id * 100 + len(items) + 1
        items.append(
            {
                "id": component_id,
                "package": package,
                "format": "rpms",
                "task_id": task_id,
                "state": state,
                "state_name": KOJI_STATE_NAMES.get(state)
                if state is not None
                else None,
                "state_reason": reason,
                "module_build": build_id,
                "nvr": nvr,
                "batch": batch,
            }
        )
        self.builds[build_id]["component_builds"] = [c["id"] for c in items]

    def resource(self) -> Resource:
        """The twisted.web resource serving this state."""
        return _MbsResource(self)

    def paths(self) -> list[str]:
        """Method and path (with query) of every request so far."""
        return [
            f"{s.method} {s.path}"
            + (f"?{urlencode(s.query, doseq=True)}" if s.query else "")
            for s in self.requests
        ]


class _MbsResource(Resource):
    isLeaf = True

    def __init__(self, fake: FakeMbs) -> None:
        super().__init__()
        self._fake = fake

    def render(self, request: Request) -> bytes:
        fake = self._fake
        raw = request.content.read() if request.content else b""
        seen = Seen(
            method=request.method.decode(),
            path=request.path.decode(),
            query={
                k.decode(): [v.decode() for v in vs] for k, vs in request.args.items()
            },
            headers={
                k.decode().lower(): v[0].decode()
                for k, v in request.requestHeaders.getAllRawHeaders()
            },
            body=json.loads(raw) if raw else None,
        )
        fake.requests.append(seen)
        if fake.canned:
            code, headers, body = fake.canned.pop(0)
            request.setResponseCode(code)
            for name, value in headers.items():
                request.setHeader(name, value)
            return body
        code, answer, headers = self._answer(seen)
        request.setResponseCode(code)
        request.setHeader(b"Content-Type", b"application/json")
        for name, value in headers.items():
            request.setHeader(name, value)
        return json.dumps(answer).encode()

    def _answer(self, seen: Seen) -> tuple[int, Any, dict[bytes, bytes]]:
        fake = self._fake
        authorization = seen.headers.get("authorization", "")
        if fake.token and authorization != f"Bearer {fake.token}":
            return _error(401, "Unauthorized", "bad or missing token") + ({},)
        if fake.negotiate_token is not None:
            expected = "Negotiate " + base64.b64encode(fake.negotiate_token).decode()
            if authorization != expected:
                return _error(401, "Unauthorized", "no Kerberos ticket") + (
                    {b"WWW-Authenticate": b"Negotiate"},
                )
        seed = seen.path.removeprefix("/rida/module-builds/")
        if seed.isdigit() and int(seed) in fake.seed_views:
            return 200, fake.seed_views[int(seed)], {}
        if not seen.path.startswith(API):
            return _error(404, "Not Found", "No such resource") + ({},)
        route = seen.path[len(API) :].strip("/").split("/")
        code, answer = self._route(seen, route)
        return code, answer, {}

    def _route(self, seen: Seen, route: list[str]) -> tuple[int, Any]:
        fake = self._fake
        if route == ["about"]:
            return 200, {
                "auth_method": "kerberos",
                "api_version": 2,
                "version": "3.9.0",
            }
        if route == ["module-builds"] and seen.method == "POST":
            return self._submit(seen.body)
        if route == ["import-module"] and seen.method == "POST":
            return self._import(seen.body)
        if route == ["module-builds"]:
            return 200, _page(self._filtered(seen.query), seen, "module-builds/")
        if route[0] == "module-builds" and len(route) == 2 and route[1].isdigit():
            build = fake.builds.get(int(route[1]))
            if build is None:
                return _error(404, "Not Found", f"No such module build {route[1]}")
            if seen.method == "PATCH" and seen.body == {"state": "garbage"}:
                return self._retire(build)
            if seen.method == "PATCH":
                if build["state"] in (3, 4, 5, 6):
                    return _error(400, "Bad Request", "The build cannot be canceled")
                fake.set_state(build["id"], 4, f"Canceled by {fake.owner}")
                return 200, build
            if seen.query.get("verbose") == ["true"]:
                return 200, {**build, "state_trace": [], "modulemd": "document: ..."}
            return 200, build
        if route == ["component-builds"] and fake.has_component_builds:
            build_id = int(seen.query["module_build"][0])
            return 200, _page(
                fake.components.get(build_id, []), seen, "component-builds/"
            )
        return _error(404, "Not Found", "No such resource")

    def _retire(self, build: dict[str, Any]) -> tuple[int, Any]:
        """Retire as ridad does: administrators only, ready or failed builds."""
        if not self._fake.admin:
            return _error(403, "Forbidden", f"{self._fake.owner} may not retire")
        if build["state"] not in (4, 5):
            return _error(400, "Bad Request", "The build cannot be retired")
        self._fake.set_state(build["id"], 6, f"Retired by {self._fake.owner}")
        return 200, build

    def _submit(self, body: dict[str, Any]) -> tuple[int, Any]:
        """Submit as MBS does: a modulemd in the body (its name from
        ``module_name``), scratch builds, SRPMs only for them."""
        if body.get("srpms") and not body.get("scratch"):
            return _error(
                403, "Forbidden", "srpms may only be specified for scratch builds"
            )
        scmurl = body.get("scmurl")
        if body.get("modulemd"):
            name = body.get("module_name") or "unnamed"
        else:
            name = scmurl.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
            name = name.removesuffix(".git")
        build = self._fake.add_build(
            name=name,
            stream=body.get("module_stream") or body.get("branch") or "master",
            scmurl=scmurl,
            scratch=bool(body.get("scratch")),
            rebuild_strategy=body.get("rebuild_strategy", "changed-and-after"),
            srpms=body.get("srpms") or [],
        )
        return 201, [build]

    def _import(self, body: dict[str, Any]) -> tuple[int, Any]:
        """Import as MBS does: administrators only, the module ready."""
        if not self._fake.admin:
            return _error(403, "Forbidden", "Import module API is disabled.")
        build = self._fake.add_build(
            name="platform", stream="el8", version="0", context="00000000", state=5
        )
        nsvc = "platform:el8:0:00000000"
        return 201, {"module": build, "messages": [f"Module {nsvc} imported"]}

    def _filtered(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        builds = sorted(self._fake.builds.values(), key=lambda b: -b["id"])
        if "state" in query:
            builds = [b for b in builds if b["state_name"] in query["state"]]
        if "owner" in query:
            builds = [b for b in builds if b["owner"] in query["owner"]]
        return builds


def _error(code: int, error: str, message: str) -> tuple[int, Any]:
    return code, {"status": code, "error": error, "message": message}


def _page(items: list[Any], seen: Seen, path: str) -> dict[str, Any]:
    per_page = int(seen.query.get("per_page", ["10"])[0])
    page = int(seen.query.get("page", ["1"])[0])
    pages = max(1, -(-len(items) // per_page))

    def link(number: int) -> str | None:
        if not 1 <= number <= pages:
            return None
        return f"{SERVER}{API}{path}?" + urlencode(
            {**seen.query, "page": [str(number)]}, doseq=True
        )

    return {
        "items": items[(page - 1) * per_page : page * per_page],
        "meta": {
            "page": page,
            "pages": pages,
            "per_page": per_page,
            "total": len(items),
            "prev": link(page - 1),
            "next": link(page + 1),
            "first": link(1),
            "last": link(pages),
        },
    }


class Terminal(StringIO):
    """Captured output that says it is a terminal."""

    def isatty(self) -> bool:
        return True


async def refuse_kerberos(host: str) -> bytes:
    """A token maker for tests that must not reach Kerberos."""
    raise AssertionError(f"asked for a Kerberos token for {host}")


@dataclass
class Cli:
    """Runs ``rida`` against a FakeMbs on a clock, capturing its output."""

    fake: FakeMbs
    home: Path
    clock: Clock = field(default_factory=Clock)
    environ: dict[str, str] = field(default_factory=dict)
    token_maker: TokenMaker = refuse_kerberos
    uploads: FakeUploads = field(default_factory=FakeUploads)
    http: Any = None
    out: StringIO = field(default_factory=StringIO)
    err: StringIO = field(default_factory=StringIO)
    settings_seen: list[Settings] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.clock.advance(NOW)
        self.environ = {"HOME": str(self.home), "RIDA_SERVER": SERVER, **self.environ}

    def start(self, *argv: str, tty: bool = False) -> Deferred[int]:
        """Start ``rida argv``; the Deferred fires with its exit status."""
        self.out = Terminal() if tty else StringIO()
        self.err = StringIO()

        def http_factory(settings: Settings) -> Any:
            self.settings_seen.append(settings)
            return self.http or StubTreq(self.fake.resource())

        return Deferred.fromCoroutine(
            rida(
                list(argv),
                environ=self.environ,
                out=self.out,
                err=self.err,
                clock=self.clock,
                http_factory=http_factory,
                token_maker=self.token_maker,
                width=100,
                srpm_uploader=self.uploads,
            )
        )

    def run(self, *argv: str, tty: bool = False) -> int:
        """Run ``rida argv`` to its end (it must not wait on the clock)."""
        return result_of(self.start(*argv, tty=tty))
