"""Failure injection: offline hub, dropped connections, slow replies,
one-off faults, lost answers and expired sessions; counting open sessions."""

from __future__ import annotations

from typing import Any

import koji
import pytest
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.web._newclient import ResponseNeverReceived

from ridad.kojisim.hub import KojiHub
from tests.helpers import failure_of, result_of
from tests.unit.kojisim.support import HUB_URL, HubClient


def _fired(deferred: Deferred[Any]) -> bool:
    """Whether a Deferred has its result (and is not waiting on another)."""
    outcome: list[Any] = []
    deferred.addBoth(lambda result: outcome.append(result) or result)
    return bool(outcome)


def test_offline_hub_answers_server_offline_to_every_post(
    hub: KojiHub, admin: HubClient
) -> None:
    """set_offline makes every POST a 1014 fault with the message; GET stays 405."""
    hub.set_offline("Koji is down for maintenance")
    assert admin.fault_of("getAPIVersion") == (1014, "Koji is down for maintenance")
    assert admin.fault_of("multiCall", []) == (1014, "Koji is down for maintenance")
    assert admin.http("POST", b"").code == 200
    assert admin.http("GET").code == 405
    hub.set_offline(None)
    assert admin.call("getAPIVersion") == 1


def test_dropped_connections_get_no_response(
    hub: KojiHub, anonymous: HubClient
) -> None:
    """The next N requests lose their connection without a reply; then all is well."""
    hub.drop_connections(2)
    for _ in range(2):
        deferred = anonymous.stub.request("POST", HUB_URL, data=b"<x/>")
        anonymous.stub.flush()
        failure_of(deferred, ResponseNeverReceived)
    assert anonymous.call("getAPIVersion") == 1


def test_dropped_write_may_still_have_committed_nothing(
    hub: KojiHub, admin: HubClient
) -> None:
    """A dropped request is not processed at all."""
    hub.drop_connections(1)
    deferred = admin.stub.request("POST", HUB_URL, data=b"createTag")
    admin.stub.flush()
    failure_of(deferred, ResponseNeverReceived)
    assert admin.call("getLastEvent")["id"] == 3


def test_slow_calls_hold_replies_on_the_clock(
    hub: KojiHub, clock: Clock, anonymous: HubClient
) -> None:
    """With slow_calls(5) a reply arrives only after 5 seconds on the clock."""
    hub.slow_calls(5)
    body = koji.xmlrpcplus.dumps((), methodname="getAPIVersion").encode()
    deferred = anonymous.stub.request("POST", HUB_URL, data=body)
    anonymous.stub.flush()
    assert not _fired(deferred)
    clock.advance(4.9)
    anonymous.stub.flush()
    assert not _fired(deferred)
    clock.advance(0.1)
    anonymous.stub.flush()
    assert result_of(deferred).code == 200
    hub.slow_calls(0)
    assert anonymous.call("getAPIVersion") == 1


