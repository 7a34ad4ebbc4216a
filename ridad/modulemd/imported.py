"""Read a modulemd to import (``import-module``) and write the document
recorded for it; make the document of a base module from a
``koji.base_module_tags`` entry.

The recorded document is the imported one written again as libmodulemd
writes it, with what the import decided in it (the context, ``xmd.mbs``
completed), as MBS stores ``mmd_to_str`` of the document it changed: the
stream expansion and the buildroot read profiles, xmd and filters from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from ridad.domain.contexts import StreamSuffixes
from ridad.domain.imported_modules import (
    DEFAULT_CONTEXT,
    ImportedModule,
    base_module_xmd,
    check_import,
)
from ridad.errors import Unprocessable
from ridad.modulemd.emit import StreamV2, emit_stream_v2
from ridad.modulemd.final import document_artifacts
from ridad.modulemd.parse import load_modulemd
from ridad.modulemd.source import read_source

#: The version of a base module made from ``koji.base_module_tags``: the
#: lowest, so that any imported build of that stream is newer.
CONFIGURED_VERSION = 0


@dataclass(frozen=True)
class ImportDocument:
    """An accepted import: its facts and the modulemd text to record."""

    module: ImportedModule
    text: str


def load_import(
    text: str | bytes,
    *,
    base_module_names: Iterable[str],
    suffixes: StreamSuffixes = (),
) -> ImportDocument:
    """Validate a modulemd stream v2 document for import (blocking: run it
    away from the reactor for big documents).

    :raises Unprocessable: not a valid modulemd v2 document, or one MBS's
        import would refuse (with MBS's message).
    """
    document = load_modulemd(text)
    if document.document != "modulemd" or document.mdversion != 2:
        raise Unprocessable(
            f"an imported module must be a modulemd stream v2 document, not"
            f" {document.document} v{document.mdversion}; write the module as"
            " built (document: modulemd, version: 2)"
        )
    source = read_source(document.text)
    module = check_import(
        name=source.name,
        stream=source.stream,
        version=source.version,
        context=source.context,
        xmd=source.xmd,
        dependencies=source.dependencies,
        base_module_names=base_module_names,
        suffixes=suffixes,
    )
    written = replace(
        source,
        context=module.context,
        xmd=dict(module.xmd),
        artifacts=document_artifacts(document.text),
    )
    return ImportDocument(module=module, text=emit_stream_v2(written))


def configured_base_module(
    name: str,
    stream: str,
    koji_tag: str,
    *,
    base_module_names: Iterable[str],
    suffixes: StreamSuffixes = (),
) -> ImportDocument:
    """The base module ``name:stream`` on ``koji_tag`` (a
    ``koji.base_module_tags`` entry): version 0, context ``00000000``, no
    profiles (the buildroot groups are then ``koji.build_groups``)."""
    document = StreamV2(
        name=name,
        stream=stream,
        version=CONFIGURED_VERSION,
        context=DEFAULT_CONTEXT,
        summary=f"The base module {name}:{stream}",
        description=(
            f"The base module {name}:{stream} on the Koji tag {koji_tag},"
            " from ridad's koji.base_module_tags."
        ),
        module_licenses=("MIT",),
        xmd=base_module_xmd(koji_tag, stream),
    )
    return load_import(
        emit_stream_v2(document),
        base_module_names=base_module_names,
        suffixes=suffixes,
    )
