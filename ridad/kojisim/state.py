"""The simulated hub's data: plain dataclasses gathered in one L{HubState}.

A call that writes works on a copy of the state and the copy replaces the
live state only when the call succeeds, which gives Koji's transaction (and,
per multicall entry, savepoint) semantics without a database. Only the id
sequences are outside the transactions, as a database's are.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, fields
from typing import Any

import koji

from ridad.kojisim.cow import CopyOnWrite
from ridad.kojisim.records import Archive, BuildLog, Buildroot, Rpm

__all__ = [
    "Build",
    "Event",
    "GroupEntry",
    "GroupPackage",
    "HubState",
    "InheritanceLink",
    "Listing",
    "Permission",
    "Repo",
    "Tag",
    "Tagging",
    "Target",
    "Task",
    "User",
    "iso",
]

#: Permissions a fresh hub knows, with their ids and descriptions (1.35).
SEEDED_PERMISSIONS = (
    ("admin", "Full administrator access. Perform all actions."),
    ("appliance", "Create appliance builds - deprecated."),
    ("dist-repo", "Create a dist-repo."),
    ("host", "Add, remove, enable, disable hosts and channels."),
    ("image", "Start image tasks."),
    ("image-import", "Import image archives."),
    ("livecd", "Start livecd tasks."),
    ("maven-import", "Import maven archives."),
    ("repo", "Manage repos: newRepo, repoExpire, repoDelete, repoProblem."),
    ("sign", "Import RPM signatures and write signed RPMs."),
    ("tag", "Manage packages in tags: add, block, remove, and clone tags."),
    ("target", "Add, edit, and remove targets."),
    (
        "win-admin",
        'The default hub policy rule for "vm" requires this permission to trigger'
        " Windows builds.",
    ),
    ("win-import", "Import win archives."),
    (
        "draft-promoter",
        'The permission required in the default "draft_promotion" hub policy rule'
        " to promote draft build.",
    ),
)

#: Task channels: the ids the hub gives ``default`` and ``createrepo``.
CHANNELS = {"default": 1, "createrepo": 2}

#: The build types of a fresh hub, in id order (recording 097).
SEEDED_BTYPES = ("rpm", "maven", "win", "image")


def iso(ts: float | None) -> str | None:
    """A timestamp as the hub writes database times: ``isoformat(' ')`` in UTC."""
    if ts is None:
        return None
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).isoformat(" ")


@dataclass
class User:
    """A Koji user (``usertype`` NORMAL or HOST)."""

    id: int
    name: str
    password: str | None
    usertype: int = koji.USERTYPES["NORMAL"]
    status: int = koji.USER_STATUS["NORMAL"]


@dataclass
class Permission:
    """A permission name with its description."""

    id: int
    name: str
    description: str | None


@dataclass
class Tag:
    """A tag's own configuration (``extra`` holds only its own keys)."""

    id: int
    name: str
    arches: str | None
    perm_id: int | None
    locked: bool
    maven_support: bool
    maven_include_all: bool
    extra: dict[str, Any]
    create_event: int
    active: bool = True


@dataclass
class InheritanceLink:
    """One parent link of a child tag."""

    child_id: int
    parent_id: int
    priority: int
    maxdepth: int | None
    intransitive: bool
    noconfig: bool
    pkg_filter: str


@dataclass
class Listing:
    """A package's entry in a tag's package list."""

    tag_id: int
    package_id: int
    owner_id: int
    blocked: bool
    extra_arches: str | None


@dataclass
class GroupPackage:
    """A package of a comps group."""

    package: str
    type: str
    basearchonly: bool | None
    requires: str | None
    blocked: bool


@dataclass
class GroupEntry:
    """A comps group in a tag, with its packages."""

    tag_id: int
    group_id: int
    blocked: bool
    exported: bool
    display_name: str
    is_default: bool | None
    uservisible: bool
    description: str | None
    langonly: str | None
    biarchonly: bool
    packages: dict[str, GroupPackage] = field(default_factory=dict)


@dataclass
class Target:
    """A build target."""

    id: int
    name: str
    build_tag: int
    dest_tag: int


@dataclass
class Build:
    """A build record."""

    id: int
    package_id: int
    version: str
    release: str
    epoch: int | None
    state: int
    task_id: int | None
    owner_id: int
    create_event: int
    start_ts: float | None
    completion_ts: float | None
    source: str | None
    extra: dict[str, Any] | None
    cg_id: int | None = None


@dataclass
class Tagging:
    """A build in a tag, from ``create_event`` until ``revoke_event``."""

    tag_id: int
    build_id: int
    create_event: int
    creator_id: int
    revoke_event: int | None = None

    def active_at(self, event: int | None) -> bool:
        """Whether the build was in the tag at ``event`` (None: now)."""
        if event is None:
            return self.revoke_event is None
        started = self.create_event <= event
        return started and (self.revoke_event is None or self.revoke_event > event)


@dataclass
class Task:
    """A task; ``request`` and ``result`` are XML-RPC documents, as stored."""

    id: int
    method: str
    request: str
    state: int
    owner: int
    priority: int
    channel_id: int
    arch: str
    create_ts: float
    parent: int | None = None
    label: str | None = None
    start_ts: float | None = None
    completion_ts: float | None = None
    host_id: int | None = None
    result: str | None = None
    weight: float = 1.0


@dataclass
class Repo:
    """A repo of a tag at an event."""

    id: int
    tag_id: int
    state: int
    create_event: int
    creation_ts: float
    state_ts: float
    begin_event: int | None
    task_id: int | None
    opts: dict[str, bool]
    custom_opts: dict[str, bool]
    dist: bool = False


