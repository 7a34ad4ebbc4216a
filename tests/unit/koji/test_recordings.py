"""The client sends the real koji client's bytes and reads the real hub's answers.

Each test replays recorded exchanges (``tests/data/koji-recordings``): the fake
hub answers with the recorded response bodies, in order, and the requests
the client made are compared with the recorded requests byte for byte, body,
target and headers (session key, id and call number included: the recorded
login answer carries the masked key the recordings use throughout).
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

import pytest
from koji import xmlrpcplus
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from ridad.errors import KojiFault
from ridad.koji.auth import PasswordAuth
from ridad.koji.client import KojiCall, KojiClient
from tests.unit.koji.fakehub import FakeHub, Received, Reply, make_world
from tests.unit.koji.recordings import Exchange, load, recordings_dir, response_value

ANONYMOUS = [1, 2, 3, 4, 85, 86, 87, 88, 89, 90]
# 039 re-sends an upload without overwrite=1, which ridad never does; 040-041
# are the legacy uploadFile calls, replayed as plain calls.
SESSION = [n for n in range(7, 77) if n not in (38, 39)]
KOJIADMIN = PasswordAuth("kojiadmin", "kojiadmin")


def _outcome(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a client coroutine that must finish at once: its value or Failure."""
    outcomes: list[Any] = []
    Deferred.fromCoroutine(coroutine).addBoth(outcomes.append)
    assert outcomes, "the call did not finish"
    return outcomes[0]


def _drive(client: KojiClient, exchange: Exchange) -> Any:
    """Make the client call that produced ``exchange``; return what it gave."""
    if exchange.method == "rawUpload":
        path, name = "cli-build/20261101100000.AbCdEfGh", "alpha-1.0-1.src.rpm"
        return _outcome(client.upload(exchange.request_body, path=path, name=name))
    method, args, kwargs = exchange.call()
    if method == "multiCall":
        calls = [
            KojiCall(entry["methodName"], *_decoded(entry["params"]))
            for entry in args[0]
        ]
        return _outcome(client.multicall(calls))
    return _outcome(client.call(method, *args, **kwargs))


def _decoded(params: list[Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    from koji import decode_args

    args, kwargs = decode_args(*params)
    return tuple(args), kwargs


def _script(hub: FakeHub, numbers: list[int]) -> list[Exchange]:
    exchanges = [load(n) for n in numbers]
    hub.script(*(Reply(status=e.status, body=e.response_body) for e in exchanges))
    return exchanges


def _assert_same_request(sent: Received, recorded: Exchange) -> None:
    """Body, target and koji's own headers are the recorded ones."""
    assert sent.body == recorded.request_body, recorded.number
    assert sent.uri == recorded.target, recorded.number
    for name in ("User-Agent", "Content-Type", "Koji-Session-Id", "Koji-Session-Key"):
        assert sent.headers.get(name.lower()) == recorded.request_header(name), name


def _assert_same_result(got: Any, recorded: Exchange) -> None:
    """The client's result is the recorded answer, faults as KojiFault."""
    expected = response_value(recorded)
    if isinstance(expected, xmlrpcplus.Fault):
        assert isinstance(got, Failure) and isinstance(got.value, KojiFault)
        assert (got.value.fault_code, got.value.message) == (
            expected.faultCode,
            expected.faultString,
        )
        assert recorded.result == f"fault {expected.faultCode} {got.value.fault_name}"
    elif recorded.method == "multiCall":
        assert [_plain(item) for item in got] == [_plain(item) for item in expected]
    elif recorded.method != "rawUpload":
        assert got == expected, recorded.number


def _plain(item: Any) -> Any:
    """A multicall item compared by value: [value], or (code, message)."""
    if isinstance(item, KojiFault):
        return (item.fault_code, item.message)
    if isinstance(item, dict) and "faultCode" in item:
        return (item["faultCode"], item["faultString"])
    return [item] if not isinstance(item, list) or len(item) != 1 else item


def test_recordings_are_present() -> None:
    """The recordings folder holds the 94 recorded exchanges these tests replay."""
    assert len(list(recordings_dir().glob("[0-9][0-9][0-9]-*.xml"))) == 94


@pytest.mark.parametrize("number", ANONYMOUS)
def test_anonymous_call_sends_the_recorded_request(number: int) -> None:
    """An anonymous call's request is the recorded one and its answer decodes alike."""
    world = make_world()
    (exchange,) = _script(world.hub, [number])
    got = _drive(world.client, exchange)
    (sent,) = world.hub.received
    _assert_same_request(sent, exchange)
    assert sent.callnum is None
    _assert_same_result(got, exchange)


def test_bad_password_login_sends_the_recorded_request() -> None:
    """A refused password login is exchange 005 and raises AuthError 1002."""
    world = make_world(auth=PasswordAuth("kojiadmin", "wrong-password"))
    (exchange,) = _script(world.hub, [5])
    got = _outcome(world.client.login())
    _assert_same_request(world.hub.received[0], exchange)
    _assert_same_result(got, exchange)


def test_logged_in_flow_sends_the_recorded_requests_with_their_call_numbers() -> None:
    """Login, then 68 calls, multicalls and an upload match exchanges 006-076."""
    world = make_world(auth=KOJIADMIN)
    exchanges = _script(world.hub, [6, *range(7, 39), *range(40, 77)])
    _outcome(world.client.login())
    for exchange in [load(n) for n in SESSION]:
        _assert_same_result(_drive(world.client, exchange), exchange)
    assert len(world.hub.received) == len(exchanges)
    for sent, recorded in zip(world.hub.received, exchanges, strict=True):
        _assert_same_request(sent, recorded)
        recorded_callnum = recorded.request_header("Koji-Session-Callnum")
        if recorded_callnum is not None:
            skipped = 1 if recorded.number > 39 else 0
            assert sent.callnum == int(recorded_callnum) - skipped, recorded.number
    assert world.client.round_trips == len(exchanges)


def test_logout_sends_the_recorded_request() -> None:
    """Logging out sends exchange 083: logout(session_id=None) with the session."""
    world = make_world(auth=KOJIADMIN)
    login, logout = _script(world.hub, [6, 83])
    _outcome(world.client.login())
    assert _outcome(world.client.logout()) is None
    _assert_same_request(world.hub.received[1], logout)
    assert world.hub.received[1].callnum == 0
