"""The final modulemd documents in both APIs: the query of a document
request and the 404 of a document a build lacks."""

from __future__ import annotations

from collections.abc import Mapping

from ridad.domain.module_documents import ARCH_NAME, ModuleDocuments
from ridad.errors import InvalidRequest, NotFound


def refuse_query(problems: dict[str, str]) -> None:
    """:raises InvalidRequest: listing ``problems``, when there are any."""
    if problems:
        listing = ", ".join(f"{k}: {v}" for k, v in sorted(problems.items()))
        raise InvalidRequest(f"bad query ({listing})", details={"parameters": problems})


def parse_no_query(args: Mapping[str, list[str]]) -> None:
    """Check the query of a request that takes no arguments.

    :raises InvalidRequest: naming every argument given.
    """
    refuse_query({k: "unknown parameter; this takes none" for k in args})


def parse_document_query(args: Mapping[str, list[str]]) -> str | None:
    """The ``arch`` of a modulemd request (None: the whole module).

    :raises InvalidRequest: unknown parameters, or an arch given twice or
        that is no architecture name.
    """
    problems = {k: "unknown parameter" for k in args if k != "arch"}
    values = args.get("arch", [])
    if len(values) > 1:
        problems["arch"] = "give it once"
    elif values and not ARCH_NAME.fullmatch(values[0]):
        problems["arch"] = (
            "must be an architecture name such as x86_64 (letters, digits, _)"
        )
    refuse_query(problems)
    return values[0] if values else None


def missing_document(documents: ModuleDocuments, arch: str | None) -> NotFound:
    """The 404 of a document a build lacks: none written yet (with the
    build's state), or not for this arch (naming the arches there are)."""
    if not documents.written:
        return NotFound(
            documents.missing_message(), details={"state": documents.state.label}
        )
    return NotFound(
        documents.unknown_arch_message(arch),
        details={"arches": list(documents.arches)},
    )
