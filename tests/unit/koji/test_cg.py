"""``KojiHub``'s content-generator operations against the real hub's recorded
answers (exchanges 095-189): the calls encode as the recorded koji client's,
the answers become domain values, and each recorded fault is either a state
to reconcile (None) or a refusal that says what to do."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import koji
import pytest
from twisted.internet.defer import Deferred

from ridad.domain.koji import KojiBuild
from ridad.domain.module_import import CgReservation, ModuleNvr
from ridad.errors import KojiError, KojiFault
from ridad.koji.auth import PasswordAuth
from ridad.koji.hub import KojiHub
from ridad.koji.wire import encode_call
from tests.helpers import failure_of, result_of
from tests.unit.koji.cg_recorded import MODULE_TAG, NVR, TOKEN, answer, exchange
from tests.unit.koji.fakehub import World, make_world

GENERATOR = "module-build-service"
RECORDED_NVR = ModuleNvr("cgmod", "rolling_2", "20261101120000.c0ffee42")


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return result_of(Deferred.fromCoroutine(coroutine))


def _recorded(number: int) -> Callable[..., Any]:
    """A hub method answering as the hub did in exchange ``number``."""
    value = answer(number)

    def method(*args: Any, **kwargs: Any) -> Any:
        if isinstance(value, koji.GenericError):
            raise value
        return value

    return method


def _hub(**methods: Callable[..., Any]) -> tuple[World, KojiHub]:
    world = make_world(auth=PasswordAuth("kojiadmin", "secret"))
    world.hub.methods.update(methods)
    world.hub.methods.setdefault("getLoggedInUser", lambda: {"name": "ridad"})
    return world, KojiHub(client=world.client)


def _headers(rpm_id: int, headers: list[str]) -> dict[str, Any]:
    """The recorded getRPMHeaders answers (121's entries, by rpm id)."""
    entries = answer(121)
    order = [5, 7, 6, 8, 9]
    found = entries[order.index(rpm_id)][0]
    return {name: found[name] for name in headers}


#: The RPMs of cgbeta and cgalpha as recorded (125, 126, 121): NEVRA,
#: License, component, payload hash.
EXPECTED_RPMS = {
    (
        "cgbeta-1:2.1-3.module_f40+2+c0ffee42.src",
        "GPL-2.0-or-later",
        "cgbeta",
        "4f20d24a71dd25f0069b514951957ceb",
    ),
    (
        "cgbeta-1:2.1-3.module_f40+2+c0ffee42.x86_64",
        "GPL-2.0-or-later",
        "cgbeta",
        "68e6a1baf5baa4cdc3d21d6a549bda3b",
    ),
    (
        "cgbeta-devel-1:2.1-3.module_f40+2+c0ffee42.x86_64",
        "MIT",
        "cgbeta",
        "c151f4cf0b11a423b628b4b151b8f71b",
    ),
    (
        "cgalpha-0:1.0-1.module_f40+2+c0ffee42.src",
        "MIT",
        "cgalpha",
        "9ee753de791ff8fb9040a4d584dd5ebd",
    ),
    (
        "cgalpha-0:1.0-1.module_f40+2+c0ffee42.noarch",
        "MIT",
        "cgalpha",
        "e0cf64b8221e9fe3fb3af61ba2a54a43",
    ),
}


def test_module_content_reads_rpms_licenses_arches_and_owner_in_two_requests() -> None:
    """listBuildRPMs of cgbeta (125) and cgalpha (126) with the tag (119)
    and the owner (142), then every RPM's License (121): the five RPMs with
    their licenses and payload hashes, the tag's arches, the owner known."""
    builds = {4: answer(125), 3: answer(126)}
    world, hub = _hub(
        getTag=_recorded(119),
        getUser=_recorded(142),
        listBuildRPMs=lambda build: builds[build],
        getRPMHeaders=lambda rpmID, headers: _headers(rpmID, headers),
    )
    content = _run(
        hub.module_content(
            [("cgbeta", 4), ("cgalpha", 3)], tag=MODULE_TAG, owner="kojiadmin"
        )
    )
    assert content.arches == ("x86_64",)
    assert content.owner_known is True
    found = {
        (r.built.nevra, r.built.license, r.built.component, r.payloadhash)
        for r in content.rpms
    }
    assert found == EXPECTED_RPMS
    calls = [
        [entry["methodName"] for entry in r.args[0]]
        for r in world.hub.calls("multiCall")
    ]
    assert calls == [
        ["getTag", "getUser", "listBuildRPMs", "listBuildRPMs"],
        ["getRPMHeaders"] * 5,
    ]


def test_an_owner_koji_does_not_know_is_left_out_and_a_missing_rpm_is_an_error() -> (
    None
):
    """getUser answers nil for an unknown name (143); getRPMHeaders of an
    RPM Koji lost answers {} (124), which is an error, not a blank license."""
    world, hub = _hub(
        getTag=_recorded(119),
        getUser=_recorded(143),
        listBuildRPMs=lambda build: answer(126),
        getRPMHeaders=_recorded(124),
    )
    failure = failure_of(
        Deferred.fromCoroutine(
            hub.module_content([("cgalpha", 3)], tag=MODULE_TAG, owner="nobody")
        )
    )
    assert failure.check(KojiError)
    assert "no headers of RPM 5" in failure.value.message
    world.hub.methods["getRPMHeaders"] = lambda rpmID, headers: {"license": "MIT"}
    content = _run(hub.module_content([("cgalpha", 3)], tag=MODULE_TAG, owner="x"))
    assert content.owner_known is False
    assert len(content.rpms) == 2


def test_a_failed_build_without_rpms_asks_for_no_headers() -> None:
    """listBuildRPMs of a FAILED build is [] (127): one request, no RPMs."""
    world, hub = _hub(
        getTag=_recorded(119),
        getUser=_recorded(142),
        listBuildRPMs=_recorded(127),
    )
    content = _run(hub.module_content([("cgfail", 5)], tag=MODULE_TAG, owner="a"))
    assert content.rpms == ()
    assert len(world.hub.calls("multiCall")) == 1


def test_find_build_answers_the_reservation_the_build_or_none() -> None:
    """getBuild of the reservation (139: BUILDING), of the import (171:
    COMPLETE) and of an NVR Koji does not have (nil)."""
    world, hub = _hub(getBuild=_recorded(139))
    assert _run(hub.find_build(NVR)) == KojiBuild(
        6, NVR, "cgmod", "rolling_2", "20261101120000.c0ffee42", "building", None
    )
    assert world.hub.calls("getBuild")[0].body == exchange(139).request_body
    _, hub = _hub(getBuild=_recorded(171))
    assert _run(hub.find_build(NVR)).state == "complete"
    _, hub = _hub(getBuild=lambda nvr: None)
    assert _run(hub.find_build("nope-1-1")) is None


def test_reserving_answers_the_build_and_token() -> None:
    """CGInitBuild (138) answers the reserved build's id and token."""
    world, hub = _hub(CGInitBuild=_recorded(138))
    reservation = _run(hub.reserve_build(GENERATOR, RECORDED_NVR))
    assert reservation == CgReservation(6, "MaskedToken01" + "x" * 51)
    assert "MaskedToken" not in repr(reservation)
    (sent,) = world.hub.calls("CGInitBuild")
    assert sent.body == exchange(138).request_body


@pytest.mark.parametrize("number", [140, 169])
def test_a_reserved_or_complete_nvr_is_left_to_a_look_up(number: int) -> None:
    """'Build is already reserved' (140) and 'Build already exists (id=6,
    state=COMPLETE)' (169) are states to reconcile: None."""
    _, hub = _hub(CGInitBuild=_recorded(number))
    assert _run(hub.reserve_build(GENERATOR, RECORDED_NVR)) is None


def test_a_missing_content_generator_says_what_the_admin_runs() -> None:
    """Before grantCGAccess(create=True) CGInitBuild is 1000 'No such entry
    in table content_generator' (096): the refusal names the command, with
    ridad's Koji user, and the build type."""
    _, hub = _hub(CGInitBuild=_recorded(96))
    failure = failure_of(
        Deferred.fromCoroutine(hub.reserve_build(GENERATOR, RECORDED_NVR))
    )
    assert failure.check(KojiFault)
    message = failure.value.message
    assert "No such entry in table content_generator: module-build-service" in message
    assert "`koji grant-cg-access ridad module-build-service --new`" in message
    assert "`koji call addBType module`" in message
    assert failure.value.fault_code == 1000


@pytest.mark.parametrize("number", [105, 106])
def test_a_user_without_access_is_told_the_grant(number: int) -> None:
    """A user without access gets 1002 from CGInitBuild (105) and CGImport
    (106): the refusal says `koji grant-cg-access <user> <cg>`."""
    method = "CGInitBuild" if number == 105 else "CGImport"
    _, hub = _hub(**{method: _recorded(number)})
    if number == 105:
        operation = hub.reserve_build(GENERATOR, RECORDED_NVR)
    else:
        operation = hub.import_build(
            GENERATOR, {"build": {"name": "cgmod"}}, directory="d", token=TOKEN
        )
    failure = failure_of(Deferred.fromCoroutine(operation))
    assert failure.check(KojiFault)
    assert failure.value.fault_code == 1002
    assert "`koji grant-cg-access ridad module-build-service`" in failure.value.message


def test_importing_answers_the_complete_build() -> None:
    """CGImport (166) answers the build, COMPLETE; the token is the third
    positional argument, as the recorded client sent it."""
    world, hub = _hub(CGImport=_recorded(166))
    _, args, _ = _request_of(166)
    built = _run(hub.import_build(GENERATOR, args[0], directory=args[1], token=TOKEN))
    assert (built.id, built.state, built.nvr) == (6, "complete", NVR)
    (sent,) = world.hub.calls("CGImport")
    assert sent.args[1:] == (args[1], TOKEN)


@pytest.mark.parametrize("number", [154, 156, 165, 167, 168])
def test_a_stale_token_or_an_existing_build_is_left_to_a_look_up(number: int) -> None:
    """'Token doesn't match build ID 6' (154, 165, 167) and 'Build already
    exists' (156, 168) mean Koji has the NVR in another state: None."""
    _, hub = _hub(CGImport=_recorded(number))
    assert (
        _run(hub.import_build(GENERATOR, {"build": {}}, directory="d", token=TOKEN))
        is None
    )


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (153, "File checksum mismatch for modulemd.txt"),
        (157, "<class 'KeyError'>: 'buildroots'"),
    ],
)
def test_a_refused_import_says_why(number: int, words: str) -> None:
    """A wrong md5 (153) or metadata the hub cannot read (157) is a
    refusal with Koji's words, naming the build."""
    _, hub = _hub(CGImport=_recorded(number))
    failure = failure_of(
        Deferred.fromCoroutine(
            hub.import_build(
                GENERATOR,
                {
                    "build": {
                        "name": "cgmod",
                        "version": "rolling_2",
                        "release": "20261101120000.c0ffee42",
                    }
                },
                directory="d",
                token=TOKEN,
            )
        )
    )
    assert failure.check(KojiFault)
    assert words in failure.value.message
    assert f"Koji refused to import {NVR}" in failure.value.message


