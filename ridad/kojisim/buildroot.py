"""The buildroot of a simulated ``build`` task, as kojid and mock set it up.

kojid builds only once the build tag has a READY repo (it waits, polling,
otherwise: without kojira or a ``newRepo`` it waits forever). The arches
are the build tag's, narrowed by the ``arch_override`` option (space
separated, Koji's CLI form). mock installs the tag's ``srpm-build`` group
to make the SRPM and the ``build`` group to build; the repo leaves out
packages blocked in the tag. kojisim keeps what it would install, in the
form of a mock config (one ``# group`` line per group, a ``# blocked`` and
an ``# arches`` line), by task (``KojiHub.buildroot``; never in an API
answer: the recorded hub's build task has no output of its own), so a test
can see the buildroot take effect.
"""

from __future__ import annotations

from typing import Any

import koji

from ridad.kojisim.inheritance import package_list, tag_groups
from ridad.kojisim.state import HubState, Repo

__all__ = ["build_arches", "mock_config", "ready_repo"]

GROUPS = ("srpm-build", "build")


def ready_repo(state: HubState, tag_id: int) -> Repo | None:
    """The newest READY (non-dist) repo of the tag, or None."""
    ready = [
        r
        for r in state.repos.values()
        if r.tag_id == tag_id and r.state == koji.REPO_STATES["READY"] and not r.dist
    ]
    return max(ready, key=lambda r: r.id) if ready else None


def build_arches(tag_arches: str | None, override: Any) -> str | None:
    """The tag's arches narrowed to ``arch_override`` (when one is given).

    :raises koji.BuildError: the override leaves no arch of the tag.
    """
    if not override:
        return tag_arches
    wanted = str(override).split()
    if tag_arches is None:
        return " ".join(wanted)
    kept = [a for a in tag_arches.split() if a in wanted or a == "noarch"]
    if not kept:
        raise koji.BuildError(
            f"No matching arches were found: {override} (tag arches: {tag_arches})"
        )
    return " ".join(kept)


def blocked_names(state: HubState, tag_id: int) -> list[str]:
    """The packages blocked in the tag (its repo leaves them out)."""
    return sorted(
        e["package_name"] for e in package_list(state, tag_id).values() if e["blocked"]
    )


def mock_config(
    state: HubState, tag_id: int, repo: Repo | None, arches: str | None
) -> str:
    """The mock config of a build in tag ``tag_id`` from ``repo`` (None: a
    hub whose builder does not wait for one)."""
    tag = state.tags[tag_id]
    by_name = {g["name"]: g for g in tag_groups(state, tag_id).values()}
    blocked = set(blocked_names(state, tag_id))
    lines = [
        f"# kojisim buildroot: tag {tag.name}, repo"
        + (f" {repo.id} (event {repo.create_event})" if repo else " none"),
        "config_opts['chroot_setup_cmd'] = 'install @build'",
        f"# arches: {arches or ''}",
    ]
    for group in GROUPS:
        names = sorted(
            p["package"]
            for p in by_name.get(group, {}).get("packagelist", [])
            if p["package"] not in blocked
        )
        lines.append(f"# group {group}: {' '.join(names)}")
    lines.append(f"# blocked: {' '.join(sorted(blocked))}")
    return "\n".join(lines) + "\n"
