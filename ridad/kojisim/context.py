"""The call context: which state a call works on, who makes it, its event.

API functions keep Koji's exact signatures (so that argument errors read as
the hub's do), so they find their context through L{current}, like the hub's
own ``koji.context``. The dispatcher sets it around each call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import koji
from twisted.internet.interfaces import IReactorTime

from ridad.kojisim.output_store import TaskOutput
from ridad.kojisim.sessions import Credentials, RequestInfo, SessionStore
from ridad.kojisim.state import Event, HubState, User

__all__ = ["Call", "HubCore", "current", "running"]

_CURRENT: ContextVar[Call] = ContextVar("kojisim_call")


class HubCore:
    """The parts of the hub every call sees: live state, sessions, clock.

    ``state`` is replaced (never edited in place) when a transaction commits;
    ``task_output`` (the tasks' files) is not part of it, as on disk.
    """

    def __init__(
        self,
        *,
        clock: IReactorTime,
        state: HubState,
        upload_dir: str,
        fail_packages: set[str],
        fail_buildroot_packages: set[str] | None = None,
    ) -> None:
        """Hold the live state; commit hooks run after every commit."""
        self.clock = clock
        self.state = state
        self.sessions = SessionStore()
        self.upload_dir = upload_dir
        self.fail_packages = fail_packages
        self.fail_buildroot_packages = fail_buildroot_packages or set()
        self.task_output = TaskOutput()
        #: What each build task's buildroot held (``kojisim.buildroot``),
        #: by task id: kojisim's own record, not in any API answer.
        self.buildroots: dict[int, str] = {}
        self.host_id = 1
        self.host_session_id: int | None = None
        self.commit_hooks: list[Callable[[], None]] = []

    def now(self) -> float:
        """The hub's time, from the injected clock, to the microsecond (as stored)."""
        return round(float(self.clock.seconds()), 6)

    def commit(self, state: HubState, credentials: Credentials | None) -> None:
        """Make ``state`` live and store the request's call number."""
        self.state = state
        if credentials is not None and credentials.session is not None:
            if credentials.callnum is not None:
                credentials.session.callnum = credentials.callnum
        for hook in list(self.commit_hooks):
            hook()


@dataclass
class Call:
    """One API call: its working state, its caller and its event."""

    core: HubCore
    state: HubState
    method: str
    credentials: Credentials = field(default_factory=Credentials)
    info: RequestInfo = field(default_factory=lambda: RequestInfo(headers={}))
    commit_pending: bool = False
    event_id: int | None = None

    def now(self) -> float:
        """The current time."""
        return self.core.now()

    def changed(self) -> None:
        """Note that this call changed data (so it commits)."""
        self.commit_pending = True

    def event(self) -> int:
        """This call's event id, created on first use (one per call)."""
        if self.event_id is None:
            self.event_id = self.state.next_id("event")
            self.state.events[self.event_id] = Event(self.event_id, self.now())
        self.changed()
        return self.event_id

    @property
    def logged_in(self) -> bool:
        """Whether the caller is logged in."""
        return self.credentials.logged_in

    @property
    def user_id(self) -> int | None:
        """The caller's user id, or None when anonymous."""
        return self.credentials.user_id

    def user(self) -> User | None:
        """The calling user, or None when anonymous."""
        uid = self.user_id
        return None if uid is None else self.state.users.get(uid)

    def has_perm(self, name: str) -> bool:
        """Whether the caller holds permission ``name`` (not implied by admin)."""
        uid = self.user_id
        return uid is not None and name in self.state.perm_names(uid)

    def assert_perm(self, name: str) -> None:
        """Require permission ``name`` or admin.

        :raises koji.ActionNotAllowed: the caller has neither.
        """
        if self.has_perm(name) or self.has_perm("admin"):
            return
        user = self.user()
        who = f"logged in as {user.name}" if user else "user not logged in"
        raise koji.ActionNotAllowed(f"{name} permission required ({who})")

    def assert_login(self) -> None:
        """Require a logged-in caller.

        :raises koji.ActionNotAllowed: the caller is anonymous.
        """
        if not self.logged_in:
            raise koji.ActionNotAllowed("you must be logged in for this operation")


def current() -> Call:
    """The call being served."""
    return _CURRENT.get()


@contextmanager
def running(call: Call) -> Iterator[Call]:
    """Make ``call`` the current call for the duration of the block."""
    token = _CURRENT.set(call)
    try:
        yield call
    finally:
        _CURRENT.reset(token)