def test_an_uploaded_metadata_goes_by_name_and_a_refusal_names_the_file() -> None:
    """CGImport("metadata.json", directory, token): the hub reads the file;
    refused (153), the message names the file, as no NVR was sent."""
    world, hub = _hub(CGImport=_recorded(153))
    failure = failure_of(
        Deferred.fromCoroutine(
            hub.import_build(GENERATOR, "metadata.json", directory="d", token=TOKEN)
        )
    )
    assert failure.check(KojiFault)
    assert "Koji refused to import the build of d/metadata.json" in (
        failure.value.message
    )
    assert world.hub.calls("CGImport")[0].args[0] == "metadata.json"


def test_refund_and_cancel_answer_nothing_and_refusals_are_raised() -> None:
    """CGRefundBuild (159: nil), again (161: not BUILDING, raised), and
    cancelBuild of a reservation (163: true)."""
    world, hub = _hub(CGRefundBuild=_recorded(159), cancelBuild=_recorded(163))
    token = "MaskedToken01" + "x" * 51
    assert _run(hub.refund_build(GENERATOR, 6, token)) is None
    assert _run(hub.cancel_build(6)) is None
    assert world.hub.calls("CGRefundBuild")[0].body == exchange(159).request_body
    assert world.hub.calls("cancelBuild")[0].body == exchange(163).request_body
    _, hub = _hub(CGRefundBuild=_recorded(161))
    failure = failure_of(Deferred.fromCoroutine(hub.refund_build(GENERATOR, 6, TOKEN)))
    assert "Build ID 6 is not in BUILDING state" in failure.value.message


