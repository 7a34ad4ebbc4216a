"""What tells the MSE siblings of one submission apart: version, context
and the modulemd each records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ridad.api.build_choices import BuildChoices
from ridad.api.module_source import ModuleSource
from ridad.domain.builds import NewComponent, NewModuleBuild, module_version
from ridad.domain.modulemd import ModuleStreamDocument
from ridad.domain.mse import Expansion, same_entry
from ridad.modulemd.siblings import with_dependencies


def sibling_version(expansion: Expansion, committed: datetime) -> int:
    """A sibling's version: its base module's prefix and the commit time."""
    return module_version(base_stream=expansion.base_stream, committer_time=committed)


def sibling_context(
    document: ModuleStreamDocument,
    expansion: Expansion,
    expansions: Sequence[Expansion],
) -> str:
    """The sibling's context: a static context when the modulemd has one
    and it expands into one build, else MBS's hash."""
    if document.static_context and document.context and len(expansions) == 1:
        return document.context
    return expansion.context


def sibling_text(document: ModuleStreamDocument, expansion: Expansion) -> str:
    """The modulemd a sibling records: as submitted, unless expansion wrote
    its dependencies (then with the one entry it was built from)."""
    entries = document.dependencies
    if len(entries) == 1 and same_entry(entries[0], expansion.dependencies):
        return document.text
    return with_dependencies(document.text, expansion.dependencies)


def new_sibling(
    owner: str,
    source: ModuleSource,
    components: tuple[NewComponent, ...],
    arches: tuple[str, ...] | None,
    choices: BuildChoices,
    nsvc: tuple[str, str, int, str],
    expansion: Expansion,
    modulemd: str,
) -> NewModuleBuild:
    """One MSE sibling of a verified submission, as it is to be recorded."""
    name, stream, version, context = nsvc
    return NewModuleBuild(
        name=name,
        stream=stream,
        version=version,
        context=context,
        owner=owner,
        scmurl=source.scmurl,
        scm_commit=source.commit,
        branch=source.branch,
        modulemd=modulemd,
        build_context=expansion.contexts.build_context,
        runtime_context=expansion.contexts.runtime_context,
        buildrequires=expansion.buildrequires,
        requires={k: list(v) for k, v in expansion.dependencies.requires.items()},
        components=components,
        rpm_macros=source.document.rpm_macros,
        arches=arches,
        build_context_no_bms=expansion.contexts.build_context_no_bms,
        scratch=choices.scratch,
        rebuild_strategy=choices.rebuild_strategy,
        reused_module_id=choices.reused_module_id,
        srpms=choices.srpms,
    )
