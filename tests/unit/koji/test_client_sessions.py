"""Sessions: login, session headers, call numbers, one call in flight, renewal."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

import pytest
from twisted.internet.defer import Deferred

from ridad.errors import KojiError, KojiFault, KojiUnavailable
from ridad.koji.auth import PasswordAuth, SslAuth
from ridad.koji.client import KojiCall
from tests.helpers import failure_of, result_of
from tests.unit.koji.fakehub import HANG, fault, make_world, result, status

PASSWORD = PasswordAuth("mbs", "secret")


def _run(coroutine: Coroutine[Any, Any, Any]) -> Deferred[Any]:
    return Deferred.fromCoroutine(coroutine)


def test_anonymous_client_sends_no_session_headers() -> None:
    """Without auth nothing logs in and no Koji-Session-* header is sent."""
    world = make_world()
    world.hub.methods["getAPIVersion"] = lambda: 1
    assert result_of(_run(world.client.call("getAPIVersion"))) == 1
    (sent,) = world.hub.received
    assert sent.session == (None, None, None)
    assert sent.headers["user-agent"] == "koji/1"
    assert sent.headers["content-type"] == "text/xml"


def test_anonymous_calls_run_concurrently() -> None:
    """Anonymous requests carry no call number, so they are not serialised."""
    world = make_world()
    world.hub.script(HANG, HANG)
    first = _run(world.client.call("getAPIVersion"))
    second = _run(world.client.call("getKojiVersion"))
    assert [r.method for r in world.hub.received] == ["getAPIVersion", "getKojiVersion"]
    world.finish_hanging(result(1))
    world.finish_hanging(result("1.35.3"))
    assert (result_of(first), result_of(second)) == (1, "1.35.3")


def test_first_call_logs_in_and_sends_session_headers() -> None:
    """With a password the first call logs in, then sends id, key and callnum 0."""
    world = make_world(auth=PASSWORD)
    world.hub.methods["getLoggedInUser"] = lambda: {"name": "mbs"}
    assert result_of(_run(world.client.call("getLoggedInUser"))) == {"name": "mbs"}
    login, call = world.hub.received
    assert (login.method, login.args, login.kwargs) == (
        "login",
        ("mbs", "secret"),
        {"opts": None},
    )
    assert login.session == (None, None, None)
    assert call.session == ("7", "7-firstkey", "0")


def test_call_numbers_go_up_by_one_per_request() -> None:
    """Calls, a multicall and each upload POST take the next call number."""
    world = make_world(auth=PASSWORD)
    world.hub.methods["getAPIVersion"] = lambda: 1
    result_of(_run(world.client.login()))
    result_of(_run(world.client.call("getAPIVersion")))
    result_of(_run(world.client.multicall([KojiCall("getAPIVersion")] * 3)))
    result_of(_run(world.client.upload(b"abcdef", path="p", name="n", chunk_bytes=4)))
    numbered = world.hub.received[1:]
    assert [r.method for r in numbered] == [
        "getAPIVersion",
        "multiCall",
        "rawUpload",
        "rawUpload",
        "checkUpload",
    ]
    assert [r.callnum for r in numbered] == [0, 1, 2, 3, 4]


def test_explicit_login_is_done_once() -> None:
    """login() logs in; a second login() and later calls reuse the session."""
    world = make_world(auth=PASSWORD)
    world.hub.methods["getAPIVersion"] = lambda: 1
    result_of(_run(world.client.login()))
    result_of(_run(world.client.login()))
    result_of(_run(world.client.call("getAPIVersion")))
    assert [r.method for r in world.hub.received] == ["login", "getAPIVersion"]


def test_ssl_login_posts_to_ssllogin() -> None:
    """SslAuth logs in with sslLogin(proxyuser=None) at <hub>/ssllogin."""
    world = make_world(auth=SslAuth(cert="c.pem", key="c.pem"))
    world.hub.methods["getAPIVersion"] = lambda: 1
    result_of(_run(world.client.call("getAPIVersion")))
    login, call = world.hub.received
    assert (login.uri, login.method, login.args, login.kwargs) == (
        "/kojihub/ssllogin",
        "sslLogin",
        (),
        {"proxyuser": None},
    )
    assert (call.uri, call.session) == ("/kojihub", ("7", "7-sslkey", "0"))


def test_concurrent_calls_are_serialised() -> None:
    """A second call is not sent before the first one's answer arrived."""
    world = make_world(auth=PASSWORD)
    result_of(_run(world.client.login()))
    world.hub.script(HANG, result(2))
    first = _run(world.client.call("build", "src", "target"))
    second = _run(world.client.call("getTaskInfo", 1))
    assert [r.method for r in world.hub.received] == ["login", "build"]
    assert not second.called
    world.finish_hanging(result(1))
    assert (result_of(first), result_of(second)) == (1, 2)
    assert [(r.method, r.callnum) for r in world.hub.received[1:]] == [
        ("build", 0),
        ("getTaskInfo", 1),
    ]


