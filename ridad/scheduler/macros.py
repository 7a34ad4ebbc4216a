"""The module-build-macros SRPM, built first in every module build.

Its only file, ``%{_rpmmacrodir}/macros.zz-modules``, is read after the
distribution's macro files (hence ``zz``), so installed in the buildroot it
overrides ``%dist`` and defines the module macros (``%modularitylabel``,
``%_module_build`` ...) followed by the modulemd's ``buildopts.rpms.macros``
verbatim, as MBS does.

The macros file travels in the SRPM as ``Source1`` and ``%install`` copies
it, instead of being written into the spec: rpmbuild expands macros while it
parses a spec, so packager-supplied text in the spec would run ``%(...)``
shell commands on the ridad host. Here it is only expanded inside the
buildroot, where it belongs.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from twisted.logger import Logger

from ridad.errors import RidadError
from ridad.process import run_process

__all__ = [
    "MACROS_PACKAGE",
    "MacrosSrpm",
    "build_macros_srpm",
    "macros_text",
    "module_dist",
    "spec_text",
]

#: The name, version and release of the macros package.
MACROS_PACKAGE = "module-build-macros"
_VERSION = "0.1"
_RELEASE = "1"
_SOURCE_NAME = "macros.modules"

#: Characters a name, stream, context or base stream must not contain: they
#: would break a macro line, the release field or the spec.
_FORBIDDEN = re.compile(r"[\s%]")

#: How much of rpmbuild's stderr a failure message quotes.
_STDERR_TAIL_CHARS = 2000

log = Logger()


@dataclass(frozen=True)
class MacrosSrpm:
    """A built module-build-macros SRPM: its file name, bytes, NVR and %dist."""

    filename: str
    content: bytes
    nvr: str
    dist: str


def module_dist(
    name: str,
    stream: str,
    version: int,
    context: str,
    module_build_id: int,
    base_stream: str | None,
    *,
    scratch: bool = False,
) -> str:
    """Return the RPM ``%dist`` of a module build, in MBS's form.

    ``.module+<marking>+<index>+<hash>``, where ``<index>`` is
    ``module_build_id`` (MBS passes the lowest id of the build's MSE
    siblings, so siblings share it), ``<hash>`` is the first 8 hex digits
    of SHA-1 of ``"name.stream.version.context"`` and ``<marking>`` is the
    buildrequired base module's ``disttag_marking`` or stream, with ``-``
    replaced by ``_`` (a release may not contain ``-``). Without a base
    module the marking and its ``+`` are left out, as MBS does:
    ``.module+<index>+<hash>``. A scratch build's prefix is ``scrmod``.

    :raises RidadError: a part contains whitespace or ``%``.
    """
    _check_parts(name=name, stream=stream, context=context, base_stream=base_stream)
    nsvc = f"{name}.{stream}.{version}.{context}".encode()
    digest = hashlib.sha1(nsvc, usedforsecurity=False).hexdigest()[:8]
    marking = "" if base_stream is None else base_stream.replace("-", "_") + "+"
    prefix = "scrmod" if scratch else "module"
    return f".{prefix}+{marking}{module_build_id}+{digest}"


def macros_text(
    *,
    name: str,
    stream: str,
    version: int,
    context: str,
    module_build_id: int,
    base_stream: str | None,
    rpm_macros: str | None,
    dist: str | None = None,
) -> str:
    """Return the content of ``macros.zz-modules`` for a module build.

    The module macros come first, then ``rpm_macros`` (the modulemd's
    ``buildopts.rpms.macros``) verbatim. ``dist`` is the ``%dist`` when the
    caller computed it (``module_dist`` with the build's own id otherwise).

    :raises RidadError: a part contains whitespace or ``%``.
    """
    if dist is None:
        dist = module_dist(name, stream, version, context, module_build_id, base_stream)
    lines = [
        "# Module macros, set by ridad",
        "",
        f"%dist {dist}",
        f"%modularitylabel {name}:{stream}:{version}:{context}",
        "%_module_build 1",
        f"%_module_name {name}",
        f"%_module_stream {stream}",
        f"%_module_version {version}",
        f"%_module_context {context}",
        "",
        "# Macros from the modulemd (buildopts.rpms.macros)",
        "",
    ]
    text = "\n".join(lines) + "\n"
    if rpm_macros:
        text += rpm_macros if rpm_macros.endswith("\n") else rpm_macros + "\n"
    return text


def spec_text(
    *, module_build_id: int, nsvc: str, changelog_seconds: float, conflicts: str = ""
) -> str:
    """Return the spec of the macros package; ``%dist`` comes from the command line.

    ``changelog_seconds`` (seconds since the epoch) dates the changelog entry;
    ``conflicts`` are the ``Conflicts:`` lines for the RPMs buildrequired
    modules filter (``ridad.domain.buildroot.conflicts_text``), so they
    cannot enter the buildroot.

    :raises RidadError: ``nsvc`` contains whitespace or ``%``.
    """
    if _FORBIDDEN.search(nsvc):
        raise RidadError(f"Cannot build module macros for {nsvc!r}")
    day = time.strftime("%a %b %d %Y", time.gmtime(changelog_seconds))
    return f"""\
Name:       {MACROS_PACKAGE}
Version:    {_VERSION}
Release:    {_RELEASE}%{{?dist}}
Summary:    Macros for building the RPMs of one module build
License:    MIT
BuildArch:  noarch
Source1:    {_SOURCE_NAME}
{conflicts}
%description
The RPM macros of module build {module_build_id} ({nsvc}): %%dist,
%%modularitylabel, the %%_module_* macros and the modulemd's buildopts
macros. It belongs in that module build's buildroot only; never install it
on a system.

%prep

%build

%install
mkdir -p %{{buildroot}}%{{_rpmmacrodir}}
install -p -m 0644 %{{SOURCE1}} %{{buildroot}}%{{_rpmmacrodir}}/macros.zz-modules

%files
%{{_rpmmacrodir}}/macros.zz-modules

%changelog
* {day} ridad - {_VERSION}-{_RELEASE}
- Generated for module build {module_build_id} ({nsvc})
"""


async def build_macros_srpm(
    *,
    reactor: Any,
    work_dir: str,
    name: str,
    stream: str,
    version: int,
    context: str,
    module_build_id: int,
    base_stream: str | None,
    rpm_macros: str | None,
    conflicts: str = "",
    timeout_seconds: float = 60,
    rpmbuild_binary: str = "rpmbuild",
    dist: str | None = None,
) -> MacrosSrpm:
    """Build the module-build-macros SRPM with ``rpmbuild -bs`` and return it.

    ``reactor`` provides IReactorProcess and IReactorTime. rpmbuild runs in
    a fresh directory under ``work_dir`` (always removed), killed after
    ``timeout_seconds``; ``conflicts`` go into the spec (``spec_text``);
    ``dist`` as for ``macros_text``.

    :raises RidadError: rpmbuild is missing, failed (the message ends with
        its stderr), timed out or wrote no single SRPM; or a part of the
        NSVC or the base stream contains whitespace or ``%``.
    """
    if dist is None:
        dist = module_dist(name, stream, version, context, module_build_id, base_stream)
    parts = {"name": name, "stream": stream, "version": version, "context": context}
    macros = macros_text(
        **parts,
        module_build_id=module_build_id,
        base_stream=base_stream,
        rpm_macros=rpm_macros,
        dist=dist,
    )
    nsvc = f"{name}:{stream}:{version}:{context}"
    executable = shutil.which(rpmbuild_binary)
    if executable is None:
        raise RidadError(f"Cannot build the module macros: no {rpmbuild_binary}")
    spec = spec_text(
        module_build_id=module_build_id,
        nsvc=nsvc,
        changelog_seconds=reactor.seconds(),
        conflicts=conflicts,
    )
    top = tempfile.mkdtemp(prefix="ridad-macros-", dir=work_dir)
    try:
        spec = _write_tree(top, macros, spec)
        await _rpmbuild(reactor, executable, top, spec, dist, timeout_seconds)
        filename, content = _read_single_srpm(os.path.join(top, "SRPMS"))
    finally:
        shutil.rmtree(top, ignore_errors=True)
    nvr = f"{MACROS_PACKAGE}-{_VERSION}-{_RELEASE}{dist}"
    log.info(
        "Built {nvr} for {module_build_id}",
        **{"nvr": nvr, "module_build_id": module_build_id},
    )
    return MacrosSrpm(filename=filename, content=content, nvr=nvr, dist=dist)


def _write_tree(top: str, macros: str, spec: str) -> str:
    """Write the macros source and the SPEC file into the rpmbuild tree ``top``.

    :return: the SPEC file's path.
    """
    os.mkdir(os.path.join(top, "SOURCES"))
    _write(os.path.join(top, "SOURCES", _SOURCE_NAME), macros)
    path = os.path.join(top, f"{MACROS_PACKAGE}.spec")
    _write(path, spec)
    return path


def _read_single_srpm(srpm_dir: str) -> tuple[str, bytes]:
    """Read the one SRPM rpmbuild wrote into ``srpm_dir``.

    :return: its file name and content.
    :raises RidadError: there is no SRPM, or more than one.
    """
    srpms = os.listdir(srpm_dir) if os.path.isdir(srpm_dir) else []
    if len(srpms) != 1:
        raise RidadError(f"rpmbuild wrote {len(srpms)} SRPMs instead of one")
    with open(os.path.join(srpm_dir, srpms[0]), "rb") as f:
        return srpms[0], f.read()


async def _rpmbuild(
    reactor: Any,
    executable: str,
    top: str,
    spec: str,
    dist: str,
    timeout_seconds: float,
) -> None:
    """Run ``rpmbuild -bs`` in ``top``; raise RidadError unless it succeeded."""
    args = [
        "rpmbuild",
        "-bs",
        "--nodeps",
        "--define",
        f"_topdir {top}",
        "--define",
        f"dist {dist}",
        spec,
    ]
    # HOME=top keeps the user's ~/.rpmmacros out of the build.
    env = {"HOME": top, "LC_ALL": "C", "PATH": os.defpath}
    try:
        result = await run_process(
            reactor=reactor,
            clock=reactor,
            executable=executable,
            args=args,
            env=env,
            timeout_seconds=timeout_seconds,
            max_stdout_bytes=64 * 1024,
            path=top,
        )
    except OSError as e:
        raise RidadError(f"Cannot run {executable}: {e}") from e
    if result.succeeded:
        return
    tail = result.stderr.decode("utf-8", "replace")[-_STDERR_TAIL_CHARS:].strip()
    if result.timed_out:
        how = f"did not finish within {timeout_seconds:g} s"
    elif result.signal is not None:
        how = f"was killed by signal {result.signal}"
    else:
        how = f"exited with status {result.exit_code}"
    raise RidadError(
        f"rpmbuild {how} building the module macros SRPM: {tail or '(no stderr)'}",
        details={"stderr": tail},
    )


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _check_parts(**parts: str | None) -> None:
    for label, value in parts.items():
        if value is not None and (not value or _FORBIDDEN.search(value)):
            raise RidadError(
                f"Cannot build module macros: {label} {value!r} is empty "
                "or contains whitespace or %"
            )
