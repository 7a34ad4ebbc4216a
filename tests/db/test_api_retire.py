"""Retiring a build through both APIs against real PostgreSQL: an
administrator's PATCH {"state": "garbage"} moves a ready or failed build to
garbage and announces it; anybody else gets 403, and a build in another
state 400, with nothing written."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest_twisted
from twisted.internet import reactor
from twisted.web.iweb import IRequest

from ridad.api.auth import Authorizer, Identity
from ridad.db.pool import Pool
from ridad.domain.states import ModuleState
from ridad.transitions import Transitions
from tests.db.test_api_handlers import call, settled
from tests.db.test_transitions import new_build
from tests.unit.api.support import Apps, make_apps

RIDA = "http://ridad/rida/module-builds/"
MBS = "http://ridad/module-build-service/2/module-builds/"
AUTHORIZER = Authorizer(admin_groups=frozenset({"admins"}), open_to_all=False)
#: The users of the tests and their groups.
USERS = {"root": {"admins"}, "alice": {"packager"}}
TO_READY = (ModuleState.WAIT, ModuleState.BUILD, ModuleState.DONE, ModuleState.READY)


class HeaderUser:
    """An authenticator whose user is the request's ``X-User`` header."""

    method = "oidc"

    async def authenticate(self, request: IRequest) -> Identity | None:
        """The user named by X-User, with the groups of ``USERS``."""
        user = request.getHeader(b"x-user").decode()
        return Identity(user=user, groups=frozenset(USERS[user]), method=self.method)

    def challenge(self) -> Mapping[bytes, bytes]:
        """The Bearer challenge."""
        return {b"WWW-Authenticate": b"Bearer"}


async def patch(client: Any, url: str, body: Any, user: str) -> tuple[int, Any]:
    """PATCH ``body`` to ``url`` as ``user``; answer status and JSON body."""
    response = await settled(
        client,
        client.request(
            "PATCH",
            url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": ["application/json"], "X-User": [user]},
        ),
    )
    return response.code, await settled(client, response.json())


async def _build_in(transitions: Transitions, name: str, *states: ModuleState) -> int:
    """A new build (alice's) moved through ``states``; answer its id."""
    module_build_id, _ = await transitions.create_module_build(new_build(name))
    for state in states:
        await transitions.change_module_state(module_build_id, state, None)
    return module_build_id


async def _module_messages(pool: Pool) -> list[dict[str, Any]]:
    rows = await pool.run_query(
        "SELECT body FROM outbox WHERE topic = 'module.state.change' ORDER BY id"
    )
    return [
        r["body"] if isinstance(r["body"], dict) else json.loads(r["body"])
        for r in rows
    ]


def _apps(pool: Pool) -> tuple[Apps, Transitions]:
    apps = make_apps(
        pool, clock=reactor, authenticator=HeaderUser(), authorizer=AUTHORIZER
    )
    return apps, Transitions(pool=pool, clock=reactor)


@pytest_twisted.ensureDeferred
async def test_admin_retires_a_ready_build_through_rida(pool: Pool) -> None:
    """root (admins) PATCHes {"state": "garbage"}: 200 with the build in
    garbage, retired by root, and a module message ready -> garbage."""
    apps, transitions = _apps(pool)
    module_build_id = await _build_in(transitions, "one", *TO_READY)
    code, body = await patch(
        apps.rida, f"{RIDA}{module_build_id}", {"state": "garbage"}, "root"
    )
    assert code == 200, body
    assert (body["id"], body["state"], body["state_reason"]) == (
        module_build_id,
        "garbage",
        "Retired by root",
    )
    last = (await _module_messages(pool))[-1]
    assert (last["id"], last["old_state"], last["state"]) == (
        module_build_id,
        "ready",
        "garbage",
    )


@pytest_twisted.ensureDeferred
async def test_admin_retires_ready_and_failed_builds_through_mbs(pool: Pool) -> None:
    """The MBS API takes "6" and "garbage" alike; a failed build may be
    retired too; the answer is MBS's verbose build in state 6."""
    apps, transitions = _apps(pool)
    ready = await _build_in(transitions, "one", *TO_READY)
    failed = await _build_in(transitions, "two", ModuleState.FAILED)
    for module_build_id, state in ((ready, "6"), (failed, "garbage")):
        code, body = await patch(
            apps.mbs, f"{MBS}{module_build_id}", {"state": state}, "root"
        )
        assert code == 200, body
        assert (body["state"], body["state_name"], body["state_reason"]) == (
            6,
            "garbage",
            "Retired by root",
        )
        assert body["state_trace"][-1]["state_name"] == "garbage"


@pytest_twisted.ensureDeferred
async def test_retire_by_a_non_admin_is_403_on_both_apis(pool: Pool) -> None:
    """alice owns the build but is no administrator: 403 on /rida/ and MBS,
    and the build stays ready with no new message."""
    apps, transitions = _apps(pool)
    module_build_id = await _build_in(transitions, "one", *TO_READY)
    before = len(await _module_messages(pool))
    for client, url in ((apps.rida, RIDA), (apps.mbs, MBS)):
        code, body = await patch(
            client, f"{url}{module_build_id}", {"state": "garbage"}, "alice"
        )
        assert (code, body["status"]) == (403, 403)
        assert body["message"] == (
            "alice may not retire module builds; only members of admins may"
        )
    _, shown, _ = await call(apps.rida, "GET", f"{RIDA}{module_build_id}")
    assert shown["state"] == "ready"
    assert len(await _module_messages(pool)) == before


@pytest_twisted.ensureDeferred
async def test_retire_of_a_build_not_ready_or_failed_is_400(pool: Pool) -> None:
    """A build still building cannot be retired: 400 naming its state, on
    both APIs; a garbage build cannot be retired again."""
    apps, transitions = _apps(pool)
    building = await _build_in(transitions, "one", ModuleState.WAIT, ModuleState.BUILD)
    for client, url in ((apps.rida, RIDA), (apps.mbs, MBS)):
        code, body = await patch(
            client, f"{url}{building}", {"state": "garbage"}, "root"
        )
        assert (code, body["message"]) == (
            400,
            f"Module build {building} is build; only a build in ready, failed"
            " can move to garbage",
        )
    retired = await _build_in(transitions, "two", *TO_READY)
    code, _ = await patch(apps.rida, f"{RIDA}{retired}", {"state": "garbage"}, "root")
    assert code == 200
    code, body = await patch(apps.mbs, f"{MBS}{retired}", {"state": "6"}, "root")
    assert (code, body["message"]) == (
        400,
        f"Module build {retired} is garbage; only a build in ready, failed can"
        " move to garbage",
    )


@pytest_twisted.ensureDeferred
async def test_patch_asking_for_another_state_names_both_changes(pool: Pool) -> None:
    """{"state": "ready"} is a 400 that names cancel and retire."""
    apps, transitions = _apps(pool)
    module_build_id = await _build_in(transitions, "one")
    for client, url in ((apps.rida, RIDA), (apps.mbs, MBS)):
        code, body = await patch(
            client, f"{url}{module_build_id}", {"state": "ready"}, "root"
        )
        assert (code, body["details"]) == (
            400,
            {"fields": {"state": 'must be "failed" or "garbage"'}},
        )
        assert body["message"] == (
            'the only changes a module build accepts are {"state": "failed"}'
            ' (cancel it) and {"state": "garbage"} (retire it: administrators)'
        )
