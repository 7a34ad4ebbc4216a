"""Stream versions and the four context hashes, computed as MBS computes them.

The same module built against the same dependencies must get the same NSVC
under ridad and under MBS, so these are MBS's published formulas
(``ModuleBuild.get_stream_version`` and ``contexts_from_mmd``), not ridad's
own choices: SHA-1 over ``json.dumps`` of sorted mappings with the default
separators.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ridad.domain.modulemd import Dependencies

#: ``(regex, suffix)`` pairs, MBS's ``STREAM_SUFFIXES``: the first regex that
#: matches the start of the stream adds its suffix (``el8.z`` → 80000.2).
StreamSuffixes = Sequence[tuple[str, float]]


def stream_version(
    stream: str, *, right_pad: bool = True, suffixes: StreamSuffixes = ()
) -> float:
    """The stream version MBS derives from a base module stream.

    The digits and dots from the first digit on, each dot-separated part
    padded to two digits: ``f29.1.0`` → 290100.0, ``el8`` → 80000.0 (or 8.0
    without ``right_pad``, which is the version prefix and the libsolv
    version). A stream without digits gives 0.0, as MBS's code does (an
    empty part is padded to ``00`` too), which every use treats as "no
    version".
    """
    digits = ""
    for char in stream:
        if char.isdigit():
            digits += char
        elif digits:
            if char != ".":
                break
            digits += "."
    joined = "".join(part.zfill(2) for part in digits.rstrip(".").split("."))
    if right_pad:
        joined += "0" * (6 - len(joined))
    result = float(joined)
    for pattern, suffix in suffixes:
        if re.match(pattern, stream):
            return result + suffix
    return result


def is_versioned_stream(stream: str, suffixes: StreamSuffixes = ()) -> bool:
    """True when ``stream`` is of the ``x.y.z`` form MBS orders by version.

    MBS's test: the unpadded stream version, written as Python writes a
    float, has at least five characters (``el8.1.0`` → ``80100.0`` is,
    ``f29`` → ``29.0`` is not, and neither is a stream without digits).
    """
    return len(str(stream_version(stream, right_pad=False, suffixes=suffixes))) >= 5


@dataclass(frozen=True)
class Contexts:
    """The hashes MBS stores for each module build; ``context`` is the NSVC's C.

    ``build_context_no_bms`` leaves the base modules out; MBS stores it and
    shows it nowhere, ridad keeps it for the same queries.
    """

    build_context: str
    runtime_context: str
    context: str
    build_context_no_bms: str


def build_context(
    buildrequire_streams: Mapping[str, str], leave_out: Iterable[str] = ()
) -> str:
    """SHA-1 of ``{name: stream}`` of every resolved buildrequire, sorted.

    ``buildrequire_streams`` is the whole ``xmd.mbs.buildrequires`` (the
    base module and the transitive requires included), as MBS hashes it.
    """
    skipped = set(leave_out)
    kept = {n: s for n, s in buildrequire_streams.items() if n not in skipped}
    text = json.dumps(OrderedDict(sorted(kept.items())))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def runtime_context(dependencies: Sequence[Dependencies]) -> str:
    """SHA-1 of ``{name: sorted streams}``, the union over every entry.

    The streams are the strings written (``[]`` stays empty, ``-f27``
    stays), as MBS reads them from the expanded modulemd.
    """
    union: dict[str, set[str]] = {}
    for entry in dependencies:
        for name, streams in entry.requires.items():
            union.setdefault(name, set()).update(streams)
    ordered = OrderedDict(sorted((n, sorted(s)) for n, s in union.items()))
    return hashlib.sha1(json.dumps(ordered).encode("utf-8")).hexdigest()


def module_context(build: str, runtime: str) -> str:
    """The first 8 hex digits of SHA-1 of ``"<build>:<runtime>"``."""
    return hashlib.sha1(f"{build}:{runtime}".encode()).hexdigest()[:8]


def contexts(
    buildrequire_streams: Mapping[str, str],
    dependencies: Sequence[Dependencies],
    base_module_names: Iterable[str],
) -> Contexts:
    """All four hashes of one expanded module build (MBS's ``contexts_from_mmd``)."""
    build = build_context(buildrequire_streams)
    runtime = runtime_context(dependencies)
    return Contexts(
        build_context=build,
        runtime_context=runtime,
        context=module_context(build, runtime),
        build_context_no_bms=build_context(buildrequire_streams, base_module_names),
    )
