"""``xmd.mbs``: what Module Build Service records about a build in its modulemd.

Tools written for MBS (its resolvers, ODCS, Pungi, fedpkg) read these keys
from a module's modulemd, so ridad writes them with MBS's names and shapes:

- ``buildrequires``: per buildrequired module its resolved ``stream``,
  ``version``, ``context``, ``koji_tag``, ``ref`` (the module's commit) and
  ``filtered_rpms`` (the NVRs that module filters out);
- ``requires``: per required module its ``stream``, with the resolved fields
  too when the build also buildrequires that stream;
- ``rpms``: per component, ``ref``: the commit it was built from;
- ``scmurl`` as submitted, ``commit`` its full commit hash, and ``mse``:
  TRUE, the mark MBS puts on every build whose streams it resolved (ridad
  resolves every build's streams, one stream per dependency).

Values ridad does not know (a base module's version, context and ref; a
buildrequirement's commit, which submission does not record) are empty
strings: xmd holds strings, never nulls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ridad.domain.builds import ComponentBuild, ModuleBuild
from ridad.domain.scheduling import MACROS_PACKAGE

#: The fields of one ``buildrequires`` entry, each a string.
_RESOLVED_FIELDS = ("stream", "version", "context", "koji_tag", "ref")


def _text(value: Any) -> str:
    """A resolved field as xmd holds it: a string, empty when unknown."""
    return "" if value is None else str(value)


def _resolved(info: Mapping[str, Any]) -> dict[str, Any]:
    """One buildrequired module as MBS records it."""
    entry: dict[str, Any] = {key: _text(info.get(key)) for key in _RESOLVED_FIELDS}
    entry["filtered_rpms"] = [str(nvr) for nvr in info.get("filtered_rpms") or ()]
    return entry


def _requires(build: ModuleBuild) -> dict[str, Any]:
    """The required modules: a stream each, resolved when also buildrequired."""
    requires: dict[str, Any] = {}
    for name, streams in build.requires.items():
        stream = streams[0] if streams else ""
        info = build.buildrequires.get(name)
        if info is not None and info.get("stream") == stream:
            requires[name] = _resolved(info)
        else:
            requires[name] = {"stream": _text(stream)}
    return requires


def mbs_xmd(build: ModuleBuild, components: Sequence[ComponentBuild]) -> dict[str, Any]:
    """The ``xmd.mbs`` mapping of a built module.

    The module-build-macros component is not in ``rpms``: it is not in the
    modulemd, and MBS lists only the modulemd's components.

    :return: the mapping, ready to be written as xmd.
    """
    return {
        "buildrequires": {
            name: _resolved(info) for name, info in build.buildrequires.items()
        },
        "commit": build.scm_commit,
        "mse": True,
        "requires": _requires(build),
        "rpms": {
            c.name: {"ref": c.scm_commit}
            for c in components
            if c.name != MACROS_PACKAGE
        },
        "scmurl": build.scmurl,
    }
