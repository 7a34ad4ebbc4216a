"""Parse and validate one modulemd document: ``load_modulemd``.

The entry point of the modulemd layer. It accepts exactly one YAML
document of type ``modulemd`` v1/v2 (alias ``modulemd-stream``) or
``modulemd-packager`` v2, applies libmodulemd's strict rules plus two
deliberate extra ones (a duplicate key anywhere, and an unknown root key
after ``data``, are errors), and returns the domain value. Every failure,
for any input, is an ``Unprocessable``. The cyclic garbage collector is
paused while a document is read (``ridad.modulemd.collector``).
"""

from __future__ import annotations

from ridad.domain.modulemd import ModuleStreamDocument
from ridad.errors import Unprocessable
from ridad.modulemd.collector import collector_paused
from ridad.modulemd.envelope import describe, read_envelope
from ridad.modulemd.problems import Location, Problem, ProblemLog, unprocessable
from ridad.modulemd.stream import read_stream
from ridad.modulemd.yamltree import YamlDocument, YamlStream, read_yaml_stream


def _decode(text: str | bytes) -> str:
    """Decode bytes as UTF-8.

    :raises Unprocessable: when the bytes are not UTF-8.
    """
    if isinstance(text, str):
        return text
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as error:
        prefix = text[: error.start]
        line = prefix.count(b"\n") + 1
        column = error.start - (prefix.rfind(b"\n") + 1) + 1
        problem = Problem(
            "",
            Location(line, column),
            f"the file is not UTF-8 text (byte 0x{text[error.start]:02x} at"
            f" offset {error.start})",
        )
        raise unprocessable([problem]) from None


def _single_document(stream: YamlStream) -> YamlDocument:
    """Pick the one document of the stream.

    :raises Unprocessable: on a YAML failure, or for zero or several
        documents (the ones after the first are never parsed).
    """
    documents = stream.documents
    failure = stream.failure
    if failure is not None:
        where = ""
        if documents:
            where = f" after its first document ({describe(documents[0].root)})"
        message = f"the file is not valid YAML{where}: {failure.message}"
        raise unprocessable([Problem("", failure.location, message)])
    if not documents:
        raise unprocessable(
            [Problem("", Location(1, 1), "the file holds no YAML document")]
        )
    more = stream.more
    if more is not None:
        message = (
            f"the file holds {more.count} YAML documents (the first is"
            f" {describe(documents[0].root)}; the others were not read);"
            " submit exactly one"
        )
        raise unprocessable([Problem("", more.location, message)])
    return documents[0]


def load_modulemd(text: str | bytes) -> ModuleStreamDocument:
    """Parse and validate one modulemd stream v1/v2 or packager v2 document.

    :return: the document's values; ``text`` is the decoded input.
    :raises Unprocessable: for anything else: not UTF-8, not YAML, not
        exactly one document, another document type or version, or an
        invalid document. ``details["errors"]`` lists every problem found,
        each with ``path``, ``line``, ``column`` and ``message``.
    """
    decoded = _decode(text)
    log = ProblemLog()
    with collector_paused():
        document = _single_document(read_yaml_stream(decoded, log=log))
        envelope = read_envelope(document.root, log)
        result = read_stream(envelope, decoded, log)
    log.raise_if_any()
    if result is None:  # pragma: no cover - read_stream logs why
        raise Unprocessable(f"invalid {describe(document.root)} document")
    return result
