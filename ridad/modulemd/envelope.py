"""The document envelope: ``document``, ``version`` and ``data``.

ridad accepts exactly one document of type ``modulemd`` (alias
``modulemd-stream``) version 1 or 2, or ``modulemd-packager`` version 2.
Any other type or version is refused with a message naming what was found.
Unknown root keys are problems wherever they appear (libmodulemd ignores
the ones after ``data``; ridad deliberately does not).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from ridad.modulemd.problems import Location, Problem, ProblemLog, unprocessable
from ridad.modulemd.scalars import read_uint64
from ridad.modulemd.yamltree import YamlMapping, YamlNode, YamlScalar, kind_of

#: The (document, version) pairs ridad builds from.
SUPPORTED = frozenset({("modulemd", 1), ("modulemd", 2), ("modulemd-packager", 2)})

_ALIASES = {"modulemd-stream": "modulemd"}
_KNOWN_TYPES = frozenset(
    {
        "modulemd",
        "modulemd-packager",
        "modulemd-defaults",
        "modulemd-obsoletes",
        "modulemd-translations",
    }
)
_SUBMIT = "submit a modulemd stream v1/v2 or packager v2 document"
_ROOT_KEYS = ("document", "version", "data")


@dataclass(frozen=True)
class Envelope:
    """A supported document's type, metadata version and data section.

    ``document`` is normalised: ``modulemd-stream`` becomes ``modulemd``.
    """

    document: str
    mdversion: int
    data: YamlMapping


def _refuse(path: str, location: Location, message: str) -> NoReturn:
    """Raise the Unprocessable for one envelope problem."""
    raise unprocessable([Problem(path, location, message)], with_path=False)


def describe(root: YamlNode) -> str:
    """Name a document's type and version for messages, as far as known.

    :return: e.g. ``"modulemd-defaults version 1"``.
    """
    if not isinstance(root, YamlMapping):
        return f"{kind_of(root)} (not a mapping)"
    document = root.get("document")
    version = root.get("version")
    name = document.value if isinstance(document, YamlScalar) else "untyped"
    if isinstance(version, YamlScalar):
        return f"{name} version {version.value}"
    return f"{name} without a version"


def _read_type(root: YamlMapping) -> str:
    """Read and check ``document``, raising if it is missing or unknown."""
    node = root.get("document")
    if node is None:
        _refuse(
            "document",
            root.location,
            f"the document has no 'document' key naming its type; {_SUBMIT}",
        )
    if not isinstance(node, YamlScalar):
        _refuse(
            "document",
            node.location,
            f"'document' must be a string, not {kind_of(node)}",
        )
    name = _ALIASES.get(node.value, node.value)
    if name not in _KNOWN_TYPES:
        _refuse(
            "document",
            node.location,
            f"unknown document type {node.value!r}; {_SUBMIT}",
        )
    return name


def _read_version(root: YamlMapping, document: str) -> int:
    """Read ``version`` as uint64, raising if it is missing or malformed."""
    node = root.get("version")
    if node is None:
        _refuse(
            "version",
            root.location,
            f"the {document} document has no 'version' key (its metadata version)",
        )
    log = ProblemLog()
    version = read_uint64(node, "version", log)
    if version is None:
        problem = log.problems[0]
        _refuse(
            "version",
            problem.location,
            f"the {document} metadata version is invalid: {problem.message}",
        )
    return version


def read_envelope(root: YamlNode, log: ProblemLog) -> Envelope:
    """Check the envelope of a single document and find its data section.

    Unknown root keys are logged; everything else that is wrong raises.

    :return: the supported document's envelope.
    :raises Unprocessable: when the root is not a mapping, the type or
        version is missing, unknown or unsupported, or ``data`` is missing
        or not a mapping.
    """
    if not isinstance(root, YamlMapping):
        _refuse(
            "",
            root.location,
            f"the document is {kind_of(root)}, not a mapping; {_SUBMIT}",
        )
    document = _read_type(root)
    version = _read_version(root, document)
    if (document, version) not in SUPPORTED:
        where = (root.get("version") or root).location
        _refuse(
            "version",
            where,
            f"{document} version {version} is not supported; {_SUBMIT}",
        )
    for key, _value in root.entries:
        if key.value not in _ROOT_KEYS:
            log.add(
                key.value,
                key.location,
                f"unknown top-level key"
                f" {key.value!r} (expected only: document, version, data)",
            )
    data = root.get("data")
    if data is None:
        _refuse("data", root.location, f"the {document} document has no 'data' section")
    if not isinstance(data, YamlMapping):
        _refuse(
            "data", data.location, f"the data section is {kind_of(data)}, not a mapping"
        )
    return Envelope(document, version, data)
