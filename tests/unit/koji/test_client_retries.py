"""Retries: transport trouble, 5xx and ServerOffline wait and retry; faults do not."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

import pytest
from OpenSSL import SSL
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionRefusedError, DNSLookupError
from twisted.logger import LogLevel, capturedLogs
from twisted.python.failure import Failure
from twisted.web.client import ResponseNeverReceived

from ridad.errors import KojiAnswerLost, KojiError, KojiFault, KojiUnavailable
from ridad.koji.auth import PasswordAuth
from ridad.koji.retry import RetryPolicy
from tests.helpers import failure_of, result_of
from tests.unit.koji.fakehub import HANG, Reply, fault, make_world, result, status
from tests.unit.koji.recordings import load

PASSWORD = PasswordAuth("kojiadmin", "kojiadmin")
SHORT = RetryPolicy(
    initial_seconds=1.0, factor=2.0, max_seconds=4.0, give_up_after_seconds=10.0
)


def _run(coroutine: Coroutine[Any, Any, Any]) -> Deferred[Any]:
    return Deferred.fromCoroutine(coroutine)


def _tls_failure(message: str) -> ResponseNeverReceived:
    error = SSL.Error([("SSL routines", "", message)])
    return ResponseNeverReceived([Failure(error)])


def test_refused_connection_is_retried_with_growing_delays() -> None:
    """Refused connections are retried after 1 s, then 2 s, on the clock."""
    world = make_world(retry=SHORT)
    world.hub.methods["getAPIVersion"] = lambda: 1
    world.agent.refusals = [ConnectionRefusedError(), ConnectionRefusedError()]
    with capturedLogs() as events:
        d = _run(world.client.call("getAPIVersion"))
        world.clock.advance(0.99)
        assert not d.called
        world.clock.advance(0.01)
        world.clock.advance(1.99)
        assert not d.called
        world.clock.advance(0.01)
    assert result_of(d) == 1
    warnings = [e for e in events if e["log_level"] == LogLevel.warn]
    assert [(e["attempt"], e["duration_seconds"], e["method"]) for e in warnings] == [
        (1, 1.0, "getAPIVersion"),
        (2, 2.0, "getAPIVersion"),
    ]
    assert world.client.round_trips == 3
    assert world.clock.getDelayedCalls() == []


def test_jitter_shortens_the_delay_to_no_less_than_half() -> None:
    """With the random source at 0 the first retry waits half the initial delay."""
    world = make_world(retry=SHORT, random=lambda: 0.0)
    world.hub.methods["getAPIVersion"] = lambda: 1
    world.agent.refusals = [ConnectionRefusedError()]
    d = _run(world.client.call("getAPIVersion"))
    world.clock.advance(0.5)
    assert result_of(d) == 1


@pytest.mark.parametrize("reply", [status(503), status(502), status(408)])
def test_server_errors_are_retried(reply: Reply) -> None:
    """HTTP 5xx and 408 answers are retried like transport trouble."""
    world = make_world(retry=SHORT)
    world.hub.methods["getAPIVersion"] = lambda: 1
    world.hub.script(reply)
    d = _run(world.client.call("getAPIVersion"))
    world.clock.advance(1.0)
    assert result_of(d) == 1


@pytest.mark.parametrize("code", [400, 404, 405])
def test_other_http_statuses_are_not_retried(code: int) -> None:
    """A 4xx answer is a KojiError at once, not KojiUnavailable."""
    world = make_world(retry=SHORT)
    world.hub.script(status(code))
    failure = failure_of(_run(world.client.call("getAPIVersion")), KojiError)
    assert not isinstance(failure.value, KojiUnavailable)
    assert failure.value.details == {"http_status": code}
    assert world.client.round_trips == 1


def test_server_offline_is_waited_out() -> None:
    """ServerOffline (1014) is retried until the hub is back."""
    world = make_world(retry=SHORT)
    world.hub.methods["getAPIVersion"] = lambda: 1
    world.hub.script(fault(1014, "down for upgrade"), fault(1014, "down for upgrade"))
    d = _run(world.client.call("getAPIVersion"))
    world.clock.advance(1.0)
    world.clock.advance(2.0)
    assert result_of(d) == 1


def test_server_offline_gives_up_as_koji_unavailable() -> None:
    """An offline hub past the give-up time raises KojiUnavailable with the code."""
    world = make_world(retry=SHORT)
    world.hub.script(*[fault(1014, "down")] * 10)
    d = _run(world.client.call("getAPIVersion"))
    world.clock.pump([1.0, 2.0, 4.0, 4.0])
    failure = failure_of(d, KojiUnavailable)
    assert failure.value.details == {"fault_code": 1014, "attempts": 4}


def test_unreachable_hub_gives_up_after_the_limit() -> None:
    """Attempts stop once the next one would start past give_up_after_seconds."""
    world = make_world(retry=SHORT)
    world.agent.refusals = [ConnectionRefusedError()] * 10
    d = _run(world.client.call("getAPIVersion"))
    world.clock.pump([1.0, 2.0, 4.0])  # attempts at 0, 1, 3 and 7 s
    failure = failure_of(d, KojiUnavailable)
    assert failure.value.details["attempts"] == 4
    assert "ConnectionRefusedError" in failure.value.message
    assert world.clock.seconds() == 7.0
    assert world.clock.getDelayedCalls() == []


def test_dns_failure_is_retried() -> None:
    """A failed name lookup is transport trouble."""
    world = make_world(retry=SHORT)
    world.hub.methods["getAPIVersion"] = lambda: 1
    world.agent.refusals = [DNSLookupError("koji.test")]
    d = _run(world.client.call("getAPIVersion"))
    world.clock.advance(1.0)
    assert result_of(d) == 1


def test_tls_handshake_failure_is_retried() -> None:
    """A TLS failure that is not about certificates is transport trouble."""
    world = make_world(retry=SHORT)
    world.hub.methods["getAPIVersion"] = lambda: 1
    world.agent.refusals = [_tls_failure("unexpected eof while reading")]
    d = _run(world.client.call("getAPIVersion"))
    world.clock.advance(1.0)
    assert result_of(d) == 1


@pytest.mark.parametrize(
    "message", ["certificate verify failed", "sslv3 alert bad certificate"]
)
def test_certificate_failure_is_not_retried(message: str) -> None:
    """A certificate the other side refuses is a KojiError at once."""
    world = make_world(retry=SHORT)
    world.agent.refusals = [_tls_failure(message)]
    failure = failure_of(_run(world.client.call("getAPIVersion")), KojiError)
    assert not isinstance(failure.value, KojiUnavailable)
    assert world.clock.getDelayedCalls() == []


def test_timeout_counts_as_transport_trouble() -> None:
    """A hub that does not answer within timeout_seconds is asked again."""
    world = make_world(retry=SHORT, timeout_seconds=5.0)
    world.hub.methods["getAPIVersion"] = lambda: 1
    world.hub.script(HANG)
    with capturedLogs() as events:
        d = _run(world.client.call("getAPIVersion"))
        world.clock.advance(4.99)
        assert len(world.hub.received) == 1
        world.clock.advance(0.01)
        assert not d.called
        world.clock.advance(1.0)
    assert result_of(d) == 1
    (warning,) = [e for e in events if e["log_level"] == LogLevel.warn]
    assert "timed out" in str(warning["log_failure"].value)
    assert world.clock.getDelayedCalls() == []


@pytest.mark.parametrize("code", [1000, 1002, 1004, 1008, 1009, 1019])
def test_faults_are_not_retried(code: int) -> None:
    """A fault other than AuthExpired or ServerOffline is raised at once."""
    world = make_world(auth=PASSWORD, retry=SHORT)
    result_of(_run(world.client.login()))
    world.hub.script(fault(code, "no"))
    failure = failure_of(_run(world.client.call("tagBuild", "t", "b")), KojiFault)
    assert failure.value.fault_code == code
    assert len(world.hub.received) == 2
    assert world.clock.getDelayedCalls() == []


def test_resend_after_lost_reply_keeps_the_call_number_and_surfaces_retry_error() -> (
    None
):
    """A write whose reply was lost is resent as is; the hub's 1009 is raised."""
    write, refused = load(78), load(79)
    world = make_world(auth=PASSWORD, retry=SHORT)
    world.hub.script(
        Reply(body=load(6).response_body),
        Reply(body=write.response_body),
        Reply(body=refused.response_body),
    )
    result_of(_run(world.client.login()))
    method, args, kwargs = write.call()
    world.agent.lost_replies = 1
    with capturedLogs() as events:
        d = _run(world.client.call(method, *args, **kwargs))
        world.clock.advance(1.0)
    failure = failure_of(d, KojiAnswerLost)
    assert (failure.value.fault_code, failure.value.fault_name) == (1009, "RetryError")
    assert failure.value.message == (
        "The answer to packageListAdd was lost and Koji refused to run it again:"
        " unable to retry call 71 (method packageListAdd) for session 2"
    )
    first, resent = world.hub.received[1:]
    assert first.body == resent.body == write.request_body == refused.request_body
    assert first.session == resent.session == ("2", "1-MaskedKey01xxxxxxxx", "0")
    assert any(
        e["log_level"] == LogLevel.warn and e.get("attempt") == 2 for e in events
    )


