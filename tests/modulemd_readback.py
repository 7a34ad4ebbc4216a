"""libmodulemd's reading of modulemd documents: the final modulemd's oracle.

Run by the system Python (``/usr/bin/python3``, which has Debian's
``python3-gi`` and ``gir1.2-modulemd-2.0``), never by the venv's: it reads a
JSON list of YAML documents on stdin and writes one JSON line per document,
in order: what libmodulemd read (name, stream, version, context, arch,
artifacts, licenses, xmd) and the document as libmodulemd writes it again,
or the error it gave.
"""

import json
import sys

import gi

gi.require_version("Modulemd", "2.0")
from gi.repository import GLib, Modulemd  # noqa: E402


def _plain(value):
    """xmd as JSON: GLib's strings, booleans, lists and dicts."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def reading(text):
    """libmodulemd's reading of one document, as a JSON-ready mapping."""
    try:
        stream = Modulemd.ModuleStream.read_string(text, True, None, None)
        stream.validate()
    except GLib.Error as error:
        return {"valid": False, "message": error.message or ""}
    index = Modulemd.ModuleIndex.new()
    index.add_module_stream(stream)
    return {
        "valid": True,
        "libmodulemd": Modulemd.get_version(),
        "name": stream.get_module_name(),
        "stream": stream.get_stream_name(),
        "version": stream.get_version(),
        "context": stream.get_context(),
        "arch": stream.get_arch(),
        "artifacts": list(stream.get_rpm_artifacts()),
        "module_licenses": list(stream.get_module_licenses()),
        "content_licenses": list(stream.get_content_licenses()),
        "rpm_filters": list(stream.get_rpm_filters()),
        "xmd": _plain(stream.get_xmd()),
        "written": index.dump_to_string(),
    }


def main():
    """Answer every document of the JSON list on stdin, one line each."""
    for text in json.load(sys.stdin):
        sys.stdout.write(json.dumps(reading(text)) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
