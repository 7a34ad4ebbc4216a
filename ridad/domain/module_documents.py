"""The final modulemd documents of a build as the APIs serve them: which
documents a build has (``modulemd.txt``, the whole module, and one
``modulemd.<arch>.txt`` per architecture) and the texts a request asked for.

The documents are written once, when the content-generator import is
prepared (``final_modulemds``, migration 007), and served byte for byte as
they were uploaded to Koji.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ridad.domain.states import ModuleState

#: The file name of the whole module's document, as in Koji.
WHOLE_MODULE = "modulemd.txt"
#: What an architecture's name may be (Koji's: x86_64, aarch64, ppc64le, ...).
ARCH_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")


def document_filename(arch: str | None) -> str:
    """``modulemd.txt`` (``arch`` None) or ``modulemd.<arch>.txt``."""
    return WHOLE_MODULE if arch is None else f"modulemd.{arch}.txt"


@dataclass(frozen=True)
class ModuleDocuments:
    """What one read found of a build's final modulemd.

    ``arches`` are those of the per-architecture documents (sorted);
    ``texts`` holds, by arch (None: ``modulemd.txt``), the documents the
    read asked for that exist.
    """

    module_build_id: int
    state: ModuleState
    has_whole: bool = False
    arches: tuple[str, ...] = ()
    texts: Mapping[str | None, str] = field(default_factory=dict)

    @property
    def written(self) -> bool:
        """Whether the final modulemd exists yet."""
        return self.has_whole or bool(self.arches)

    def missing_message(self) -> str:
        """Why there is no final modulemd, by where the build stands."""
        build, state = f"Module build {self.module_build_id}", self.state.label
        if self.state in (ModuleState.FAILED, ModuleState.GARBAGE):
            return f"{build} has no final modulemd: it ended ({state}) before one was written"
        if self.state in (ModuleState.DONE, ModuleState.READY):
            return (
                f"{build} has no final modulemd: it is {state} but was built"
                " before ridad wrote final modulemds"
            )
        return (
            f"{build} has no final modulemd yet: it is in {state}; the final"
            " modulemd is written once every component is built and tagged"
        )

    def unknown_arch_message(self, arch: str | None) -> str:
        """Why the document of ``arch`` (None: ``modulemd.txt``) is missing
        from a build that has some, naming the arches it has."""
        build = f"Module build {self.module_build_id}"
        listed = ", ".join(self.arches) or "none"
        if arch is None:
            return f"{build} has no {WHOLE_MODULE}; its arches are: {listed}"
        return (
            f"{build} has no modulemd for arch {arch}; its arches are: {listed}"
            " (leave out arch for the whole module)"
        )