def test_slow_write_commits_before_its_late_reply(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """The work is done at once; only the reply is late (a retry gets 1009)."""
    hub.slow_calls(30)
    body = koji.xmlrpcplus.dumps(("t",), methodname="createTag").encode()
    headers = {
        "Koji-Session-Id": [str(admin.session["session-id"])],
        "Koji-Session-Key": [admin.session["session-key"]],
        "Koji-Session-Callnum": ["7"],
    }
    deferred = admin.stub.request("POST", HUB_URL, data=body, headers=headers)
    admin.stub.flush()
    assert not _fired(deferred)
    assert [t.name for t in hub.tags.values()] == ["t"]
    hub.slow_calls(0)
    admin.callnum = 7
    assert admin.fault_of("createTag", "t")[0] == koji.RetryError.faultCode
    clock.advance(30)


def test_fail_next_fails_one_call_of_that_method(admin: HubClient) -> None:
    """fail_next makes only the next call of the method fail, with that fault."""
    admin.hub.fail_next("getTaskInfo", 1014, "database outage")
    assert admin.fault_of("getTaskInfo", 1) == (1014, "database outage")
    assert admin.call("getTaskInfo", 1) is None


def test_fail_next_applies_inside_a_multicall(admin: HubClient) -> None:
    """An injected fault hits the multicall entry of that method alone."""
    admin.hub.fail_next("getAPIVersion", koji.GenericError.faultCode, "boom")
    results = admin.call(
        "multiCall",
        [
            {"methodName": "getAPIVersion", "params": []},
            {"methodName": "getAPIVersion", "params": []},
        ],
    )
    assert results[0]["faultString"] == "boom" and results[1] == [1]


def test_fail_next_with_an_unknown_code_is_a_plain_fault(admin: HubClient) -> None:
    """A code no koji class has still goes out as that fault."""
    admin.hub.fail_next("getAPIVersion", 4242, "odd")
    assert admin.fault_of("getAPIVersion") == (4242, "odd")


def test_expire_sessions_spares_the_builder(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """After expire_sessions the builder still runs tasks."""
    admin.call("createTag", "t")
    task_id = admin.call("newRepo", "t")
    hub.expire_sessions()
    for _ in range(10):
        clock.advance(0.1)
    assert hub.tasks[task_id].state == koji.TASK_STATES["CLOSED"]


def _multicall_body(*calls: tuple[str, tuple[Any, ...]]) -> bytes:
    entries = [
        {"methodName": name, "params": list(koji.encode_args(*args))}
        for name, args in calls
    ]
    return koji.xmlrpcplus.dumps((entries,), methodname="multiCall").encode()


def test_lost_answer_of_a_write_commits_then_gets_a_proxy_502(
    hub: KojiHub, admin: HubClient
) -> None:
    """lose_answer runs and commits the write, then answers 502 as a proxy
    would (no Koji-Version); the same request resent with the same call number
    gets RetryError 1009 worded as the real hub's (recording 079)."""
    admin.call("createTag", "t")
    hub.lose_answer("packageListAdd")
    callnum = admin.callnum
    reply = admin.raw_call("packageListAdd", "t", "alpha", owner="admin")
    assert reply.code == 502
    assert "koji-version" not in reply.headers
    assert [p["package_name"] for p in admin.call("listPackages", tagID="t")] == [
        "alpha"
    ]
    admin.callnum = callnum
    session = admin.session["session-id"]
    assert admin.fault_of("packageListAdd", "t", "alpha", owner="admin") == (
        1009,
        f"unable to retry call {callnum} (method packageListAdd) for session {session}",
    )
    assert admin.call("getAPIVersion") == 1


def test_lost_answer_applies_to_a_multicall_holding_the_method(
    hub: KojiHub, admin: HubClient
) -> None:
    """A method inside a multicall loses the whole multicall's answer; the
    resend is refused naming multiCall, as in the issue's real-hub run."""
    hub.lose_answer("createTag")
    callnum = admin.callnum
    body = _multicall_body(("getAPIVersion", ()), ("createTag", ("t",)))
    assert admin.http("POST", body).code == 502
    assert [t.name for t in hub.tags.values()] == ["t"]
    admin.callnum = callnum
    reply = admin.http("POST", body)
    assert b"unable to retry call" in reply.body and b"(method multiCall)" in reply.body
    assert admin.call("multiCall", []) == []


def test_lost_answer_only_hits_requests_calling_that_method(
    hub: KojiHub, admin: HubClient
) -> None:
    """Other requests keep their answers until one calls the method."""
    hub.lose_answer("newRepo")
    admin.call("createTag", "t")
    assert admin.call("getTag", "t")["name"] == "t"
    assert hub.answers_to_lose == 1
    assert admin.raw_call("newRepo", "t").code == 502
    assert hub.answers_to_lose == 0
    assert [t.method for t in hub.tasks.values()] == ["newRepo"]
    assert isinstance(admin.call("newRepo", "t"), int)


def test_lost_answer_by_closing_the_connection(hub: KojiHub, admin: HubClient) -> None:
    """how=close aborts the connection after the commit: no reply at all."""
    hub.lose_answer("createTag", how="close")
    body = koji.xmlrpcplus.dumps(("t",), methodname="createTag").encode()
    headers = {
        "Koji-Session-Id": [str(admin.session["session-id"])],
        "Koji-Session-Key": [admin.session["session-key"]],
        "Koji-Session-Callnum": ["5"],
    }
    deferred = admin.stub.request("POST", HUB_URL, data=body, headers=headers)
    admin.stub.flush()
    failure_of(deferred, ResponseNeverReceived)
    assert [t.name for t in hub.tags.values()] == ["t"]
    admin.callnum = 5
    assert admin.fault_of("createTag", "t")[0] == koji.RetryError.faultCode


def test_lost_upload_answer_can_be_resent_with_the_same_call_number(
    hub: KojiHub, admin: HubClient
) -> None:
    """A fast upload commits nothing in the database, so the hub stores no call
    number for it: the resent chunk is written again at the same offset."""
    hub.lose_answer("rawUpload")
    query = "filename=f.bin&filepath=up&fileverify=adler32&offset=0&overwrite=1"
    callnum = admin.callnum
    octets = {"Content-Type": "application/octet-stream"}
    url = f"{HUB_URL}?{query}"
    assert admin.http("POST", b"abc", headers=octets, url=url).code == 502
    admin.callnum = callnum
    again = admin.http("POST", b"abc", headers=octets, url=url)
    assert again.code == 200 and b"hexdigest" in again.body
    assert admin.call("checkUpload", "up", "f.bin")["size"] == 3


def test_lose_answer_refuses_an_unknown_way(hub: KojiHub) -> None:
    """Only 502 and close are ways to lose an answer."""
    with pytest.raises(ValueError, match="502 or close"):
        hub.lose_answer("createTag", how="teapot")


def test_open_sessions_counts_until_logout(hub: KojiHub, admin: HubClient) -> None:
    """Each login opens a session, expiry does not close it, logout does."""
    other = HubClient(hub)
    other.login("alice", "alice")
    assert (hub.open_sessions(), hub.open_sessions("admin")) == (2, 1)
    hub.expire_sessions()
    assert hub.open_sessions() == 2
    other.callnum = 0
    other.session = other.call("login", "alice", "alice", opts=None, renew=True)
    other.call("logout")
    assert (hub.open_sessions(), hub.open_sessions("alice")) == (1, 0)
    assert hub.open_sessions("nobody") == 0
