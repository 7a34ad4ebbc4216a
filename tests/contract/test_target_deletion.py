"""kojisim held to the recorded deletion of a module's build target (cg/
exchanges 185-188 on Koji 1.35.3): ``deleteBuildTarget`` answers nil, the
target is gone, deleting it again answers nil too (no fault), and the module
tag stays.

The recorded requests that made the tags and the target (011-013, then cg/
108, 109 and 112, so that the tag ids are the hub's) are replayed first on a
fresh kojisim, in one admin session; each answer is compared with its
recording as the full replay does.
"""

from __future__ import annotations

import pytest
from twisted.internet.task import Clock

from ridad.kojisim.hub import KojiHub
from tests.contract.comparison import compare
from tests.contract.recordings import Exchange, parse_document, plain, read_exchange
from tests.data import KOJI_RECORDINGS
from tests.unit.kojisim.support import HubClient, NoProcessReactor

SETUP = [
    KOJI_RECORDINGS / name
    for name in (
        "011-createTag-base.xml",
        "012-createTag-module.xml",
        "013-createTag-module-build.xml",
    )
] + [
    KOJI_RECORDINGS / "cg" / name
    for name in (
        "108-createTag-cg-module.xml",
        "109-createTag-cg-module-build.xml",
        "112-createBuildTarget-cg-module.xml",
    )
]
DELETION = sorted((KOJI_RECORDINGS / "cg").glob("18[5-8]-*.xml"))
MODULE_TAG = "module-cgmod-rolling-2-20261101120000-c0ffee42"


@pytest.fixture(scope="module")
def replies(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[Exchange, bytes]]:
    """Replay the setup and the deletion requests; each recording with
    kojisim's answer, by file name."""
    hub = KojiHub(
        wait_for_repo=False,  # the recorded host built without a repo
        clock=Clock(),
        reactor=NoProcessReactor(),  # type: ignore[arg-type]
        users={"kojiadmin": "kojiadmin"},
        upload_dir=str(tmp_path_factory.mktemp("kojisim-work")),
    )
    client = HubClient(hub)
    client.login("kojiadmin", "kojiadmin")
    answers = {}
    for path in SETUP + DELETION:
        exchange = read_exchange(path)
        reply = client.http("POST", exchange.request_body)
        assert reply.code == exchange.status == 200
        answers[path.name] = (exchange, reply.body)
    hub.stop()
    return answers


def test_the_deletion_exchanges_are_185_to_188() -> None:
    """The four recordings of step 19 before the logout are the ones replayed."""
    assert [read_exchange(p).number for p in DELETION] == [185, 186, 187, 188]
    assert [read_exchange(p).method for p in DELETION] == [
        "deleteBuildTarget",
        "getBuildTarget",
        "deleteBuildTarget",
        "getTag",
    ]


@pytest.mark.parametrize("path", SETUP + DELETION, ids=lambda p: p.name)
def test_kojisim_answers_the_target_deletion_like_the_recorded_hub(
    path: object, replies: dict[str, tuple[Exchange, bytes]]
) -> None:
    """Same result kind, wire types and values as recorded (times by form)."""
    exchange, body = replies[path.name]  # type: ignore[attr-defined]
    recorded_kind, recorded = parse_document(exchange.response_body)
    our_kind, ours = parse_document(body)
    assert our_kind == recorded_kind == "params", plain(ours)
    assert compare(recorded, ours) == []


def test_after_the_deletion_the_module_tag_is_still_there(
    replies: dict[str, tuple[Exchange, bytes]],
) -> None:
    """getTag of the module tag after both deletions answers the tag."""
    _, body = replies["188-getTag-after-target-delete.xml"]
    assert plain(parse_document(body)[1])["name"] == MODULE_TAG
