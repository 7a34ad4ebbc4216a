"""A cancel through either API is one row read and one transaction, and its
answer is what a later GET shows (real PostgreSQL, the API on loopback)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest_twisted
import treq
from twisted.internet import reactor
from twisted.web.server import Site

from ridad.db.pool import Pool
from ridad.domain.states import ModuleState
from ridad.transitions import Transitions
from tests.db.documents_rig import api_resources
from tests.db.statements import StatementLog
from tests.db.test_transitions import new_build


@dataclass
class Served:
    """Both APIs on one loopback port, and the build they may cancel."""

    base: str
    module_build_id: int
    log: StatementLog

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        """Send one request; answer its status and decoded JSON body."""
        data = None if body is None else json.dumps(body).encode()
        response = await treq.request(method, self.base + path, data=data)
        return response.code, json.loads(await response.content())


async def _serve(pool: Pool, api: str) -> AsyncIterator[Served]:
    transitions = Transitions(pool=pool, clock=reactor)
    module_build_id, _ = await transitions.create_module_build(new_build())
    await transitions.change_module_state(module_build_id, ModuleState.WAIT, None)
    resource = api_resources(pool, transitions)[api]
    port = reactor.listenTCP(0, Site(resource), interface="127.0.0.1")
    log = StatementLog().install(pool)
    yield Served(f"http://127.0.0.1:{port.getHost().port}", module_build_id, log)
    await port.stopListening()


@pytest_twisted.async_yield_fixture
async def seed_served(pool: Pool) -> AsyncIterator[Served]:
    """A waiting build and the seed API listening on 127.0.0.1."""
    async for served in _serve(pool, "seed"):
        yield served


@pytest_twisted.async_yield_fixture
async def mbs_served(pool: Pool) -> AsyncIterator[Served]:
    """A waiting build and the MBS API listening on 127.0.0.1."""
    async for served in _serve(pool, "mbs"):
        yield served


def _assert_one_read_and_one_transaction(log: StatementLog) -> None:
    reads, transactions = [], []
    for use in log.uses:
        (transactions if use[0] == "BEGIN" else reads).append(use)
    assert len(transactions) == 1, log.uses
    assert len(reads) == 1, log.uses
    (read,) = reads[0]
    assert read.startswith("SELECT") and "FROM module_builds WHERE id = %s" in read


@pytest_twisted.ensureDeferred
async def test_seed_api_cancel_is_one_read_and_one_transaction(
    seed_served: Served,
) -> None:
    """PATCH /rida/module-builds/N reads the build's row once (the owner check),
    then cancels in one transaction and answers from what it wrote."""
    path = f"/rida/module-builds/{seed_served.module_build_id}"
    status, answer = await seed_served.request("PATCH", path, {"state": "failed"})
    assert status == 200, answer
    _assert_one_read_and_one_transaction(seed_served.log)
    assert answer["state"] == "failed"
    status, shown = await seed_served.request("GET", path)
    assert shown == answer


@pytest_twisted.ensureDeferred
async def test_mbs_cancel_is_one_read_and_one_transaction(mbs_served: Served) -> None:
    """PATCH module-builds/N of the MBS API reads the row once, then cancels in
    one transaction whose answer (trace included) equals a later verbose GET."""
    path = f"/module-build-service/1/module-builds/{mbs_served.module_build_id}"
    status, answer = await mbs_served.request("PATCH", path, {"state": "failed"})
    assert status == 200, answer
    _assert_one_read_and_one_transaction(mbs_served.log)
    status, shown = await mbs_served.request("GET", path + "?verbose=true")
    assert shown == answer
    assert answer["state_name"] == "failed"
