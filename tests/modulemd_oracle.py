"""libmodulemd's verdict on modulemd documents: the differential test's oracle.

Run by the system Python (``/usr/bin/python3``, which has Debian's
``python3-gi`` and ``gir1.2-modulemd-2.0``), never by the venv's: it reads a
JSON list of YAML documents on stdin and writes one JSON line per document,
in order and flushed, ``{"valid": bool, "message": str}``. A document that
crashes libmodulemd ends the process; the caller sees how many lines it got.

The verdict is libmodulemd's strict single-stream reading, as the corpus
README records it: ``ModuleStream.read_string(strict=True)`` then
``validate()``.
"""

import json
import sys

import gi

gi.require_version("Modulemd", "2.0")
from gi.repository import GLib, Modulemd  # noqa: E402


def verdict(text):
    """libmodulemd's verdict on one document, as a JSON-ready mapping."""
    try:
        stream = Modulemd.ModuleStream.read_string(text, True, None, None)
        stream.validate()
    except GLib.Error as error:
        return {"valid": False, "message": error.message or ""}
    return {"valid": True, "message": ""}


def main():
    """Answer every document of the JSON list on stdin, one line each."""
    documents = json.load(sys.stdin)
    for text in documents:
        sys.stdout.write(json.dumps(verdict(text)) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