def test_retry_keeps_the_call_number_and_the_next_call_moves_on() -> None:
    """A retried request reuses its number; the following request takes the next."""
    world = make_world(auth=PASSWORD, retry=SHORT)
    world.hub.methods["getAPIVersion"] = lambda: 1
    result_of(_run(world.client.login()))
    world.hub.script(status(503))
    d = _run(world.client.call("getAPIVersion"))
    world.clock.advance(1.0)
    result_of(d)
    result_of(_run(world.client.call("getAPIVersion")))
    assert [r.callnum for r in world.hub.received[1:]] == [0, 0, 1]


def test_multicall_is_retried_as_one_request() -> None:
    """Transport trouble on a multicall resends the whole batch once more."""
    from ridad.koji.client import KojiCall

    world = make_world(retry=SHORT)
    world.hub.methods["getAPIVersion"] = lambda: 1
    world.hub.script(status(503))
    d = _run(world.client.multicall([KojiCall("getAPIVersion")] * 2))
    world.clock.advance(1.0)
    assert result_of(d) == [1, 1]
    assert [r.method for r in world.hub.received] == ["multiCall", "multiCall"]


def test_hanging_login_times_out_and_is_retried() -> None:
    """A login is retried like any other request."""
    world = make_world(auth=PASSWORD, retry=SHORT, timeout_seconds=5.0)
    world.hub.methods["getAPIVersion"] = lambda: 1
    world.hub.script(HANG)
    d = _run(world.client.call("getAPIVersion"))
    world.clock.pump([5.0, 1.0])
    assert result_of(d) == 1
    assert [r.method for r in world.hub.received] == ["login", "login", "getAPIVersion"]


