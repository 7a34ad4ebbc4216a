"""The hub's HTTP framing and dispatch errors, through its resource in memory."""

from __future__ import annotations

import koji
import pytest

from ridad.kojisim.hub import KojiHub
from tests.unit.kojisim.support import HUB_URL, HubClient


def test_get_is_refused_with_405_allowing_post(anonymous: HubClient) -> None:
    """A GET gets 405 text/plain with ``Allow: POST`` and the Koji version."""
    reply = anonymous.http("GET")
    assert reply.code == 405
    assert reply.headers["content-type"] == ["text/plain"]
    assert reply.headers["allow"] == ["POST"]
    assert reply.headers["koji-version"] == ["1.35.3"]
    assert reply.body.startswith(b"Method Not Allowed\n")


def test_empty_post_is_a_400_invalid_request(anonymous: HubClient) -> None:
    """An empty body gets 400 ``Invalid request: Empty request``."""
    reply = anonymous.http("POST", b"")
    assert (reply.code, reply.body) == (400, b"Invalid request: Empty request\n")
    assert reply.headers["content-type"] == ["text/plain"]


def test_truncated_xml_is_a_400_naming_the_parse_error(anonymous: HubClient) -> None:
    """Truncated XML gets 400 with expat's message."""
    reply = anonymous.http("POST", b'<?xml version="1.0"?><methodCall><methodName>x')
    assert reply.code == 400
    assert reply.body == b"Invalid request: no element found: line 1, column 46\n"


def test_every_xml_response_carries_koji_version_and_text_xml(
    anonymous: HubClient,
) -> None:
    """A normal call answers 200 text/xml with ``Koji-Version: 1.35.3``."""
    reply = anonymous.raw_call("getKojiVersion")
    assert reply.code == 200
    assert reply.headers["content-type"] == ["text/xml"]
    assert reply.headers["koji-version"] == ["1.35.3"]
    assert anonymous.call("getKojiVersion") == "1.35.3"


def test_unknown_method_is_generic_error_invalid_method(anonymous: HubClient) -> None:
    """An unknown method is fault 1000 ``Invalid method: x``."""
    assert anonymous.fault_of("noSuchMethod", 1) == (
        1000,
        "Invalid method: noSuchMethod",
    )


def test_unknown_method_fails_before_a_bad_session_is_noticed(hub: KojiHub) -> None:
    """The method is looked up before the session headers are checked."""
    client = HubClient(hub)
    client.session = {"session-id": 99, "session-key": "1-nope"}
    assert client.fault_of("noSuchMethod") == (1000, "Invalid method: noSuchMethod")
    assert client.fault_of("getAPIVersion")[0] == koji.AuthError.faultCode


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "message"),
    [
        (
            "getTag",
            ("x",),
            {"bogus": 1},
            "get_tag() got an unexpected keyword argument 'bogus'",
        ),
        (
            "getTag",
            (),
            {},
            "get_tag() missing 1 required positional argument: 'tagInfo'",
        ),
        (
            "getTaskInfo",
            (1, 2, 3, 4),
            {},
            "RootExports.getTaskInfo() takes from 2 to 4 positional arguments but 5 were given",
        ),
        (
            "getTagGroups",
            (),
            {},
            "readTagGroups() missing 1 required positional argument: 'tag'",
        ),
        (
            "getRepo",
            ("t",),
            {"x": 1},
            "old_get_repo() got an unexpected keyword argument 'x'",
        ),
        (
            "getLoggedInUser",
            (1,),
            {},
            "RootExports.getLoggedInUser() takes 1 positional argument but 2 were given",
        ),
    ],
)
def test_argument_errors_are_parameter_errors_naming_the_hub_function(
    anonymous: HubClient, method: str, args: tuple, kwargs: dict, message: str
) -> None:
    """A call whose arguments do not fit is 1019 with Python's message."""
    assert anonymous.fault_of(method, *args, **kwargs) == (1019, message)


def test_login_with_missing_password_is_fault_1_like_the_hub(
    anonymous: HubClient,
) -> None:
    """``login`` checks its arguments one call deeper, so the hub answers fault 1."""
    code, message = anonymous.fault_of("login", "admin")
    assert code == 1
    assert (
        "Session.login() missing 1 required positional argument: 'password'" in message
    )


def test_echo_round_trips_nil_i8_and_dates(anonymous: HubClient) -> None:
    """``echo`` returns nil, 64-bit ints and the rest unchanged."""
    reply = anonymous.raw_call(
        "echo", None, 2**40, -(2**40), 1.5, True, "", {"k": None}, []
    )
    assert b"<i8>1099511627776</i8>" in reply.body
    assert anonymous.call("echo", None, 2**40, {"k": None}) == [
        None,
        2**40,
        {"k": None},
    ]


def test_ssllogin_path_without_tls_cannot_verify_a_client(anonymous: HubClient) -> None:
    """``sslLogin`` over plain HTTP is AuthError ``could not verify client: None``."""
    body = koji.xmlrpcplus.dumps((), methodname="sslLogin").encode()
    reply = anonymous.http("POST", body, url=HUB_URL + "/ssllogin")
    assert b"could not verify client: None" in reply.body
    assert anonymous.http("POST", body, url=HUB_URL + "/other").code == 404
