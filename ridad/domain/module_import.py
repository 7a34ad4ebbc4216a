"""The module's own Koji build, imported as a content generator: its NVR, the
import's states, the final modulemd documents as stored, and the build log
ridad uploads with them (the build's state trace as text).

Pure values and rules; ``ridad.scheduler.cgimport`` drives the import and
``ridad.koji.cg`` speaks to Koji.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ridad.domain.builds import ComponentBuild, ModuleBuild, TraceEntry
from ridad.domain.views import format_time

#: ``cg_state``: the final modulemd is written; CGInitBuild may have been sent.
PENDING = "pending"
#: ``cg_state``: Koji reserved ``cg_build_id`` and gave ``cg_token``.
RESERVED = "reserved"
#: ``cg_state``: the module's Koji build ``cg_build_id`` is COMPLETE.
IMPORTED = "imported"
CG_STATES = (PENDING, RESERVED, IMPORTED)

WHOLE_DOCUMENT = "modulemd.txt"
BUILD_LOG = "build.log"


@dataclass(frozen=True)
class ModuleNvr:
    """The Koji build of ``name:stream:version:context``: the name, the
    stream with ``-`` as ``_`` (Koji refuses ``-`` in a version), and
    ``version.context``, as MBS named it."""

    name: str
    version: str
    release: str

    @property
    def nvr(self) -> str:
        """``name-version-release``."""
        return f"{self.name}-{self.version}-{self.release}"


def module_koji_nvr(build: ModuleBuild) -> ModuleNvr:
    """The NVR of the module's own Koji build."""
    return ModuleNvr(
        name=build.name,
        version=build.stream.replace("-", "_"),
        release=f"{build.version}.{build.context}",
    )


@dataclass(frozen=True)
class FinalDocument:
    """One final modulemd document as stored and uploaded: ``modulemd.txt``
    (``arch`` None) or ``modulemd.<arch>.txt``."""

    filename: str
    arch: str | None
    content: str

    @property
    def output_arch(self) -> str:
        """The arch of the document in Koji's import metadata."""
        return self.arch or "noarch"


def arch_document_name(arch: str) -> str:
    """The file name of an architecture's document."""
    return f"modulemd.{arch}.txt"


def final_documents(whole: str, per_arch: Mapping[str, str]) -> list[FinalDocument]:
    """The documents of a final modulemd, the whole module's first."""
    documents = [FinalDocument(WHOLE_DOCUMENT, None, whole)]
    documents += [
        FinalDocument(arch_document_name(arch), arch, text)
        for arch, text in sorted(per_arch.items())
    ]
    return documents


@dataclass(frozen=True)
class CgReservation:
    """What ``CGInitBuild`` answered: the reserved build and its token."""

    build_id: int
    token: str = field(repr=False)


def build_log(
    build: ModuleBuild,
    components: Iterable[ComponentBuild],
    trace: Iterable[TraceEntry],
) -> str:
    """ridad's log of a module build, uploaded as the Koji build's
    ``build.log``: one line per state change of the build or a component,
    oldest first, a multi-line reason (a log tail) indented under it."""
    names = {c.id: c.name for c in components}
    lines = [f"ridad module build {build.id}: {build.nsvc}"]
    for entry in trace:
        who = (
            "module"
            if entry.component_build_id is None
            else f"component {names.get(entry.component_build_id, entry.component_build_id)}"
        )
        move = entry.new_state
        if entry.old_state is not None:
            move = f"{entry.old_state} -> {entry.new_state}"
        line = f"{format_time(entry.time)} {who} {move}"
        reason = (entry.reason or "").splitlines()
        if reason:
            line += f": {reason[0]}"
        lines.append(line)
        lines.extend(f"    {more}" for more in reason[1:])
    return "\n".join(lines) + "\n"