def test_successful_result_is_returned_unchanged() -> None:
    """The decoded value is returned (a sanity check of the harness)."""
    world = make_world()
    world.hub.script(result({"a": None}))
    assert result_of(_run(world.client.call("x"))) == {"a": None}


def test_retry_error_on_a_first_attempt_is_a_plain_fault() -> None:
    """1009 without a resend is not a lost answer (nothing of this call ran)."""
    world = make_world(auth=PASSWORD, retry=SHORT)
    result_of(_run(world.client.login()))
    world.hub.script(fault(1009, "unable to retry call 0 (method x) for session 7"))
    failure = failure_of(_run(world.client.call("createTag", "t")), KojiFault)
    assert not isinstance(failure.value, KojiAnswerLost)


def test_lost_answer_of_reads_only_is_sent_again_under_the_next_number() -> None:
    """A multicall of reads whose resend got 1009 goes once more, numbered anew."""
    from ridad.koji.client import KojiCall

    world = make_world(auth=PASSWORD, retry=SHORT)
    world.hub.methods["getTag"] = lambda name: {"id": 1, "name": name}
    result_of(_run(world.client.login()))
    world.hub.script(
        status(502), fault(1009, "unable to retry call 0 (method multiCall)")
    )
    d = _run(world.client.multicall([KojiCall("getTag", ("a",))]))
    world.clock.advance(1.0)
    assert result_of(d) == [{"id": 1, "name": "a"}]
    assert [(r.method, r.callnum) for r in world.hub.received[1:]] == [
        ("multiCall", 0),
        ("multiCall", 0),
        ("multiCall", 1),
    ]


def test_lost_answer_of_a_multicall_with_a_write_is_raised() -> None:
    """One write among reads makes the multicall's lost answer the caller's."""
    from ridad.koji.client import KojiCall

    world = make_world(auth=PASSWORD, retry=SHORT)
    result_of(_run(world.client.login()))
    world.hub.script(
        status(502), fault(1009, "unable to retry call 0 (method multiCall)")
    )
    calls = [KojiCall("getTag", ("a",)), KojiCall("createTag", ("a",))]
    d = _run(world.client.multicall(calls))
    world.clock.advance(1.0)
    failure_of(d, KojiAnswerLost)
    assert len(world.hub.received) == 3


def test_reads_whose_answers_keep_getting_lost_give_up_after_three_numbers() -> None:
    """A multicall of reads is numbered anew at most twice; then the loss is raised."""
    from ridad.koji.client import READ_REPEATS, KojiCall

    world = make_world(auth=PASSWORD, retry=SHORT)
    result_of(_run(world.client.login()))
    lost = (status(502), fault(1009, "unable to retry call (method multiCall)"))
    world.hub.script(*lost * READ_REPEATS)
    d = _run(world.client.multicall([KojiCall("getTag", ("a",))]))
    for _ in range(READ_REPEATS):
        world.clock.advance(1.0)
    failure_of(d, KojiAnswerLost)
    assert [r.callnum for r in world.hub.received[1:]] == [0, 0, 1, 1, 2, 2]