def test_uploads_go_into_the_directory_checked_whole() -> None:
    """Each file is one chunk POST, in the directory; one multicall
    checks them all with checkUpload."""
    world, hub = _hub()
    files = [("modulemd.txt", b"doc\n"), ("build.log", b"log\n")]
    _run(hub.upload_outputs(files, directory="cg-import/x.AbCdEfGh"))
    assert world.hub.files == {
        "cg-import/x.AbCdEfGh/modulemd.txt": bytearray(b"doc\n"),
        "cg-import/x.AbCdEfGh/build.log": bytearray(b"log\n"),
    }
    assert [r.method for r in world.hub.received[1:]] == [
        "rawUpload",
        "rawUpload",
        "multiCall",
    ]


def _request_of(number: int) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    from tests.unit.koji.cg_recorded import request

    return request(number)


@pytest.mark.parametrize(
    ("number", "method", "args", "kwargs"),
    [
        (122, "getRPMHeaders", (), {"rpmID": 9, "headers": ["license"]}),
        (125, "listBuildRPMs", (4,), {}),
        (126, "listBuildRPMs", (3,), {}),
        (119, "getTag", (MODULE_TAG,), {}),
        (142, "getUser", ("kojiadmin",), {}),
    ],
)
def test_the_multicall_entries_encode_as_the_recorded_single_calls(
    number: int, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    """The calls ``module_content`` puts into its multicalls are, alone, the
    koji client's recorded requests byte for byte."""
    assert encode_call(method, args, kwargs) == exchange(number).request_body