def test_concurrent_first_calls_log_in_once() -> None:
    """Two calls made before any login share the one login the first one makes."""
    world = make_world(auth=PASSWORD)
    world.hub.methods["getAPIVersion"] = lambda: 1
    world.hub.script(HANG)
    first = _run(world.client.call("getAPIVersion"))
    second = _run(world.client.call("getAPIVersion"))
    world.finish_hanging(result({"session-id": 7, "session-key": "7-firstkey"}))
    assert (result_of(first), result_of(second)) == (1, 1)
    assert [(r.method, r.callnum) for r in world.hub.received] == [
        ("login", None),
        ("getAPIVersion", 0),
        ("getAPIVersion", 1),
    ]


def test_expired_session_is_renewed_and_the_call_retried_once() -> None:
    """AuthExpired makes a renew=True login on the old session, then one retry."""
    world = make_world(auth=PASSWORD)
    result_of(_run(world.client.login()))
    world.hub.script(
        fault(1007, 'session "7" has expired'),
        result({"session-id": 7, "session-key": "7-renewedkey"}),
        result(42),
    )
    assert result_of(_run(world.client.call("build", "src", "target"))) == 42
    expired, renewal, retried = world.hub.received[1:]
    assert (renewal.method, renewal.args) == ("login", ("mbs", "secret"))
    assert renewal.kwargs == {"opts": None, "renew": True, "exclusive": False}
    assert expired.session == ("7", "7-firstkey", "0")
    assert renewal.session == ("7", "7-firstkey", "1")
    assert retried.session == ("7", "7-renewedkey", "2")
    assert retried.body == expired.body


def test_second_auth_expired_is_raised() -> None:
    """The call is retried only once after a renewal."""
    world = make_world(auth=PASSWORD)
    result_of(_run(world.client.login()))
    world.hub.script(
        fault(1007, "expired"),
        result({"session-id": 7, "session-key": "7-renewedkey"}),
        fault(1007, "expired again"),
    )
    failure = failure_of(_run(world.client.call("getAPIVersion")), KojiFault)
    assert failure.value.fault_name == "AuthExpired"
    assert len(world.hub.received) == 4


def test_refused_renewal_is_replaced_by_a_new_login_and_the_call_sent() -> None:
    """When Koji refuses the renewal (AuthError), the client logs in afresh,
    closes the old session by id and sends the call, numbered from 0 again."""
    world = make_world(auth=PASSWORD)
    _second_login(world)
    result_of(_run(world.client.login()))
    world.hub.script(fault(1007, "expired"), fault(1002, "Invalid session"))
    assert result_of(_run(world.client.call("getAPIVersion"))) == 1
    assert [(r.method, r.session[0], r.callnum) for r in world.hub.received] == [
        ("login", None, None),
        ("getAPIVersion", "7", 0),
        ("login", "7", 1),
        ("login", None, None),
        ("logout", "8", 0),
        ("getAPIVersion", "8", 1),
    ]
    assert world.hub.received[4].kwargs == {"session_id": 7}


def test_renewal_failing_otherwise_is_raised_and_forgets_the_session() -> None:
    """A renewal that fails for another reason raises; the next call logs in."""
    world = make_world(auth=PASSWORD)
    world.hub.methods["getAPIVersion"] = lambda: 1
    result_of(_run(world.client.login()))
    world.hub.script(fault(1007, "expired"), fault(1000, "database trouble"))
    failure_of(_run(world.client.call("getAPIVersion")), KojiFault)
    assert result_of(_run(world.client.call("getAPIVersion"))) == 1
    login, call = world.hub.received[-2:]
    assert (login.method, login.session) == ("login", (None, None, None))
    assert call.session == ("7", "7-firstkey", "0")


def test_auth_error_forgets_the_session_without_retrying() -> None:
    """AuthError 1002 is raised; the next call logs in again and restarts at 0."""
    world = make_world(auth=PASSWORD)
    world.hub.methods["getAPIVersion"] = lambda: 1
    result_of(_run(world.client.login()))
    world.hub.script(fault(1002, "Invalid session or bad credentials"))
    failure = failure_of(_run(world.client.call("getAPIVersion")), KojiFault)
    assert failure.value.fault_name == "AuthError"
    assert result_of(_run(world.client.call("getAPIVersion"))) == 1
    assert [(r.method, r.callnum) for r in world.hub.received] == [
        ("login", None),
        ("getAPIVersion", 0),
        ("login", None),
        ("getAPIVersion", 0),
    ]


