"""Failure injection: offline hub, dropped connections, slow replies,
one-off faults and expired sessions."""

from __future__ import annotations

from typing import Any

import koji
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
