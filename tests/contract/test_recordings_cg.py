"""kojisim held to all 189 recorded exchanges: 001-094, then the
content-generator import and what surrounds it (095-189).

One fresh kojisim, started as the recorded hub was (no ``module`` build
type, no content generator: ``content_generator=None``), gets every recorded
request in wire order. Its builder runs where the recording's host ran
tasks (after 047, 059, 067, 114, 116 and 181); the components of cg/ are
built from real SPEC files in git repositories on disk, read by kojisim's
own ``rpmspec`` inspector (``cg_replay.py``), so their NVRs, epochs,
subpackages, arches and licenses come from the SPECs as on the recorded
host. Three logins stand for the build host's sessions 3-5 (not recorded),
so that kojiadmin's new session is 6 and mbs's 7, as recorded. cgfail
fails through the ``BuildOutputs`` seam with the recorded fault and log.

Each answer is compared with its recording: status, headers, fault code
and string, wire types, struct keys, array lengths and values. Not compared
exactly, because they cannot be the recording's:
- times (``*_time``, ``*_ts``, ``mtime``, the stat times of 131): the run's
  clock (checked for their form and type);
- session keys and reservation tokens: random (checked for their form, then
  sent back where the recordings have placeholders);
- an RPM's ``payloadhash``, ``size`` and ``buildtime`` (120, 121's rpms,
  125, 126, 176): they come from real RPM files, which kojisim does not
  build (checked for their types; ``payloadhash`` for 32 hex digits);
- 039's fault string holds the hub's upload path (matched by pattern), and
  057 and 174 list rows in the database's order (compared sorted by id).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import koji
import pytest
from twisted.internet.task import Clock

from ridad.kojisim.hub import KojiHub, UserSpec
from ridad.kojisim.sources import RpmSourceInspector
from tests.contract.cg_replay import (
    MirroredSources,
    RecordedFailure,
    Replay,
    make_repositories,
)
from tests.contract.comparison import Answer, assert_answers_like
from tests.contract.recordings import Exchange, Typed, parse_document, plain, read_all
from tests.data import KOJI_RECORDINGS
from tests.unit.kojisim.support import HubClient

EXCHANGES = read_all(KOJI_RECORDINGS) + read_all(KOJI_RECORDINGS / "cg")
BY_NUMBER = {e.number: e for e in EXCHANGES}
HOST_RAN_AFTER = (47, 59, 67, 114, 116, 181)
UNORDERED = {57, 174}
RPM_MADE_UP = ("payloadhash", "size", "buildtime")
STAT_TIMES = ("st_atime", "st_ctime", "st_mtime")
TOKEN = re.compile(r"^[0-9a-f]{64}$")


def _reactor() -> Any:
    """The global reactor (git and rpmspec run there)."""
    from twisted.internet import reactor

    return reactor


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, Answer]]:
    """Replay 001-189 in order on one kojisim; its answers by number."""
    base = tmp_path_factory.mktemp("cg-replay")
    work = str(base / "work")
    inspector = MirroredSources(
        RpmSourceInspector(reactor=_reactor(), clock=_reactor(), upload_dir=work),
        make_repositories(base / "rpms"),
    )
    clock = Clock()
    hub = KojiHub(
        wait_for_repo=False,  # the recorded host built without a repo
        clock=clock,
        reactor=_reactor(),
        users={"kojiadmin": "kojiadmin", "mbs": UserSpec("mbs", ())},
        inspector=inspector,
        upload_dir=work,
        build_outputs=RecordedFailure.from_recordings(
            BY_NUMBER[128], BY_NUMBER[131], BY_NUMBER[132]
        ),
        fail_packages=("cgfail",),
        builder_capacity=1,
        content_generator=None,
    )
    hub.pause_builder()
    replay = Replay(hub, clock, _reactor(), HOST_RAN_AFTER)
    results = {}
    for exchange in EXCHANGES:
        if exchange.number == 95:
            for _ in range(3):  # the build host's sessions 3-5
                HubClient(hub).login("kojiadmin", "kojiadmin")
        results[exchange.number] = replay.send(exchange)
    yield results
    hub.stop()


def test_the_replay_covers_001_to_189_in_wire_order(answers: dict[int, Answer]) -> None:
    """Every recording was replayed once, in order."""
    assert [e.number for e in EXCHANGES] == list(range(1, 190))
    assert sorted(answers) == list(range(1, 190))


@pytest.mark.parametrize("exchange", EXCHANGES, ids=lambda e: e.name)
def test_kojisim_answers_like_the_recorded_hub(
    exchange: Exchange, answers: dict[int, Answer]
) -> None:
    """Status, headers, fault and result structure match the recording."""
    assert_answers_like(
        exchange, answers[exchange.number], unordered=UNORDERED, masked=_masked
    )


def _masked(value: Typed) -> Typed:
    """A value with what cannot be the recording's (see the module
    docstring) replaced by fixed values once its type and form are checked."""
    if value.type == "array":
        return Typed("array", [_masked(item) for item in value.value])
    if value.type != "struct":
        return value
    members = {key: _masked(item) for key, item in value.value.items()}
    if "payloadhash" in members:
        assert re.fullmatch(r"[0-9a-f]{32}", members["payloadhash"].value)
        for key in RPM_MADE_UP:
            members[key] = Typed(members[key].type, None)
    if "token" in members and "build_id" in members:
        assert TOKEN.match(members["token"].value) or members["token"].value.startswith(
            "MaskedToken"
        )
        members["token"] = Typed("string", "")
    for key in STAT_TIMES:
        if key in members:
            assert members[key].type == "double", key
            members[key] = Typed("double", 0.0)
    return Typed("struct", members)


def test_the_builds_of_cg_came_from_the_spec_files(answers: dict[int, Answer]) -> None:
    """The replay's RPMs are the SPECs' (by name, arch, epoch, license), as
    the recorded host's were: what 120 and 121 show, from kojisim's rpmspec."""
    rpms, builds = plain(parse_document(answers[120].body)[1])
    assert [(r["name"], r["arch"], r["epoch"]) for r in rpms] == [
        ("cgalpha", "src", None),
        ("cgalpha", "noarch", None),
        ("cgbeta", "src", 1),
        ("cgbeta", "x86_64", 1),
        ("cgbeta-devel", "x86_64", 1),
    ]
    assert [b["nvr"] for b in builds] == [
        "cgbeta-2.1-3.module_f40+2+c0ffee42",
        "cgalpha-1.0-1.module_f40+2+c0ffee42",
    ]
    licenses = [
        entry[0]["license"] for entry in plain(parse_document(answers[121].body)[1])
    ]
    assert licenses == ["MIT", "GPL-2.0-or-later", "MIT", "GPL-2.0-or-later", "MIT"]


def test_the_import_left_the_recorded_module_build(answers: dict[int, Answer]) -> None:
    """After 166 the build is COMPLETE with the metadata's typeinfo, its two
    archives list the RPM components the hub matched, and the hub's own
    cg_import.log sits next to build.log (the unmatched libmodulemd)."""
    build = plain(parse_document(answers[171].body)[1])
    assert (build["state"], build["cg_name"]) == (
        koji.BUILD_STATES["COMPLETE"],
        "module-build-service",
    )
    assert set(build["extra"]["typeinfo"]["module"]) == {
        "module_build_service_id",
        "content_koji_tag",
        "modulemd_str",
        "name",
        "stream",
        "version",
        "context",
    }
    components = plain(parse_document(answers[176].body)[1])
    assert [(r["name"], r["arch"]) for r in components] == [
        ("cgalpha", "noarch"),
        ("cgbeta", "x86_64"),
    ]
    logs = plain(parse_document(answers[177].body)[1])
    assert [log["name"] for log in logs] == ["build.log", "cg_import.log"]


def test_the_recordings_are_the_repositorys_own_test_data() -> None:
    """Both folders are read from tests/data, inside the repository."""
    assert Path(KOJI_RECORDINGS).is_relative_to(Path(__file__).resolve().parents[1])