def test_refused_login_raises_auth_error() -> None:
    """Bad credentials raise KojiFault 1002 from the call that logged in."""
    world = make_world(auth=PASSWORD)
    world.hub.script(fault(1002, "invalid username or password"))
    failure = failure_of(_run(world.client.call("getAPIVersion")), KojiFault)
    assert (failure.value.fault_code, failure.value.message) == (
        1002,
        "invalid username or password",
    )
    assert [r.method for r in world.hub.received] == ["login"]


def test_login_answer_without_session_is_a_koji_error() -> None:
    """A login answer lacking session-id/key raises KojiError."""
    world = make_world(auth=PASSWORD)
    world.hub.script(result(None))
    failure_of(_run(world.client.login()), KojiError)


def test_logout_closes_the_session_and_the_next_call_logs_in() -> None:
    """logout() sends logout(session_id=None) with the session, then forgets it."""
    world = make_world(auth=PASSWORD)
    world.hub.methods["getAPIVersion"] = lambda: 1
    result_of(_run(world.client.login()))
    result_of(_run(world.client.logout()))
    result_of(_run(world.client.logout()))
    result_of(_run(world.client.call("getAPIVersion")))
    assert [(r.method, r.callnum) for r in world.hub.received] == [
        ("login", None),
        ("logout", 0),
        ("login", None),
        ("getAPIVersion", 0),
    ]
    assert world.hub.received[1].kwargs == {"session_id": None}


@pytest.mark.parametrize("action", ["login", "upload"])
def test_anonymous_client_cannot_log_in_or_upload(action: str) -> None:
    """login() and upload() without credentials raise KojiError and send nothing."""
    world = make_world()
    if action == "login":
        coroutine = world.client.login()
    else:
        coroutine = world.client.upload(b"x", path="p", name="n")
    failure_of(_run(coroutine), KojiError)
    assert world.hub.received == []


def test_round_trips_count_every_http_request() -> None:
    """round_trips counts logins and calls alike."""
    world = make_world(auth=PASSWORD)
    world.hub.methods["getAPIVersion"] = lambda: 1
    result_of(_run(world.client.call("getAPIVersion")))
    result_of(_run(world.client.call("getAPIVersion")))
    assert world.client.round_trips == 3


def test_logout_is_one_attempt_and_forgets_the_session_anyway() -> None:
    """At shutdown a hub in trouble is not waited for: 503 is not retried."""
    world = make_world(auth=PASSWORD)
    result_of(_run(world.client.login()))
    world.hub.script(status(503))
    failure_of(_run(world.client.logout()), KojiUnavailable)
    assert [r.method for r in world.hub.received] == ["login", "logout"]
    assert world.clock.getDelayedCalls() == []
    result_of(_run(world.client.logout()))
    assert len(world.hub.received) == 2


def test_logout_of_a_session_the_hub_no_longer_knows_is_done() -> None:
    """AuthError to logout means the session is closed already."""
    world = make_world(auth=PASSWORD)
    result_of(_run(world.client.login()))
    world.hub.script(fault(1002, "Invalid session or bad credentials"))
    result_of(_run(world.client.logout()))


def _second_login(world: Any) -> None:
    logins = iter(
        [
            {"session-id": 7, "session-key": "7-a"},
            {"session-id": 8, "session-key": "8-b"},
        ]
    )
    world.hub.methods["login"] = lambda *a, **k: next(logins)
    world.hub.methods["getAPIVersion"] = lambda: 1


def test_session_given_up_after_auth_error_is_logged_out_by_the_next() -> None:
    """The next login closes the old session by id, so none stays open."""
    world = make_world(auth=PASSWORD)
    _second_login(world)
    result_of(_run(world.client.login()))
    world.hub.script(fault(1002, "Invalid session or bad credentials"))
    failure_of(_run(world.client.call("getAPIVersion")), KojiFault)
    assert result_of(_run(world.client.call("getAPIVersion"))) == 1
    assert [(r.method, r.session[0], r.callnum) for r in world.hub.received] == [
        ("login", None, None),
        ("getAPIVersion", "7", 0),
        ("login", None, None),
        ("logout", "8", 0),
        ("getAPIVersion", "8", 1),
    ]
    assert world.hub.received[3].kwargs == {"session_id": 7}


def test_refused_logout_of_a_replaced_session_does_not_fail_the_call() -> None:
    """Closing the old session is best effort: the call goes on."""
    world = make_world(auth=PASSWORD)
    _second_login(world)
    result_of(_run(world.client.login()))
    world.hub.script(
        fault(1002, "Invalid session"),
        result({"session-id": 8, "session-key": "8-b"}),
        fault(1004, "only admins or owner may logout other session"),
    )
    failure_of(_run(world.client.call("getAPIVersion")), KojiFault)
    assert result_of(_run(world.client.call("getAPIVersion"))) == 1
    assert [r.method for r in world.hub.received][-2:] == ["logout", "getAPIVersion"]
