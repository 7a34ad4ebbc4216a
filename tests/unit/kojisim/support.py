"""Helpers for kojisim tests: an in-memory XML-RPC client of a hub, and
stand-ins at the process boundary (for tests that read no real sources)."""

from __future__ import annotations

import xmlrpc.client
from dataclasses import dataclass, field
from typing import Any

import koji
from koji.xmlrpcplus import dumps
from treq.testing import StubTreq
from twisted.internet.task import Clock, deferLater

from ridad.kojisim.hub import KojiHub, UserSpec
from ridad.kojisim.sources import NVR, Source
from tests.helpers import result_of

HUB_URL = "http://kojihub.test/kojihub"


class NoProcessReactor:
    """A process reactor for hubs whose builds never start a process."""

    def spawnProcess(self, *args: Any, **kwargs: Any) -> Any:
        """Fail: nothing here may run a process."""
        raise AssertionError("this test must not start processes")


@dataclass
class FixedNVRInspector:
    """Answers every source with its repository name, version 1.0 and ``release``."""

    release: str = "1"
    seen: list[tuple[Source, str]] = field(default_factory=list)

    async def nvr(self, source: Source, dist: str) -> NVR:
        """The NVR the recorded build host produced (no checkout)."""
        self.seen.append((source, dist))
        name = source.repo_name or source.url.rsplit("/", 1)[-1].split("-")[0]
        return NVR(name, "1.0", self.release)


@dataclass(frozen=True)
class HttpReply:
    """A raw HTTP reply."""

    code: int
    headers: dict[str, list[str]]
    body: bytes


class HubClient:
    """Talks XML-RPC to a hub's resource in memory, like ``koji.ClientSession``.

    After ``login`` it sends the session headers and a call number that goes
    up by one per request.
    """

    def __init__(self, hub: KojiHub) -> None:
        """Use ``hub`` through StubTreq."""
        self.hub = hub
        self.stub = StubTreq(hub.resource())
        self.session: dict[str, Any] | None = None
        self.callnum = 0

    def http(
        self,
        method: str,
        body: bytes = b"",
        *,
        headers: dict[str, str] | None = None,
        url: str = HUB_URL,
        session: bool = True,
    ) -> HttpReply:
        """Send one request; answer the reply (which must come at once)."""
        sent = {"Content-Type": "text/xml", "User-Agent": "koji/1", **(headers or {})}
        if session and self.session is not None:
            sent["Koji-Session-Id"] = str(self.session["session-id"])
            sent["Koji-Session-Key"] = self.session["session-key"]
            sent["Koji-Session-Callnum"] = str(self.callnum)
            self.callnum += 1
        deferred = self.stub.request(
            method, url, headers={k: [v] for k, v in sent.items()}, data=body or None
        )
        self.stub.flush()
        response = result_of(deferred)
        content = self.stub.content(response)
        self.stub.flush()
        raw_headers = {
            k.decode().lower(): [v.decode() for v in vs]
            for k, vs in response.headers.getAllRawHeaders()
        }
        return HttpReply(response.code, raw_headers, result_of(content))

    def raw_call(self, method: str, *args: Any, **kwargs: Any) -> HttpReply:
        """Send an XML-RPC call, keyword arguments encoded as Koji does."""
        body = dumps(koji.encode_args(*args, **kwargs), methodname=method)
        return self.http("POST", body.encode())

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call a method; answer its result or raise the fault as a koji error.

        :raises koji.GenericError: (or a subclass) the hub's fault.
        """
        reply = self.raw_call(method, *args, **kwargs)
        assert reply.code == 200, reply
        try:
            return xmlrpc.client.loads(reply.body.decode(), use_builtin_types=True)[0][
                0
            ]
        except xmlrpc.client.Fault as fault:
            raise koji.convertFault(fault) from None

    def fault_of(self, method: str, *args: Any, **kwargs: Any) -> tuple[int, str]:
        """Call a method that must fail; answer its fault code and string."""
        reply = self.raw_call(method, *args, **kwargs)
        try:
            xmlrpc.client.loads(reply.body.decode(), use_builtin_types=True)
        except xmlrpc.client.Fault as fault:
            return fault.faultCode, fault.faultString
        raise AssertionError(f"{method} did not fail: {reply.body!r}")

    def login(self, user: str = "admin", password: str = "admin") -> dict[str, Any]:
        """Log in with a password; later calls carry the session."""
        self.session = None
        self.session = self.call("login", user, password, opts=None)
        self.callnum = 0
        return self.session


def make_hub(
    clock: Clock | None = None, *, build_seconds: float = 1.0, **options: Any
) -> KojiHub:
    """A hub with users ``admin`` (admin) and ``alice`` (no permissions)."""
    users: dict[str, str | UserSpec] = {
        "admin": "admin",
        "alice": UserSpec("alice", ()),
    }
    options.setdefault("reactor", NoProcessReactor())
    options.setdefault("inspector", FixedNVRInspector())
    return KojiHub(
        clock=clock or Clock(), users=users, build_seconds=build_seconds, **options
    )


def seed_module_tags(client: HubClient, *, dist: str | None = None) -> None:
    """Tags ``f40-build``, ``mod`` and ``mod-build`` (inheriting), target ``mod``,
    packages alpha and beta listed in ``mod``, a READY repo of ``mod-build``
    (builds wait for one)."""
    client.call("createTag", "f40-build", arches="x86_64")
    client.call("createTag", "mod")
    client.call("createTag", "mod-build", parent="f40-build")
    if dist is not None:
        client.call("editTag2", "mod-build", extra={"rpm.macro.dist": dist})
    client.call("createBuildTarget", "mod", "mod-build", "mod")
    for name in ("alpha", "beta"):
        client.call("packageListAdd", "mod", name, owner="admin")
    client.hub.kojira_repo("mod-build")


def run_until_idle(
    hub: KojiHub, clock: Clock, *, step: float = 0.05, limit: int = 2000
) -> None:
    """Advance the clock until no task is FREE or OPEN and the builder rests."""
    active = (koji.TASK_STATES["FREE"], koji.TASK_STATES["OPEN"])
    for _ in range(limit):
        clock.advance(step)
        if not hub.builder_busy and not any(
            t.state in active for t in hub.tasks.values()
        ):
            return
    raise AssertionError("tasks still running")


def global_reactor() -> Any:
    """The global reactor (where git and rpm run for hubs that read real sources)."""
    from twisted.internet import reactor

    return reactor


async def open_and_wait(hub: KojiHub, clock: Clock, task_id: int) -> None:
    """Open the task on the fake clock, then wait (really) until it has left
    the reading of its source: a build exists, or the task ended."""
    clock.advance(0)
    clock.advance(0.1)
    for _ in range(400):
        task = hub.tasks[task_id]
        if task.state != koji.TASK_STATES["OPEN"] or any(
            b.task_id == task_id for b in hub.builds.values()
        ):
            return
        await deferLater(global_reactor(), 0.025, lambda: None)
    raise AssertionError("the builder never got past the source")
