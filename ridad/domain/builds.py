"""Module builds and component builds as frozen values, and the pure rules
that identify them (contexts, version, batches)."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ridad.domain.rebuild import CHANGED_AND_AFTER
from ridad.domain.states import (
    ComponentState,
    ModuleState,
    component_transition_allowed,
    module_transition_allowed,
)
from ridad.errors import InvalidRequest, Unprocessable

MAX_UINT64 = 2**64 - 1
MACROS_BATCH = 1
FIRST_COMPONENT_BATCH = 2


@dataclass(frozen=True)
class ModuleBuild:
    """One module build, named like the columns of ``module_builds``."""

    id: int
    name: str
    stream: str
    version: int
    context: str
    state: ModuleState
    state_reason: str | None
    owner: str
    scmurl: str
    scm_commit: str
    branch: str | None
    modulemd: str
    build_context: str
    runtime_context: str
    buildrequires: Mapping[str, Any]
    requires: Mapping[str, Any]
    koji_tag: str | None
    scratch: bool
    time_submitted: datetime
    time_modified: datetime
    time_completed: datetime | None
    repo_event: int | None = None
    repo_task_id: int | None = None
    repo_attempts: int = 0
    rpm_macros: str | None = None
    repo_requested_at: datetime | None = None
    #: The content-generator import (migration 007): where it stands
    #: (None, ``pending``, ``reserved``, ``imported``), the Koji build id, the
    #: token of the reservation (kept out of repr), and the NEVRAs in
    #: modulemd.txt's artifacts.
    cg_state: str | None = None
    cg_build_id: int | None = None
    cg_token: str | None = field(default=None, repr=False)
    artifact_count: int | None = None
    #: Resolution (migration 008): a base module's right-padded stream
    #: version and virtual streams; whether the build was imported rather
    #: than built; MBS's build context without base modules; the arches
    #: fixed at submission (None: recorded before, koji.arches applies).
    stream_version: float | None = None
    virtual_streams: tuple[str, ...] = ()
    imported: bool = False
    build_context_no_bms: str | None = None
    arches: tuple[str, ...] | None = None
    #: Reuse (migration 009): the rebuild strategy, the build components
    #: are reused from (None: none, or not chosen yet), and a scratch
    #: build's uploaded SRPMs (``cli-build/...`` paths in Koji).
    rebuild_strategy: str = CHANGED_AND_AFTER
    reused_module_id: int | None = None
    srpms: tuple[str, ...] = ()

    @property
    def nsvc(self) -> str:
        """``name:stream:version:context``."""
        return f"{self.name}:{self.stream}:{self.version}:{self.context}"

    @property
    def koji_build_id(self) -> int | None:
        """The id of the module's own Koji build once it is imported."""
        return self.cg_build_id if self.cg_state == "imported" else None

    @property
    def base_stream(self) -> str | None:
        """The stream of the first buildrequired base module, if any."""
        for info in self.buildrequires.values():
            if info.get("base_module"):
                return str(info["stream"])
        return None


@dataclass(frozen=True)
class ComponentBuild:
    """One component build, named like the columns of ``component_builds``."""

    id: int
    module_build_id: int
    name: str
    type: str
    package: str
    repository: str
    ref: str
    scm_commit: str
    batch: int
    buildorder: int
    buildafter: tuple[str, ...]
    buildonly: bool
    state: ComponentState
    state_reason: str | None
    task_id: int | None
    task_state: str | None
    nvr: str | None
    time_modified: datetime
    source: str | None = None
    submitted_at: datetime | None = None
    attempt: int = 0
    koji_build_id: int | None = None
    tagged: bool = False
    tag_event: int | None = None
    #: The component's own arches (None: the module's).
    arches: tuple[str, ...] | None = None
    #: The component build of the reused module whose NVR this one took.
    reused_component_id: int | None = None


@dataclass(frozen=True)
class BuildSnapshot:
    """A module build with its components (ordered by batch, then name), as
    one transaction read or wrote them."""

    build: ModuleBuild
    components: tuple[ComponentBuild, ...]

    def component(self, component_build_id: int) -> ComponentBuild:
        """The component with this id.

        :raises KeyError: when the build has no such component.
        """
        for c in self.components:
            if c.id == component_build_id:
                return c
        raise KeyError(component_build_id)

    def with_components(self, changed: Sequence[ComponentBuild]) -> BuildSnapshot:
        """This snapshot with ``changed`` components in place of their old values."""
        by_id = {c.id: c for c in changed}
        return replace(
            self, components=tuple(by_id.get(c.id, c) for c in self.components)
        )


@dataclass(frozen=True)
class TraceEntry:
    """One row of ``state_trace``."""

    id: int
    module_build_id: int
    component_build_id: int | None
    time: datetime
    old_state: str | None
    new_state: str
    reason: str | None


@dataclass(frozen=True)
class NewComponent:
    """A component as verified at submission, before it has an id."""

    name: str
    package: str
    repository: str
    ref: str
    scm_commit: str
    batch: int
    buildorder: int = 0
    buildafter: tuple[str, ...] = ()
    buildonly: bool = False
    source: str | None = None
    #: The component's own ``arches`` (None: the module's).
    arches: tuple[str, ...] | None = None


