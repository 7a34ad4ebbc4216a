"""Pure rules of building a module in Koji: names, sources, which
components may be submitted, when the buildroot needs a new repo, and when
the module is finished."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from ridad.domain.builds import MACROS_BATCH, ComponentBuild, ModuleBuild
from ridad.domain.states import ComponentState
from ridad.domain.task_logs import first_line

MAX_TAG_LENGTH = 256
BUILD_TAG_SUFFIX = "-build"
MACROS_PACKAGE = "module-build-macros"
UNFINISHED = (ComponentState.WAITING, ComponentState.BUILDING)
SCM_SOURCE_SCHEMES = {
    "git": "git",
    "https": "git+https",
    "http": "git+http",
    "git+https": "git+https",
    "file": "git+file",
}


def koji_tag_name(
    name: str,
    stream: str,
    version: int,
    context: str,
    *,
    scratch: bool = False,
    scratch_id: int = 0,
) -> str:
    """The module's Koji tag: ``module-<n>-<s>-<v>-<c>``, as MBS names it.

    A scratch build's is ``scrmod-<n>-<s>-<v>-<c>+<scratch_id>`` (its build
    id), so the same commit can be tried again. When the tag or its
    ``-build`` twin would pass Koji's 256 characters, MBS's hash form
    ``<prefix><first 16 hex of sha1("n.s.v.c")>`` is used.
    """
    prefix, suffix = ("scrmod-", f"+{scratch_id}") if scratch else ("module-", "")
    tag = f"{prefix}{name}-{stream}-{version}-{context}{suffix}"
    if len(tag) + len(BUILD_TAG_SUFFIX) <= MAX_TAG_LENGTH:
        return tag
    digest = hashlib.sha1(f"{name}.{stream}.{version}.{context}".encode()).hexdigest()
    return f"{prefix}{digest[:16]}{suffix}"


def build_tag_name(koji_tag: str) -> str:
    """The ``-build`` tag whose repo is the buildroot."""
    return koji_tag + BUILD_TAG_SUFFIX


def scm_source(repository: str, commit: str) -> str:
    """A component source in a form Koji's builders accept.

    ``git://`` stays, ``https://`` becomes ``git+https://`` (and ``file://``
    becomes ``git+file://``, which only kojisim accepts), then ``?#<commit>``.

    :raises ValueError: for a scheme Koji cannot build from.
    """
    scheme, _, rest = repository.partition("://")
    koji_scheme = SCM_SOURCE_SCHEMES.get(scheme)
    if koji_scheme is None or not rest:
        raise ValueError(f"Koji cannot build from {repository!r}")
    return f"{koji_scheme}://{rest}?#{commit}"


def dependencies(components: Sequence[ComponentBuild]) -> dict[int, set[int]]:
    """What each component must find in the buildroot before it builds.

    Every component needs module-build-macros (batch 1). With ``buildafter``
    a component needs what it names; otherwise everything in lower batches.
    """
    by_name = {c.name: c for c in components}
    uses_buildafter = any(c.buildafter for c in components)
    needs: dict[int, set[int]] = {}
    for c in components:
        if c.batch == MACROS_BATCH:
            needs[c.id] = set()
        elif uses_buildafter:
            needs[c.id] = {by_name[n].id for n in c.buildafter if n in by_name}
            needs[c.id] |= {m.id for m in components if m.batch == MACROS_BATCH}
        else:
            needs[c.id] = {m.id for m in components if m.batch < c.batch}
    return needs


def _in_buildroot(component: ComponentBuild, build: ModuleBuild) -> bool:
    return (
        component.state is ComponentState.COMPLETE
        and component.tagged
        and component.tag_event is not None
        and build.repo_event is not None
        and component.tag_event <= build.repo_event
    )


def submittable(
    build: ModuleBuild, components: Sequence[ComponentBuild]
) -> list[ComponentBuild]:
    """Waiting components whose dependencies are all in the buildroot's repo.

    Ordered by batch, then name.
    """
    by_id = {c.id: c for c in components}
    needs = dependencies(components)
    ready = [
        c
        for c in components
        if c.state is ComponentState.WAITING
        and c.submitted_at is None
        and all(_in_buildroot(by_id[d], build) for d in needs[c.id])
    ]
    return sorted(ready, key=lambda c: (c.batch, c.name))


def repo_needed_event(
    build: ModuleBuild, components: Sequence[ComponentBuild]
) -> int | None:
    """The Koji event a new buildroot repo must include, or None.

    A repo is needed when some waiting component has all its dependencies
    built and tagged, but the newest repo predates one of those taggings.
    Never after the last batch: only waiting components ask for one.
    The first repo is needed as soon as module-build-macros is submitted
    (event 0: any repo will do), as MBS does: kojid builds only in a
    buildroot with a repo.
    """
    if build.repo_event is None and any(
        c.batch == MACROS_BATCH
        and (
            c.state is ComponentState.BUILDING
            or (c.state is ComponentState.WAITING and c.submitted_at is not None)
        )
        for c in components
    ):
        return 0
    by_id = {c.id: c for c in components}
    needs = dependencies(components)
    wanted: int | None = None
    for c in components:
        if c.state is not ComponentState.WAITING or not needs[c.id]:
            continue
        deps = [by_id[d] for d in needs[c.id]]
        if not all(
            d.state is ComponentState.COMPLETE and d.tagged and d.tag_event is not None
            for d in deps
        ):
            continue
        latest = max(d.tag_event for d in deps if d.tag_event is not None)
        if build.repo_event is None or latest > build.repo_event:
            wanted = latest if wanted is None else max(wanted, latest)
    return wanted


@dataclass(frozen=True)
class Outcome:
    """How a module build stands: still going, done, or failed (and why)."""

    finished: bool
    failed_reason: str | None = None


def metadata_only(components: Sequence[ComponentBuild]) -> bool:
    """Whether a module build has no components at all: its modulemd lists
    no rpm components (and so it gets no module-build-macros either). As
    MBS's ``wait`` does ("There are no components in module ..., skipping
    build"), such a build gets its tags and target, builds nothing, asks for
    no repo, and goes straight to the import of its modulemd."""
    return not components


def outcome(components: Sequence[ComponentBuild]) -> Outcome:
    """Done when every component is complete and tagged (at once for a
    metadata-only build, which has none); failed as soon as one failed or
    was canceled (named with its task id and the first line of its reason:
    the log under it stays the component's)."""
    for c in sorted(components, key=lambda c: (c.batch, c.name)):
        if c.state in (ComponentState.FAILED, ComponentState.CANCELED):
            verb = "failed" if c.state is ComponentState.FAILED else "was canceled"
            detail = f": {first_line(c.state_reason)}" if c.state_reason else ""
            return Outcome(
                finished=True,
                failed_reason=(
                    f"Component {c.name} {verb} in Koji task {c.task_id}{detail}"
                ),
            )
    finished = all(c.state is ComponentState.COMPLETE and c.tagged for c in components)
    return Outcome(finished=finished)
