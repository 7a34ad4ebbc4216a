"""``python -m ridad.devenv.koji``: look at the demo's module builds in kojisim as Koji shows them.

The demo has no ``koji`` command line (the koji package on PyPI is the
library only), so this asks the hub the same questions ``koji list-builds
--type=module``, ``koji list-archives --type=module`` and ``koji
list-rpms --archive`` would, through ``koji.ClientSession``, and prints one
line per answer row. It is a short-lived command, so a blocking client is
fine here (never in the daemon).

    python -m ridad.devenv.koji builds
    python -m ridad.devenv.koji archives NVR
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, NoReturn, TextIO

import koji
from twisted.python import usage

from ridad.devenv.content import koji_hub_url

_STATES = {0: "BUILDING", 1: "COMPLETE", 2: "DELETED", 3: "FAILED", 4: "CANCELED"}


class BuildsOptions(usage.Options):
    """``builds``: every build of type module."""

    synopsis = "builds"


class ArchivesOptions(usage.Options):
    """``archives NVR``: the module archives of one build and their RPMs."""

    synopsis = "archives NVR"

    def parseArgs(self, nvr: str) -> None:  # noqa: N802 (Twisted's name)
        self["nvr"] = nvr


class KojiOptions(usage.Options):
    """Command-line options of ``python -m ridad.devenv.koji``."""

    synopsis = "python -m ridad.devenv.koji [--hub URL] builds | archives NVR"
    optParameters: ClassVar[list[list[Any]]] = [
        [
            "hub",
            None,
            koji_hub_url(),
            "The Koji hub's XML-RPC URL (the demo's kojisim).",
        ],
    ]
    subCommands: ClassVar[list[list[Any]]] = [
        ["builds", None, BuildsOptions, "List the builds of type module."],
        ["archives", None, ArchivesOptions, "List a module build's archives and RPMs."],
    ]

    def postOptions(self) -> None:  # noqa: N802 (Twisted's name)
        if self.subCommand is None:
            raise usage.UsageError("name a command: builds or archives NVR")


def module_builds(session: Any, out: TextIO) -> int:
    """Print ``id NVR state`` for every build of type module; return 0."""
    builds = session.listBuilds(type="module")
    for build in sorted(builds, key=lambda b: b["build_id"]):
        state = _STATES.get(build["state"], str(build["state"]))
        out.write(f"{build['build_id']} {build['nvr']} {state}\n")
    if not builds:
        out.write("no module builds yet\n")
    return 0


def module_archives(session: Any, nvr: str, out: TextIO) -> int:
    """Print a module build's archives (name, size, md5) and their RPMs.

    :return: 0, or 1 when Koji has no build of that NVR.
    """
    build = session.getBuild(nvr)
    if build is None:
        out.write(f"Koji has no build {nvr}\n")
        return 1
    archives = session.listArchives(buildID=build["id"], type="module")
    for archive in sorted(archives, key=lambda a: a["filename"]):
        out.write(
            f"{archive['filename']} {archive['size']} bytes md5 {archive['checksum']}\n"
        )
        for rpm in sorted(session.listRPMs(imageID=archive["id"]), key=_nevra):
            out.write(f"    {_nevra(rpm)}\n")
    if not archives:
        out.write(f"{nvr} has no module archives\n")
    return 0


def _nevra(rpm: dict[str, Any]) -> str:
    epoch = rpm.get("epoch") or 0
    return f"{rpm['name']}-{epoch}:{rpm['version']}-{rpm['release']}.{rpm['arch']}"


def main(
    argv: Sequence[str],
    out: TextIO = sys.stdout,
    session_for: Callable[[str], Any] = koji.ClientSession,
) -> int:
    """Run one query; return the exit status (2 for a bad command line)."""
    options = KojiOptions()
    try:
        options.parseOptions(list(argv))
    except usage.UsageError as e:
        sys.stderr.write(f"{options}\nridad.devenv.koji: {e}\n")
        return 2
    session = session_for(options["hub"])
    try:
        if options.subCommand == "builds":
            return module_builds(session, out)
        return module_archives(session, options.subOptions["nvr"], out)
    except (OSError, koji.GenericError) as e:
        out.write(f"Could not ask Koji at {options['hub']}: {e}\n")
        return 1


def run() -> NoReturn:
    """Entry point of ``python -m ridad.devenv.koji``."""
    raise SystemExit(main(sys.argv[1:]))


if __name__ == "__main__":
    run()
