"""kojisim's answers about a failed build task held to the recorded hub (128-136).

One fresh kojisim replays 001-094 (as ``test_recordings.py`` does), then
the part of 095-118 that makes the failed task: kojiadmin's new session 6
(three logins stand for the build host's sessions 3-5, which the recording
does not show), the module's tags, package lists and target, and the builds
of cgalpha, cgbeta and cgfail (task 9), the builder running where the
recording's host ran. The content-generator calls between are not needed
for this and are left out.

The recorded host's files come in through kojisim's ``BuildOutputs`` seam:
cgfail fails with the recorded fault and leaves the recorded ``build.log``
(132, byte for byte) and, for the three logs whose bytes were not recorded,
files of their recorded sizes (131). Then 128-136 are compared: the fault of
``getTaskResult(raise_fault=False)``, no children, the listing and its stat
struct (sizes as strings; the times only as doubles), whole and sliced
downloads, the negative offsets and the missing file.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

import pytest
from twisted.internet.task import Clock

from ridad.kojisim.build_logs import BuildJob, FailedBuild
from ridad.kojisim.hub import KojiHub, UserSpec
from ridad.kojisim.sources import NVR, Source
from tests.contract.comparison import compare
from tests.contract.recordings import (
    Exchange,
    Typed,
    parse_document,
    plain,
    read_all,
    read_exchange,
)
from tests.data import KOJI_RECORDINGS
from tests.unit.kojisim.support import (
    HubClient,
    NoProcessReactor,
    run_until_idle,
)

CG = KOJI_RECORDINGS / "cg"
FIRST_FLOW = read_all(KOJI_RECORDINGS)
MASKED_KEYS = ("1-MaskedKey01xxxxxxxx", "1-MaskedKey02xxxxxxxx")
#: The exchanges of 095-127 that make the failed task (the rest is CG calls).
SET_UP = (95, *range(108, 119))
COMPARED = tuple(range(128, 137))
#: Exchanges after which the recording's host ran the waiting tasks.
HOST_RAN_AFTER = (47, 59, 67, 114, 116)
STAT_TIMES = ("st_atime", "st_ctime", "st_mtime")


def _cg(number: int) -> Exchange:
    """One recorded exchange of ``cg/``."""
    (path,) = CG.glob(f"{number:03d}-*.xml")
    return read_exchange(path)


def _recorded_build_log() -> bytes:
    """The bytes of build.log as the hub sent them (132)."""
    kind, value = parse_document(_cg(132).response_body)
    assert kind == "params"
    return base64.b64decode(value.value)


def _recorded_sizes() -> dict[str, int]:
    """The file sizes the hub listed (131), in its order."""
    _, value = parse_document(_cg(131).response_body)
    return {name: int(stat["st_size"]) for name, stat in plain(value).items()}


@dataclass
class RecordedOutputs:
    """The recorded host's failure: its fault, build.log and log sizes."""

    def failed(self, job: BuildJob, kind: str) -> FailedBuild:
        """The recorded fault and files, whatever ``job`` and ``kind`` are."""
        _, fault = parse_document(_cg(128).response_body)
        files = []
        for name, size in _recorded_sizes().items():
            if name == "build.log":
                files.append((name, _recorded_build_log()))
            else:
                note = f"{name}: only its size was recorded\n".encode()
                files.append((name, (note * size)[:size]))
        return FailedBuild(plain(fault)["faultString"], tuple(files))


@dataclass
class RecordedNVRs:
    """The NVRs the recorded host built: 001-094's, then the three of cg/."""

    async def nvr(self, source: Source, dist: str) -> NVR:
        """By repository name (the recorded host read them from the SPECs)."""
        known = {
            "cgalpha": NVR("cgalpha", "1.0", "1.module_f40+2+c0ffee42"),
            "cgbeta": NVR("cgbeta", "2.1", "3.module_f40+2+c0ffee42"),
            "cgfail": NVR("cgfail", "0.9", "1.module_f40+2+c0ffee42"),
        }
        name = source.repo_name or source.url.rsplit("/", 1)[-1].split("-")[0]
        return known.get(name, NVR(name, "1.0", "1.module_f40+1+abcdef12"))


@dataclass(frozen=True)
class Answer:
    """kojisim's reply to one recorded request."""

    code: int
    body: bytes


