"""What the replay of 001-189 needs: the three SPEC files the recorded host
built (README's "Content-generator import" table), git repositories holding
them, a source inspector that reads them where the recorded URLs point, and
a replay that puts kojisim's session keys and reservation tokens where the
recordings have placeholders.

The recorded commits (``d5c72eb...``) cannot be made again, so the
repositories get commits of their own and the inspector fetches those in
place of the recorded ones, then reports the recorded commit as the build's
``source`` (as the recorded host, which fetched from local copies, did).
The SPEC files are what makes the NVRs, subpackages, arches, epochs and
licenses: kojisim's real ``rpmspec`` reads them.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from twisted.internet.task import Clock, deferLater

from ridad.kojisim.build_logs import BuildJob, FailedBuild
from ridad.kojisim.hub import KojiHub
from ridad.kojisim.sources import RpmSourceInspector, Source, checked_out_source
from ridad.kojisim.specs import NVR
from tests.contract.comparison import Answer
from tests.contract.recordings import Exchange, parse_document, plain
from tests.gitrepos import commit_files
from tests.unit.kojisim.support import HubClient

SPECS = {
    "cgalpha": """Name:           cgalpha
Version:        1.0
Release:        1%{?dist}
Summary:        First component of the content-generator test module
License:        MIT
BuildArch:      noarch

%description
A noarch package with one file.

%install
mkdir -p %{buildroot}%{_datadir}/cgalpha
echo alpha > %{buildroot}%{_datadir}/cgalpha/README

%files
%{_datadir}/cgalpha/README
""",
    "cgbeta": """Name:           cgbeta
Epoch:          1
Version:        2.1
Release:        3%{?dist}
Summary:        Second component, with a -devel subpackage
License:        GPL-2.0-or-later

%description
An arch-specific package with an epoch.

%package devel
Summary:        Development files of cgbeta
License:        MIT
Requires:       %{name}%{?_isa} = %{epoch}:%{version}-%{release}

%description devel
Headers (the module filters this subpackage out).

%install
mkdir -p %{buildroot}%{_libdir}/cgbeta %{buildroot}%{_includedir}
echo beta > %{buildroot}%{_libdir}/cgbeta/data
echo '/* beta */' > %{buildroot}%{_includedir}/cgbeta.h

%files
%{_libdir}/cgbeta/data

%files devel
%{_includedir}/cgbeta.h
""",
    "cgfail": """Name:           cgfail
Version:        0.9
Release:        1%{?dist}
Summary:        A component whose build fails
License:        MIT
BuildArch:      noarch

%description
Its %build stops with a configure-like error.

%build
echo checking for frobnicate '>=' 2.0... no
echo configure: error: frobnicate 2.0 or later is required to build cgfail
exit 1

%files
""",
}

#: The commits the recorded host built (113, 114, 116).
RECORDED_COMMITS = {
    "cgalpha": "d5c72eb457e52514819f86969edf5ceeb9a2d0a6",
    "cgbeta": "947965c1e7bbdeda2b6c63543f375ef3e268fc50",
    "cgfail": "96ce56ef45aebf9ffecbf16ab640230aac422747",
}
#: The release the 001-094 host gave every build (no checkout there).
FIRST_FLOW_RELEASE = "1.module_f40+1+abcdef12"


def make_repositories(base: Path) -> dict[str, tuple[Path, str]]:
    """A bare repository per component holding its SPEC; name -> (path, commit)."""
    repos = {}
    for name, spec in SPECS.items():
        path = base / f"{name}.git"
        repos[name] = (path, commit_files(path, {f"{name}.spec": spec}))
    return repos


@dataclass
class MirroredSources:
    """Reads the recorded components' SPECs from the local repositories;
    answers 001-094's sources as their (checkout-less) host did."""

    real: RpmSourceInspector
    repos: dict[str, tuple[Path, str]]
    seen: list[str] = field(default_factory=list)

    async def nvr(self, source: Source, dist: str) -> NVR:
        """The local commit's SPEC, reported at the recorded commit."""
        name = source.repo_name or ""
        self.seen.append(name)
        if name not in self.repos:
            return NVR(name, "1.0", FIRST_FLOW_RELEASE)
        path, commit = self.repos[name]
        local = replace(source, fetch_url=f"file://{path}", commit=commit)
        spec = await self.real.nvr(local, dist)
        return replace(spec, source=checked_out_source(source, RECORDED_COMMITS[name]))