@dataclass(frozen=True)
class NewModuleBuild:
    """A module build as verified at submission, before it has an id."""

    name: str
    stream: str
    version: int
    context: str
    owner: str
    scmurl: str
    scm_commit: str
    branch: str | None
    modulemd: str
    build_context: str
    runtime_context: str
    buildrequires: Mapping[str, Any]
    requires: Mapping[str, Any]
    components: tuple[NewComponent, ...] = field(default=())
    rpm_macros: str | None = None
    #: ``buildopts.arches`` within ``koji.arches`` (None: ``koji.arches``);
    #: the environment step narrows them to the base module's Koji tag.
    arches: tuple[str, ...] | None = None
    #: MBS's build context without the base modules.
    build_context_no_bms: str | None = None
    scratch: bool = False
    rebuild_strategy: str = CHANGED_AND_AFTER
    #: The build the submitter named to reuse components from.
    reused_module_id: int | None = None
    srpms: tuple[str, ...] = ()

    @property
    def nsvc(self) -> str:
        """``name:stream:version:context``."""
        return f"{self.name}:{self.stream}:{self.version}:{self.context}"


def check_module_move(
    build: ModuleBuild,
    state: ModuleState,
    allowed_from: tuple[ModuleState, ...] | None = None,
) -> None:
    """Check that ``build`` may move to ``state`` (from one of ``allowed_from``).

    :raises InvalidRequest: when it may not, saying why.
    """
    if allowed_from is not None and build.state not in allowed_from:
        raise InvalidRequest(
            f"Module build {build.id} is {build.state.label}; only a build in "
            + ", ".join(s.label for s in allowed_from)
            + f" can move to {state.label}"
        )
    if not module_transition_allowed(build.state, state):
        raise InvalidRequest(
            f"Module build {build.id} is {build.state.label};"
            f" it cannot move to {state.label}"
        )


def check_component_move(component: ComponentBuild, state: ComponentState) -> None:
    """Check that ``component`` may move to ``state``.

    :raises InvalidRequest: when it may not.
    """
    if not component_transition_allowed(component.state, state):
        raise InvalidRequest(
            f"Component {component.name} is {component.state.label};"
            f" it cannot move to {state.label}"
        )


def compute_contexts(
    buildrequires: Mapping[str, str], requires: Mapping[str, Sequence[str]]
) -> tuple[str, str, str]:
    """Compute MBS's ``(build_context, runtime_context, context)``.

    ``buildrequires`` maps each buildrequired module to the stream built
    against; ``requires`` maps each required module to its streams.
    """
    build_json = json.dumps(OrderedDict(sorted(buildrequires.items())))
    runtime_json = json.dumps(
        OrderedDict(sorted((k, sorted(v)) for k, v in requires.items()))
    )
    build_context = hashlib.sha1(build_json.encode("utf-8")).hexdigest()
    runtime_context = hashlib.sha1(runtime_json.encode("utf-8")).hexdigest()
    combined = f"{build_context}:{runtime_context}".encode()
    return build_context, runtime_context, hashlib.sha1(combined).hexdigest()[:8]


def stream_version_prefix(stream: str) -> str | None:
    """The version prefix MBS derives from a base module stream.

    ``f40`` gives ``"40"`` and ``el8.1.0`` gives ``"80100"``; None when the
    stream holds no digit (MBS's ``get_stream_version(right_pad=False)``).
    """
    digits = ""
    for char in stream:
        if char.isdigit():
            digits += char
        elif digits:
            if char != ".":
                break
            digits += "."
    joined = "".join(section.zfill(2) for section in digits.split("."))
    value = int(float(joined)) if digits else 0
    return str(value) if value else None


def module_version(*, base_stream: str | None, committer_time: datetime) -> int:
    """The module version: base stream prefix + commit time ``%Y%m%d%H%M%S``.

    Without a prefix, or when prefixing would pass 2**64-1, the bare
    timestamp is used, as MBS does.
    """
    stamp = committer_time.strftime("%Y%m%d%H%M%S")
    prefix = stream_version_prefix(base_stream) if base_stream else None
    if prefix is None:
        return int(stamp)
    prefixed = int(prefix + stamp)
    return prefixed if prefixed <= MAX_UINT64 else int(stamp)


def assign_batches(
    buildorders: Mapping[str, int], buildafters: Mapping[str, Sequence[str]]
) -> dict[str, int]:
    """Give each component its batch number, starting at 2.

    With ``buildafter`` (any component has one) each component goes one
    batch after the last of those it builds after; otherwise one batch per
    distinct ``buildorder`` value, ascending.

    :raises Unprocessable: on a ``buildafter`` cycle or unknown target.
    """
    if any(buildafters.get(name) for name in buildorders):
        return _batches_from_buildafter(list(buildorders), buildafters)
    ordered = sorted(set(buildorders.values()))
    index = {value: FIRST_COMPONENT_BATCH + i for i, value in enumerate(ordered)}
    return {name: index[order] for name, order in buildorders.items()}


def _batches_from_buildafter(
    names: list[str], buildafters: Mapping[str, Sequence[str]]
) -> dict[str, int]:
    levels: dict[str, int] = {}

    def level(name: str, path: tuple[str, ...]) -> int:
        if name in path:
            cycle = " -> ".join(path[path.index(name) :] + (name,))
            raise Unprocessable(f"components.rpms: buildafter cycle {cycle}")
        if name not in levels:
            deps = buildafters.get(name, ())
            for dep in deps:
                if dep not in buildafters and dep not in names:
                    raise Unprocessable(
                        f"components.rpms.{name}.buildafter: unknown component {dep!r}"
                    )
            levels[name] = 1 + max(
                (level(dep, path + (name,)) for dep in deps), default=-1
            )
        return levels[name]

    return {name: FIRST_COMPONENT_BATCH + level(name, ()) for name in names}
