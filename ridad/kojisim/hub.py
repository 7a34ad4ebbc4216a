"""L{KojiHub}: the simulated Koji hub, its builder and its failure injection.

A test builds it in-process and talks to ``hub.resource()`` through
``treq.testing.StubTreq`` (no sockets), or serves the resource on a port;
``twistd kojisim`` serves it for ``make run``.

With an ``event_sink`` the hub emits Koji's protonmsg bus messages after
every commit (L{ridad.kojisim.events}), as the plugin sends after the
request's commit.

Unlike a new Koji hub, kojisim starts ready for module imports: it has the
build type ``module`` and the content generator ``module-build-service``
granted to its users, what a Koji admin sets up once (``addBType``,
``grantCGAccess``). ``content_generator=None`` starts it as the recorded
hub started (no ``module`` type, no content generator), ``cg_users=()``
with the content generator granted to nobody.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import koji
from twisted.internet.interfaces import IReactorProcess, IReactorTime
from twisted.logger import Logger
from twisted.web.resource import IResource

from ridad.kojisim.api_repos import make_repo
from ridad.kojisim.build_logs import BuildOutputs
from ridad.kojisim.builder import Builder
from ridad.kojisim.context import Call, HubCore
from ridad.kojisim.dispatch import Dispatcher
from ridad.kojisim.events import CommitPublisher, EventSink
from ridad.kojisim.lookup import find_tag
from ridad.kojisim.resource import Reply, hub_root
from ridad.kojisim.sessions import RequestInfo
from ridad.kojisim.sources import RpmSourceInspector, SourceInspector
from ridad.kojisim.state import CHANNELS, HubState, User
from ridad.kojisim.wire import BadRequest, dump_fault

__all__ = [
    "DEFAULT_CONTENT_GENERATOR",
    "DEFAULT_EVENT_PREFIX",
    "HOST_NAME",
    "LOSE_BY_502",
    "LOSE_BY_CLOSING",
    "KojiHub",
    "UserSpec",
]

#: The name of the simulated build host (a HOST user).
HOST_NAME = "kojisim-builder"
#: What comes before a bus message's address (``task.open``, ...).
DEFAULT_EVENT_PREFIX = "/topic/koji."
#: The content generator module builds are imported as (MBS's name).
DEFAULT_CONTENT_GENERATOR = "module-build-service"
#: The build type of an imported module.
MODULE_BTYPE = "module"

#: How ``lose_answer`` loses an answer: a proxy's 502, or a closed connection.
LOSE_BY_502 = "502"
LOSE_BY_CLOSING = "close"

_BAD_GATEWAY = "<html><body><h1>502 Bad Gateway</h1></body></html>\n"
_NOT_ALLOWED = (
    "Method Not Allowed\nThis is an XML-RPC server. Only POST requests are accepted.\n"
)


@dataclass(frozen=True)
class UserSpec:
    """A configured user: password (None: no password login) and permissions."""

    password: str | None
    perms: tuple[str, ...] = ("admin",)


class KojiHub:
    """A Koji 1.35 hub simulator with one build host.

    ``users`` maps names to a password (such users are admins) or to a
    L{UserSpec}. ``reactor`` runs git and rpm; ``clock`` drives everything
    else. ``inspector`` reads NVRs from sources (default: git and rpmspec);
    ``build_outputs`` writes the logs of failed builds (default: kojisim's).
    ``event_sink`` receives a bus message per change, at ``event_prefix`` +
    the message's address. ``content_generator`` (None: none) exists from
    the start with the ``module`` build type, granted to ``cg_users`` (None:
    every user in ``users``).
    """

    log = Logger()

    def __init__(
        self,
        *,
        clock: IReactorTime,
        reactor: IReactorProcess,
        users: Mapping[str, str | UserSpec] | None = None,
        build_seconds: float = 1.0,
        fail_packages: Iterable[str] = (),
        fail_buildroot_packages: Iterable[str] = (),
        upload_dir: str | None = None,
        inspector: SourceInspector | None = None,
        builder_capacity: int = 4,
        event_sink: EventSink | None = None,
        event_prefix: str = DEFAULT_EVENT_PREFIX,
        build_outputs: BuildOutputs | None = None,
        content_generator: str | None = DEFAULT_CONTENT_GENERATOR,
        cg_users: Iterable[str] | None = None,
        wait_for_repo: bool = True,
    ) -> None:
        """Create the hub with its users and its (running) builder (which,
        as kojid, builds only in a build tag with a READY repo, unless not
        ``wait_for_repo``: the recorded host of tests/data/koji-recordings)."""
        self.clock = clock
        self._upload_dir = upload_dir or tempfile.mkdtemp(prefix="kojisim-work-")
        self._core = HubCore(
            clock=clock,
            state=HubState.seeded(),
            upload_dir=self._upload_dir,
            fail_packages=set(fail_packages),
            fail_buildroot_packages=set(fail_buildroot_packages),
        )
        self._bootstrap(users or {})
        if content_generator is not None:
            granted = list(users or {}) if cg_users is None else list(cg_users)
            self._set_up_content_generator(content_generator, granted)
        if event_sink is not None:
            publisher = CommitPublisher(
                core=self._core, sink=event_sink, prefix=event_prefix
            )
            self._core.commit_hooks.append(publisher.committed)
        self._dispatcher = Dispatcher(self._core)
        process_clock = reactor if IReactorTime.providedBy(reactor) else clock
        self._builder = Builder(
            core=self._core,
            clock=clock,
            inspector=inspector
            or RpmSourceInspector(
                reactor=reactor, clock=process_clock, upload_dir=self._upload_dir
            ),
            build_seconds=build_seconds,
            capacity=builder_capacity,
            outputs=build_outputs,
            wait_for_repo=wait_for_repo,
        )
        self._core.commit_hooks.append(self._builder.wake)
        self._offline: str | None = None
        self._drops = 0
        self._delay_seconds = 0.0

    def _bootstrap(self, users: Mapping[str, str | UserSpec]) -> None:
        """Create the users, grant their permissions, register the build host."""
        state = self._core.state
        call = Call(self._core, state, "bootstrap")
        for name, spec in users.items():
            spec = UserSpec(spec) if isinstance(spec, str) else spec
            user = User(state.next_id("user"), name, spec.password)
            state.users[user.id] = user
            for perm in spec.perms:
                found = state.perm_by_name(perm)
                if found is None:
                    raise ValueError(f"unknown permission {perm!r} for user {name}")
                state.user_perms.setdefault(user.id, []).append(found.id)
                call.event_id = None
                call.event()
        host = User(state.next_id("user"), HOST_NAME, None, koji.USERTYPES["HOST"])
        state.users[host.id] = host
        for _channel in CHANNELS:
            call.event_id = None
            call.event()
        session = self._core.sessions.create(
            host.id, koji.AUTHTYPES["NORMAL"], self._core.now()
        )
        self._core.host_session_id = session.id

    def _set_up_content_generator(self, name: str, users: list[str]) -> None:
        """Add the ``module`` build type and the content generator ``name``
        granted to ``users``, as a Koji admin would (no events: this is the
        hub's starting state, not a change).

        :raises ValueError: an unknown user.
        """
        state = self._core.state
        if state.btype_id(MODULE_BTYPE) is None:
            state.btypes[state.next_id("btype")] = MODULE_BTYPE
        cg_id = state.next_id("content_generator")
        state.content_generators[cg_id] = name
        for user_name in users:
            user = state.user_by_name(user_name)
            if user is None:
                raise ValueError(f"unknown user {user_name!r} for {name}")
            state.cg_users.append((cg_id, user.id))

    # -- serving ---------------------------------------------------------

    def resource(self) -> IResource:
        """A root resource serving the hub at ``/kojihub``."""
        return hub_root(self)

    def answer(
        self, method: bytes, body: bytes, info: RequestInfo, content_type: str
    ) -> Reply:
        """The reply to one HTTP request to the hub."""
        if method != b"POST":
            return Reply(405, "text/plain", _NOT_ALLOWED.encode(), (("Allow", "POST"),))
        if self._offline is not None:
            fault = dump_fault(koji.ServerOffline.faultCode, self._offline)
            return Reply(200, "text/xml", fault.encode())
        if content_type == "application/octet-stream":
            handled = self._dispatcher.handle_upload(body, info)
        else:
            try:
                handled = self._dispatcher.handle_rpc(body, info)
            except BadRequest as error:
                return Reply(400, "text/plain", f"{error}\n".encode())
        if handled.lost == LOSE_BY_CLOSING:
            return Reply(0, "", b"", abort=True)
        if handled.lost is not None:
            return Reply(502, "text/html", _BAD_GATEWAY.encode(), from_hub=False)
        return Reply(200, "text/xml", handled.document.encode())

    def take_dropped_connection(self) -> bool:
        """Whether to drop this request's connection (see L{drop_connections})."""
        if self._drops <= 0:
            return False
        self._drops -= 1
        return True

    @property
    def reply_delay_seconds(self) -> float:
        """How long replies are held back (see L{slow_calls})."""
        return self._delay_seconds

    def stop(self) -> None:
        """Stop the builder (pending timers are cancelled)."""
        self._builder.stop()

    # -- failure injection -------------------------------------------------

    def set_offline(self, message: str | None) -> None:
        """Answer every call with ServerOffline 1014 and ``message`` (None: online)."""
        self._offline = message

    def drop_connections(self, count: int) -> None:
        """Abort the connection of the next ``count`` requests, with no reply."""
        self._drops = count

    def slow_calls(self, seconds: float) -> None:
        """Hold every reply back for ``seconds`` on the clock (0: no delay)."""
        self._delay_seconds = seconds

    def expire_sessions(self) -> None:
        """Expire every client session (calls get AuthExpired 1007 until renewed)."""
        self._core.sessions.expire_all(keep=self._core.host_session_id)

    def fail_next(self, method: str, fault_code: int, message: str) -> None:
        """Make the next call of ``method`` fail with this fault."""
        self._dispatcher.fail_next(method, fault_code, message)

    def lose_answer(self, method: str, *, how: str = LOSE_BY_502) -> None:
        """Run the next request calling ``method`` (alone or inside a
        multicall; ``rawUpload``: a fast upload) and commit what it did, then
        lose its answer: a proxy's 502 (``LOSE_BY_502``) or a closed
        connection (``LOSE_BY_CLOSING``). Resent with the same call number, a
        request that committed gets RetryError 1009, as from the real hub.

        :raises ValueError: for another ``how``.
        """
        if how not in (LOSE_BY_502, LOSE_BY_CLOSING):
            raise ValueError(f"lose_answer how must be 502 or close, not {how!r}")
        self._dispatcher.lose_answer(method, how)

    @property
    def answers_to_lose(self) -> int:
        """How many answers ``lose_answer`` was asked to lose are not lost yet."""
        return self._dispatcher.answers_to_lose

    def open_sessions(self, user: str | None = None) -> int:
        """How many sessions are not logged out (expired ones count), those of
        ``user`` only if given; the build host's own session is not counted."""
        state = self._core.state
        wanted = None if user is None else state.user_by_name(user)
        return sum(
            1
            for session in self._core.sessions.all()
            if not session.closed
            and session.id != self._core.host_session_id
            and (user is None or (wanted is not None and session.user_id == wanted.id))
        )

    @property
    def fail_packages(self) -> set[str]:
        """Packages whose builds fail like a broken SPEC (a mutable set)."""
        return self._core.fail_packages

    @property
    def fail_buildroot_packages(self) -> set[str]:
        """Packages whose buildroots cannot be installed (a mutable set)."""
        return self._core.fail_buildroot_packages

    def task_output(self, task_id: int) -> dict[str, bytes]:
        """The files in a task's output, by name, in the order listed."""
        return {
            name: found.data
            for name, found in self._core.task_output.files(task_id).items()
        }

    def pause_builder(self) -> None:
        """Let tasks wait FREE (tasks already taken go on)."""
        self._builder.pause()

    def resume_builder(self) -> None:
        """Let the builder take tasks again."""
        self._builder.resume()

    def buildroot(self, task_id: int) -> str | None:
        """What build task ``task_id``'s buildroot held (``kojisim.buildroot``:
        arches, groups, blocked packages), once it started building."""
        return self._core.buildroots.get(task_id)

    def kojira_repo(self, tag: str) -> int:
        """Make a READY repo of ``tag`` now, as kojira would (no task), so
        builds in it can start; answer the repo's id. For tests and setups
        whose build tags nobody regenerates (ridad calls ``newRepo``)."""

        def change(call: Call) -> int:
            found = find_tag(call.state, tag, strict=True)
            assert found is not None
            return make_repo(call, found, None, {}).id

        return self._builder.transact(change)

    @property
    def builder_busy(self) -> bool:
        """Whether the builder is opening or running a task."""
        return self._builder.busy

    @property
    def repo_waits(self) -> frozenset[int]:
        """The build tasks that wait for their build tag's first READY repo."""
        return frozenset(self._builder.repo_waits)

    @property
    def builder_active(self) -> bool:
        """Whether the builder works on a task that does not wait for a repo."""
        return self._builder.active

    @property
    def build_seconds(self) -> float:
        """How long a build takes once its NVR is known (settable)."""
        return self._builder.build_seconds

    @build_seconds.setter
    def build_seconds(self, seconds: float) -> None:
        """Change how long the next builds take."""
        self._builder.build_seconds = seconds

    @property
    def upload_dir(self) -> str:
        """Where uploaded files land."""
        return self._upload_dir

    # -- read-only views for tests -------------------------------------------

    @property
    def tags(self) -> Mapping[int, Any]:
        """Tags by id (including deleted ones, ``active`` False). Do not modify."""
        return MappingProxyType(self._core.state.tags)

    @property
    def targets(self) -> Mapping[int, Any]:
        """Build targets by id. Do not modify."""
        return MappingProxyType(self._core.state.targets)

    @property
    def builds(self) -> Mapping[int, Any]:
        """Builds by id. Do not modify."""
        return MappingProxyType(self._core.state.builds)

    @property
    def tasks(self) -> Mapping[int, Any]:
        """Tasks by id. Do not modify."""
        return MappingProxyType(self._core.state.tasks)

    @property
    def repos(self) -> Mapping[int, Any]:
        """Repos by id. Do not modify."""
        return MappingProxyType(self._core.state.repos)

    @property
    def state(self) -> HubState:
        """The whole live state (for assertions). Do not modify."""
        return self._core.state