#: Placeholders in the recordings and the exchange whose answer replaces them.
KEY_MASKS = {
    6: "1-MaskedKey01xxxxxxxx",
    95: "1-MaskedKey02xxxxxxxx",
    104: "2-MaskedKey03xxxxxxxx",
}
TOKEN_MASKS = {
    138: "MaskedToken01" + "x" * 51,
    162: "MaskedToken02" + "x" * 51,
    164: "MaskedToken03" + "x" * 51,
}


class Replay:
    """Sends recorded requests to one kojisim in order, with kojisim's own
    session keys and tokens in place of the placeholders, and runs the
    builder where the recording's host ran."""

    def __init__(
        self, hub: KojiHub, clock: Clock, reactor: Any, host_ran_after: tuple[int, ...]
    ) -> None:
        """Replay against ``hub``; processes run on ``reactor``."""
        self.hub, self.clock, self.reactor = hub, clock, reactor
        self.host_ran_after = host_ran_after
        self.client = HubClient(hub)
        self.masks: dict[str, str] = {}

    def send(self, exchange: Exchange) -> Answer:
        """Replay one exchange and note the key or token it issued."""
        headers = {
            name: self.masks.get(value, value)
            for name, value in exchange.request_headers
            if name.lower() != "content-length"
        }
        body = exchange.request_body
        for mask, ours in self.masks.items():
            body = body.replace(mask.encode(), ours.encode())
        reply = self.client.http(
            exchange.http_method,
            body,
            headers=headers,
            url=f"http://kojihub.test{exchange.target}",
            session=False,
        )
        self._note_masks(exchange.number, reply.body)
        if exchange.number in self.host_ran_after:
            self.run_host()
        return Answer(reply.code, reply.headers, reply.body)

    def _note_masks(self, number: int, body: bytes) -> None:
        """Remember what a login or a reservation answered."""
        if number in KEY_MASKS:
            answer = plain(parse_document(body)[1])
            self.masks[KEY_MASKS[number]] = answer["session-key"]
        if number in TOKEN_MASKS:
            answer = plain(parse_document(body)[1])
            self.masks[TOKEN_MASKS[number]] = answer["token"]

    def run_host(self, *, limit: int = 4000) -> None:
        """Let the builder run until no task is FREE or OPEN: the clock for
        the hub, real time for the processes that read the SPECs."""
        import pytest_twisted

        self.hub.resume_builder()
        for _ in range(limit):
            self.clock.advance(0.05)
            busy = self.hub.builder_busy or any(
                t.state in (0, 1) for t in self.hub.tasks.values()
            )
            if not busy:
                self.hub.pause_builder()
                return
            pytest_twisted.blockon(deferLater(self.reactor, 0.005, lambda: None))
        raise AssertionError("tasks still running")


@dataclass(frozen=True)
class RecordedFailure:
    """The recorded host's failure of cgfail (``BuildOutputs``): its fault
    (128), ``build.log`` byte for byte (132), and files of the recorded
    sizes (131) for the logs whose bytes were not recorded."""

    fault: str
    files: tuple[tuple[str, bytes], ...]

    @classmethod
    def from_recordings(
        cls, result: Exchange, stat: Exchange, download: Exchange
    ) -> RecordedFailure:
        """Read the fault, the sizes and the log from 128, 131 and 132."""
        fault = plain(parse_document(result.response_body)[1])["faultString"]
        log = base64.b64decode(plain(parse_document(download.response_body)[1]))
        files = []
        for name, info in plain(parse_document(stat.response_body)[1]).items():
            size = int(info["st_size"])
            note = f"{name}: only its size was recorded\n".encode()
            files.append((name, log if name == "build.log" else (note * size)[:size]))
        return cls(fault, tuple(files))

    def failed(self, job: BuildJob, kind: str) -> FailedBuild:
        """The recorded fault and files, whatever failed."""
        return FailedBuild(self.fault, self.files)
