"""Sessions: login, the session headers, call numbers, expiry and renewal."""

from __future__ import annotations

import re

import koji
import pytest
from twisted.internet.task import Clock

from ridad.kojisim.hub import KojiHub
from tests.unit.kojisim.support import HubClient


def test_anonymous_caller_is_nobody_and_may_not_write(anonymous: HubClient) -> None:
    """getLoggedInUser is nil when anonymous; a write is ActionNotAllowed."""
    assert anonymous.call("getLoggedInUser") is None
    assert anonymous.call("getPerms") == []
    assert anonymous.fault_of("createTag", "t") == (
        1004,
        "tag permission required (user not logged in)",
    )


def test_login_answers_a_session_with_header_auth(hub: KojiHub) -> None:
    """login gives ``{session-id, session-key: <uid>-<19 alnum>, header-auth}``."""
    client = HubClient(hub)
    session = client.login("admin", "admin")
    assert session["session-id"] == 2  # the builder holds session 1
    assert re.fullmatch(r"1-[A-Za-z0-9]{19}", session["session-key"])
    assert session["header-auth"] is True
    user = client.call("getLoggedInUser")
    assert (user["name"], user["authtype"], user["krb_principal"]) == ("admin", 0, None)
    assert client.fault_of("login", "admin", "admin", opts=None) == (
        1002,
        "Already logged in",
    )


def test_bad_password_and_passwordless_users_cannot_log_in(
    anonymous: HubClient,
) -> None:
    """A wrong password is AuthError ``invalid username or password``."""
    expected = (1002, "invalid username or password")
    assert anonymous.fault_of("login", "admin", "wrong", opts=None) == expected
    assert anonymous.fault_of("login", "nobody", "x", opts=None) == expected


def test_wrong_key_and_logged_out_session_are_invalid(
    hub: KojiHub, admin: HubClient
) -> None:
    """A wrong key, or the key of a closed session, is 1002."""
    expected = (1002, "Invalid session or bad credentials")
    key = admin.session["session-key"]
    admin.session["session-key"] = "1-NotTheIssuedKey0000"
    assert admin.fault_of("getLoggedInUser") == expected
    admin.session["session-key"] = key
    assert admin.call("logout", session_id=None) is None
    assert admin.fault_of("getLoggedInUser") == expected


def test_stored_callnum_moves_only_on_committed_writes(admin: HubClient) -> None:
    """Reads may repeat a call number; after a write, the same number is a
    RetryError and a lower one a SequenceError."""
    admin.callnum = 10
    admin.call("getAPIVersion")
    admin.callnum = 10
    admin.call("getAPIVersion")
    admin.callnum = 20
    admin.call("createTag", "t")
    admin.callnum = 20
    assert admin.fault_of("createTag", "u") == (
        1009,
        "unable to retry call 20 (method createTag) for session 2",
    )
    admin.callnum = 19
    assert admin.fault_of("getAPIVersion") == (1008, "20 > 19 (session 2)")
    admin.callnum = 21
    assert admin.call("getAPIVersion") == 1


def test_faulted_write_does_not_store_its_callnum(admin: HubClient) -> None:
    """A write that fails leaves the stored call number where it was."""
    admin.callnum = 30
    assert admin.fault_of("createTag", "bad name!")[0] == 1000
    admin.callnum = 30
    assert admin.call("createTag", "good") == 1


def test_multicall_stores_its_callnum(admin: HubClient) -> None:
    """A multicall commits, so its call number cannot be reused."""
    admin.callnum = 5
    admin.call("multiCall", [{"methodName": "getAPIVersion", "params": []}])
    admin.callnum = 5
    code, message = admin.fault_of("getAPIVersion")
    assert (code, message) == (
        1009,
        "unable to retry call 5 (method getAPIVersion) for session 2",
    )


def test_calls_without_callnum_skip_the_check(hub: KojiHub, admin: HubClient) -> None:
    """Without the Callnum header the session works with any order."""
    admin.call("createTag", "t")
    body = koji.xmlrpcplus.dumps((), methodname="getAPIVersion").encode()
    headers = {
        "Koji-Session-Id": str(admin.session["session-id"]),
        "Koji-Session-Key": admin.session["session-key"],
    }
    for _ in range(3):
        assert (
            b"<int>1</int>"
            in admin.http("POST", body, headers=headers, session=False).body
        )


def test_url_session_arguments_still_work(hub: KojiHub, admin: HubClient) -> None:
    """The old query-string session arguments are accepted."""
    query = f"?session-id={admin.session['session-id']}&session-key={admin.session['session-key']}"
    body = koji.xmlrpcplus.dumps((), methodname="getLoggedInUser").encode()
    url = "http://kojihub.test/kojihub" + query
    reply = admin.http("POST", body, url=url, session=False)
    assert b"<string>admin</string>" in reply.body


def test_expired_session_gets_auth_expired_until_renewed(
    hub: KojiHub, admin: HubClient
) -> None:
    """After expiry calls fail with 1007; login with renew keeps the session id."""
    session_id = admin.session["session-id"]
    hub.expire_sessions()
    assert admin.fault_of("getLoggedInUser") == (
        1007,
        f'session "{session_id}" has expired',
    )
    renewed = admin.call("login", "admin", "admin", opts=None, renew=True)
    assert renewed["session-id"] == session_id
    assert renewed["session-key"] != admin.session["session-key"]
    admin.session, admin.callnum = renewed, 0
    assert admin.call("getLoggedInUser")["name"] == "admin"


def test_sessions_expire_after_a_day_on_the_clock(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """The renewal timeout (24 h) runs on the hub's clock."""
    clock.advance(24 * 3600 + 1)
    assert admin.fault_of("getAPIVersion")[0] == koji.AuthExpired.faultCode


def test_real_koji_client_renews_an_expired_session(hub: KojiHub) -> None:
    """koji.ClientSession-like renewal: login(renew=True) then retry."""
    client = HubClient(hub)
    client.login("alice", "alice")
    hub.expire_sessions()
    with pytest.raises(koji.AuthExpired):
        client.call("getPerms")
    client.session = client.call("login", "alice", "alice", opts=None, renew=True)
    client.callnum = 0
    assert client.call("getPerms") == []


def test_permissions_and_grants(hub: KojiHub, admin: HubClient) -> None:
    """Admins grant permissions (created on demand); users see their own."""
    assert admin.call("getPerms") == ["admin"]
    assert admin.call("hasPerm", "admin") and not admin.call("hasPerm", "tag")
    assert len(admin.call("getAllPerms")) == 15
    admin.call("grantPermission", "alice", "tag")
    admin.call("grantPermission", "alice", "regen-repo", create=True)
    alice = HubClient(hub)
    alice.login("alice", "alice")
    assert alice.call("getPerms") == ["tag", "regen-repo"]
    assert alice.fault_of("grantPermission", "admin", "tag")[0] == 1004
    assert admin.call("getUser", "alice")["id"] == 2
    assert admin.call("getUser", 999) is None