class Replay:
    """Sends recorded requests to one kojisim, with its keys for the masked ones."""

    def __init__(self, hub: KojiHub, clock: Clock) -> None:
        self.hub, self.clock = hub, clock
        self.client = HubClient(hub)
        self.keys: dict[str, str] = {}

    def send(self, exchange: Exchange) -> Answer:
        """Replay one exchange; note the key a login issued; run the host after
        the exchanges after which the recording's host ran."""
        headers = {
            name: self.keys.get(value, value)
            for name, value in exchange.request_headers
            if name.lower() != "content-length"
        }
        reply = self.client.http(
            exchange.http_method,
            exchange.request_body,
            headers=headers,
            url=f"http://kojihub.test{exchange.target}",
            session=False,
        )
        if exchange.method == "login" and exchange.number in (6, 95):
            mask = MASKED_KEYS[exchange.number == 95]
            self.keys[mask] = plain(parse_document(reply.body)[1])["session-key"]
        if exchange.number in HOST_RAN_AFTER:
            self.hub.resume_builder()
            run_until_idle(self.hub, self.clock)
            self.hub.pause_builder()
        return Answer(reply.code, reply.body)


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Answer]:
    """Replay the first flow, the set-up of the failed task, then 128-136."""
    clock = Clock()
    hub = KojiHub(
        wait_for_repo=False,  # the recorded host built without a repo
        clock=clock,
        reactor=NoProcessReactor(),  # type: ignore[arg-type]
        users={"kojiadmin": "kojiadmin", "mbs": UserSpec(None, ())},
        inspector=RecordedNVRs(),
        upload_dir=str(tmp_path_factory.mktemp("kojisim-work")),
        build_outputs=RecordedOutputs(),
        fail_packages=("cgfail",),
    )
    hub.pause_builder()
    replay = Replay(hub, clock)
    results = {e.number: replay.send(e) for e in FIRST_FLOW}
    for _ in range(3):  # the build host's sessions 3-5
        HubClient(hub).login("kojiadmin", "kojiadmin")
    for number in SET_UP + COMPARED:
        results[number] = replay.send(_cg(number))
    hub.stop()
    return results


def test_the_set_up_answers_as_recorded_where_it_matters(
    answers: dict[int, Answer],
) -> None:
    """Session 6, tags 4-6, tasks 7-9, and every set-up call answered
    without a fault where the hub gave none: the state 128-136 read is the
    recorded one."""
    assert plain(parse_document(answers[95].body)[1])["session-id"] == 6
    for number in SET_UP:
        recorded_kind, _ = parse_document(_cg(number).response_body)
        kind, value = parse_document(answers[number].body)
        assert kind == recorded_kind, (number, plain(value))
    for number, wanted in ((108, 4), (109, 5), (110, 6), (113, 7), (114, 8)):
        assert plain(parse_document(answers[number].body)[1]) == wanted
    assert plain(parse_document(answers[116].body)[1]) == 9
    assert plain(parse_document(answers[117].body)[1])["state"] == 5


@pytest.mark.parametrize("number", COMPARED)
def test_kojisim_answers_about_the_failed_task_as_the_hub_did(
    number: int, answers: dict[int, Answer]
) -> None:
    """Same status and document kind; same fault code and string; same
    value, wire types and struct keys (the stat times only as doubles)."""
    exchange = _cg(number)
    ours = answers[number]
    assert ours.code == exchange.status
    recorded_kind, recorded = parse_document(exchange.response_body)
    kind, value = parse_document(ours.body)
    assert kind == recorded_kind, plain(value)
    if kind == "fault":
        assert plain(value) == plain(recorded)
        return
    assert compare(_masked_times(recorded), _masked_times(value)) == []


def _masked_times(value: Typed) -> Typed:
    """A ``listTaskOutput(stat=True)`` answer with each stat time, once
    checked to be a double, replaced by the same 0.0 (they are the
    recording run's file times)."""
    if value.type != "struct" or not all(
        isinstance(stat.value, dict) and "st_size" in stat.value
        for stat in value.value.values()
    ):
        return value
    masked = {}
    for name, stat in value.value.items():
        members = dict(stat.value)
        for key in STAT_TIMES:
            assert members[key].type == "double", (name, key)
            members[key] = Typed("double", 0.0)
        masked[name] = Typed("struct", members)
    return Typed("struct", masked)


def test_the_replayed_build_log_is_the_recorded_one() -> None:
    """The file given to kojisim is the 1179 bytes the hub listed and sent,
    and its tail is rpmbuild's error and the host's exit status."""
    data = _recorded_build_log()
    assert len(data) == _recorded_sizes()["build.log"] == 1179
    assert data.decode().splitlines()[-3:] == [
        "RPM build errors:",
        "    Bad exit status from /var/tmp/rpm-tmp.x1SgHL (%build)",
        "[exit status 1]",
    ]
    assert Path(CG).is_relative_to(Path(__file__).resolve().parents[1])
