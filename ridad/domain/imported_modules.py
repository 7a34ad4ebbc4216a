"""Imported modules (MBS's ``import-module``): the rules a modulemd must
follow to be recorded as a ready build ridad did not build, and the build
recorded.

These are MBS's ``import_mmd`` checks, in its order and with its messages
(docs/mbs-resolution.md §1): ``xmd.mbs`` defaults to ``{"mse": True}``, an
empty context becomes ``00000000``, name and stream are required, a base
module's stream may hold a dash only with a ``disttag_marking`` (which may
not), ``virtual_streams`` is a list of strings, one ``dependencies`` entry
whose buildtime names are all in ``xmd.mbs.buildrequires``. A missing
``koji_tag`` is allowed: the module is metadata only. Pure: the modulemd is
read and written by ``ridad.modulemd.imported``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ridad.domain.builds import BuildSnapshot, ModuleBuild
from ridad.domain.contexts import StreamSuffixes, stream_version
from ridad.domain.modulemd import Dependencies
from ridad.domain.states import ModuleState
from ridad.errors import Unprocessable

#: MBS's ``DEFAULT_MODULE_CONTEXT``: the context of an imported module that
#: names none.
DEFAULT_CONTEXT = "00000000"


@dataclass(frozen=True)
class ImportedModule:
    """A modulemd accepted for import, with what its row records.

    ``xmd`` is the whole xmd as it is to be written (``mbs`` completed);
    ``koji_tag`` None is a metadata-only module; ``stream_version`` is set
    for base modules whose stream holds a digit.
    """

    name: str
    stream: str
    version: int
    context: str
    xmd: Mapping[str, Any]
    koji_tag: str | None
    buildrequires: Mapping[str, Any]
    requires: Mapping[str, list[str]]
    virtual_streams: tuple[str, ...]
    stream_version: float | None
    base_module: bool

    @property
    def nsvc(self) -> str:
        """``name:stream:version:context``."""
        return f"{self.name}:{self.stream}:{self.version}:{self.context}"


@dataclass(frozen=True)
class ImportedBuild:
    """What an import records: the module, its recorded modulemd, who
    imported it and from where (``scmurl`` and ``scm_commit`` are empty
    for a modulemd given in the request).

    The commit recorded is the fetched one, else the modulemd's
    ``xmd.mbs.commit``: MBS takes a buildrequired module's ``ref`` from
    there, so an import of a built module's final modulemd keeps its ref.
    """

    module: ImportedModule
    modulemd: str
    owner: str
    scmurl: str = ""
    scm_commit: str = ""

    @property
    def commit(self) -> str:
        """The fetched commit, else ``xmd.mbs.commit`` (else empty)."""
        if self.scm_commit:
            return self.scm_commit
        commit = (self.module.xmd.get("mbs") or {}).get("commit")
        return commit if isinstance(commit, str) else ""

    def columns(self) -> dict[str, Any]:
        """The ``module_builds`` columns an import writes (besides the
        state, times and the NSVC)."""
        module = self.module
        return {
            "owner": self.owner,
            "scmurl": self.scmurl,
            "scm_commit": self.commit,
            "modulemd": self.modulemd,
            "koji_tag": module.koji_tag,
            "stream_version": module.stream_version,
            "virtual_streams": list(module.virtual_streams),
            "buildrequires": dict(module.buildrequires),
            "requires": dict(module.requires),
        }

    def differs_from(self, build: ModuleBuild) -> bool:
        """Whether recording this import would change ``build``."""
        if build.state is not ModuleState.READY or not build.imported:
            return True
        current = {
            "owner": build.owner,
            "scmurl": build.scmurl,
            "scm_commit": build.scm_commit,
            "modulemd": build.modulemd,
            "koji_tag": build.koji_tag,
            "stream_version": build.stream_version,
            "virtual_streams": list(build.virtual_streams),
            "buildrequires": dict(build.buildrequires),
            "requires": dict(build.requires),
        }
        return current != self.columns()


@dataclass(frozen=True)
class ImportOutcome:
    """The build as an import left it: ``created`` (a new row) or updated;
    ``changed`` False when the row already held exactly this import."""

    build: BuildSnapshot
    created: bool
    changed: bool


def base_stream_version(stream: str, suffixes: StreamSuffixes = ()) -> float | None:
    """The right-padded stream version MBS stores for a base module's
    stream (``f29.1.0`` → 290100.0, ``el8`` → 80000.0); None when the
    stream holds no digit."""
    if not any(c.isdigit() for c in stream):
        return None
    return stream_version(stream, right_pad=True, suffixes=suffixes)


def _mbs_xmd(xmd: Any) -> dict[str, Any]:
    """The xmd with ``mbs`` present (``{"mse": True}`` when it was not: an
    ``mbs`` given is kept as it is, as MBS does)."""
    whole = copy.deepcopy(dict(xmd)) if isinstance(xmd, Mapping) else {}
    if "mbs" not in whole:
        whole["mbs"] = {"mse": True}
    if not isinstance(whole["mbs"], Mapping):
        raise Unprocessable('The xmd["mbs"] of the imported module must be a mapping')
    whole["mbs"] = dict(whole["mbs"])
    return whole


def _check_base_module(stream: str, mbs: Mapping[str, Any]) -> None:
    marking = mbs.get("disttag_marking")
    if marking is not None and not isinstance(marking, str):
        raise Unprocessable("The disttag_marking must be a string")
    if marking and "-" in marking:
        raise Unprocessable("The disttag_marking cannot contain a dash")
    if "-" in stream and not marking:
        raise Unprocessable(
            "The stream cannot contain a dash unless disttag_marking is set"
        )


def _virtual_streams(mbs: Mapping[str, Any]) -> tuple[str, ...]:
    streams = mbs.get("virtual_streams", [])
    if not isinstance(streams, list) or not all(isinstance(s, str) for s in streams):
        raise Unprocessable("The virtual streams must be a list of strings")
    return tuple(streams)


def _buildrequires(
    mbs: dict[str, Any], dependencies: Sequence[Dependencies]
) -> dict[str, Any]:
    if len(dependencies) > 1:
        raise Unprocessable(
            "The imported module's dependencies list should contain just one element"
        )
    recorded = mbs.setdefault("buildrequires", {})
    if not isinstance(recorded, Mapping):
        raise Unprocessable('The xmd["mbs"]["buildrequires"] must be a mapping')
    needed = dependencies[0].buildrequires if dependencies else {}
    if any(name not in recorded for name in needed):
        raise Unprocessable(
            "The imported module buildrequires other modules, but the metadata"
            ' in the xmd["mbs"]["buildrequires"] dictionary is missing entries'
        )
    return dict(recorded)


def _koji_tag(mbs: Mapping[str, Any]) -> str | None:
    tag = mbs.get("koji_tag")
    if tag is None or tag == "":
        return None
    if not isinstance(tag, str):
        raise Unprocessable('The xmd["mbs"]["koji_tag"] must be a string')
    return tag


def check_import(
    *,
    name: str | None,
    stream: str | None,
    version: int | None,
    context: str | None,
    xmd: Any,
    dependencies: Sequence[Dependencies],
    base_module_names: Iterable[str],
    suffixes: StreamSuffixes = (),
) -> ImportedModule:
    """Apply MBS's ``import_mmd`` rules to a modulemd's values.

    :raises Unprocessable: with MBS's message, for the first rule broken.
    """
    whole = _mbs_xmd(xmd)
    mbs = whole["mbs"]
    if not name or not stream:
        raise Unprocessable(
            "Both the name and stream must be set for the modulemd being imported."
        )
    base = name in set(base_module_names)
    if base:
        _check_base_module(stream, mbs)
    virtual = _virtual_streams(mbs)
    buildrequires = _buildrequires(mbs, dependencies)
    return ImportedModule(
        name=name,
        stream=stream,
        version=version or 0,
        context=context or DEFAULT_CONTEXT,
        xmd=whole,
        koji_tag=_koji_tag(mbs),
        buildrequires=buildrequires,
        requires={
            n: list(s)
            for n, s in (dependencies[0].requires if dependencies else {}).items()
        },
        virtual_streams=virtual,
        stream_version=base_stream_version(stream, suffixes) if base else None,
        base_module=base,
    )


def base_module_xmd(koji_tag: str, stream: str) -> dict[str, Any]:
    """The ``xmd`` of a base module made from a ``koji.base_module_tags``
    entry: its tag, MSE, no buildrequires, and the stream as its commit
    (MBS's docs: "virtual" or the stream)."""
    return {
        "mbs": {
            "buildrequires": {},
            "commit": stream,
            "koji_tag": koji_tag,
            "mse": True,
        }
    }