@dataclass(frozen=True)
class Event:
    """A committed change set's id and time."""

    id: int
    ts: float


@dataclass
class HubState(CopyOnWrite):
    """Everything the hub knows, apart from sessions and uploaded files."""

    users: dict[int, User] = field(default_factory=dict)
    permissions: dict[int, Permission] = field(default_factory=dict)
    user_perms: dict[int, list[int]] = field(default_factory=dict)
    events: dict[int, Event] = field(default_factory=dict)
    tags: dict[int, Tag] = field(default_factory=dict)
    inheritance: dict[int, list[InheritanceLink]] = field(default_factory=dict)
    packages: dict[int, str] = field(default_factory=dict)
    listings: dict[tuple[int, int], Listing] = field(default_factory=dict)
    groups: dict[int, str] = field(default_factory=dict)
    group_entries: dict[tuple[int, int], GroupEntry] = field(default_factory=dict)
    targets: dict[int, Target] = field(default_factory=dict)
    builds: dict[int, Build] = field(default_factory=dict)
    taggings: list[Tagging] = field(default_factory=list)
    tasks: dict[int, Task] = field(default_factory=dict)
    repos: dict[int, Repo] = field(default_factory=dict)
    tag_changes: dict[int, list[int]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    rpms: dict[int, Rpm] = field(default_factory=dict)
    btypes: dict[int, str] = field(default_factory=dict)
    build_btypes: dict[int, list[int]] = field(default_factory=dict)
    content_generators: dict[int, str] = field(default_factory=dict)
    cg_users: list[tuple[int, int]] = field(default_factory=list)
    reservations: dict[int, str] = field(default_factory=dict)
    archives: dict[int, Archive] = field(default_factory=dict)
    buildroots: dict[int, Buildroot] = field(default_factory=dict)
    build_logs: dict[int, list[BuildLog]] = field(default_factory=dict)

    @classmethod
    def seeded(cls) -> HubState:
        """A fresh hub: the schema's permissions and nothing else."""
        state = cls()
        for name, description in SEEDED_PERMISSIONS:
            perm_id = state.next_id("permission")
            state.permissions[perm_id] = Permission(perm_id, name, description)
        for name in SEEDED_BTYPES:
            state.btypes[state.next_id("btype")] = name
        return state

    def copy(self) -> HubState:
        """An independent copy to run a transaction on.

        The id sequences (``counters``) stay shared: as PostgreSQL's
        sequences, they do not give an id back when the transaction that
        took it rolls back, so a failed call can leave a gap in the ids, as
        on the hub (recordings 032 and 102: a package id and an event id).
        The tables are copied lazily (L{ridad.kojisim.cow}): a table is
        copied when a transaction first touches it.
        """
        return self.cow_copy()  # type: ignore[no-any-return]

    def next_id(self, kind: str) -> int:
        """The next id of a sequence (1, 2, ...)."""
        value = self.counters.get(kind, 0) + 1
        self.counters[kind] = value
        return value

    @property
    def last_event(self) -> Event | None:
        """The newest event, if any."""
        return self.events[max(self.events)] if self.events else None

    def perm_names(self, user_id: int) -> list[str]:
        """The names of the permissions granted to a user."""
        return [self.permissions[p].name for p in self.user_perms.get(user_id, [])]

    def perm_by_name(self, name: str) -> Permission | None:
        """The permission called ``name``."""
        return next((p for p in self.permissions.values() if p.name == name), None)

    def user_by_name(self, name: str) -> User | None:
        """The user called ``name``."""
        return next((u for u in self.users.values() if u.name == name), None)

    def package_id(self, name: str) -> int | None:
        """The id of the package called ``name``."""
        return next((i for i, n in self.packages.items() if n == name), None)

    def btype_id(self, name: str) -> int | None:
        """The id of the build type called ``name``."""
        return next((i for i, n in self.btypes.items() if n == name), None)

    def cg_id(self, name: str) -> int | None:
        """The id of the content generator called ``name``."""
        return next((i for i, n in self.content_generators.items() if n == name), None)

    def tag_by_name(self, name: str) -> Tag | None:
        """The live tag called ``name``."""
        return next(
            (t for t in self.tags.values() if t.name == name and t.active), None
        )

    def live_tag(self, tag_id: int) -> Tag | None:
        """The tag with this id, unless it was deleted."""
        tag = self.tags.get(tag_id)
        return tag if tag is not None and tag.active else None

    def target_by_name(self, name: str) -> Target | None:
        """The build target called ``name``."""
        return next((t for t in self.targets.values() if t.name == name), None)

    def build_by_nvr(self, name: str, version: str, release: str) -> Build | None:
        """The build with this name, version and release."""
        pkg_id = self.package_id(name)
        for build in self.builds.values():
            if (build.package_id, build.version, build.release) == (
                pkg_id,
                version,
                release,
            ):
                return build
        return None

    def nvr(self, build: Build) -> str:
        """A build's ``name-version-release``."""
        return f"{self.packages[build.package_id]}-{build.version}-{build.release}"

    def note_tag_change(self, tag_id: int, event_id: int) -> None:
        """Record that a tag's content or configuration changed at an event."""
        changes = self.tag_changes.setdefault(tag_id, [])
        if event_id not in changes:
            changes.append(event_id)


HubState._COW_FIELDS = frozenset(
    item.name for item in fields(HubState) if item.name != "counters"
)
