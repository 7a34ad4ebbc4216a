"""kojisim held to the 94 exchanges recorded with a real Koji 1.35.3 hub.

The requests are replayed in order against one fresh kojisim; its builder
runs where the recording's build host ran tasks (after 047, 059 and 067) and
stays idle otherwise. Each answer is compared with the recorded one.
"""

from __future__ import annotations

from pathlib import Path

import koji
import pytest
from twisted.internet.task import Clock

from ridad.kojisim.hub import KojiHub, UserSpec
from tests.contract.comparison import Answer, assert_answers_like
from tests.contract.recordings import (
    Exchange,
    parse_document,
    plain,
    read_all,
)
from tests.data import KOJI_RECORDINGS
from tests.unit.kojisim.support import (
    FixedNVRInspector,
    HubClient,
    NoProcessReactor,
    run_until_idle,
)

RECORDINGS = KOJI_RECORDINGS
EXCHANGES = read_all(RECORDINGS)
MASKED_KEY = "1-MaskedKey01xxxxxxxx"

#: Exchanges after which the recording's host ran the waiting tasks.
HOST_RAN_AFTER = (47, 59, 67)

#: Results whose order the hub leaves to the database (compared sorted by id).
UNORDERED = {57}


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Answer]:
    """Replay every recorded request in order; kojisim's answers by file name."""
    clock = Clock()
    hub = KojiHub(
        wait_for_repo=False,  # the recorded host built without a repo
        clock=clock,
        reactor=NoProcessReactor(),  # type: ignore[arg-type]
        users={"kojiadmin": "kojiadmin", "mbs": UserSpec(None, ())},
        inspector=FixedNVRInspector(release="1.module_f40+1+abcdef12"),
        upload_dir=str(tmp_path_factory.mktemp("kojisim-work")),
    )
    hub.pause_builder()
    client = HubClient(hub)
    issued_key = MASKED_KEY
    results: dict[str, Answer] = {}
    for exchange in EXCHANGES:
        reply = client.http(
            exchange.http_method,
            exchange.request_body,
            headers=_headers(exchange, issued_key),
            url=f"http://kojihub.test{exchange.target}",
            session=False,
        )
        results[exchange.name] = Answer(reply.code, reply.headers, reply.body)
        if exchange.number == 6:
            issued_key = plain(parse_document(reply.body)[1])["session-key"]
        if exchange.number in HOST_RAN_AFTER:
            hub.resume_builder()
            run_until_idle(hub, clock)
            hub.pause_builder()
    hub.stop()
    return results


def _headers(exchange: Exchange, issued_key: str) -> dict[str, str]:
    """The recorded request headers, with the masked key replaced by ours."""
    headers = {}
    for name, value in exchange.request_headers:
        if name.lower() == "content-length":
            continue
        headers[name] = issued_key if value == MASKED_KEY else value
    return headers


def test_replay_covers_all_94_recorded_exchanges(answers: dict[str, Answer]) -> None:
    """Every one of the 94 recordings was replayed, in order."""
    assert [e.number for e in EXCHANGES] == list(range(1, 95))
    assert len(answers) == 94


@pytest.mark.parametrize("exchange", EXCHANGES, ids=lambda e: e.name)
def test_kojisim_answers_like_the_recorded_hub(
    exchange: Exchange, answers: dict[str, Answer]
) -> None:
    """Status, headers, fault and result structure match the recording."""
    assert_answers_like(exchange, answers[exchange.name], unordered=UNORDERED)


def test_recorded_fault_codes_are_the_koji_package_codes() -> None:
    """Every fault code in the recordings maps to the koji exception of that code."""
    for exchange in EXCHANGES:
        if exchange.response_header("Content-Type") != "text/xml":
            continue
        kind, value = parse_document(exchange.response_body)
        if kind == "fault":
            code = plain(value)["faultCode"]
            assert koji.convertFault(koji.Fault(code, "x")).faultCode == code


def test_the_recordings_are_the_repositorys_own_test_data() -> None:
    """The 94 exchanges of the first flow are read from tests/data, inside the repository."""
    assert RECORDINGS.is_relative_to(Path(__file__).resolve().parents[1])
    assert len(EXCHANGES) == 94
