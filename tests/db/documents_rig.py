"""Both APIs on loopback over one pool, with a statement log: the rig of
the tests of what the APIs show of final modulemds."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import treq
from twisted.internet import reactor
from twisted.web.server import Site

from ridad.api.app import RidadApi
from ridad.api.mbs import MbsApi
from ridad.db.builds import ModuleBuildStore
from ridad.db.mbs_queries import MbsQueryStore
from ridad.db.pool import Pool
from ridad.domain.states import ModuleState
from ridad.transitions import Transitions
from tests.db.statements import StatementLog
from tests.db.test_transitions import new_build

TO_READY = (ModuleState.WAIT, ModuleState.BUILD, ModuleState.DONE, ModuleState.READY)


@dataclass
class Served:
    """Both APIs on loopback over one pool, its statement log and transitions."""

    seed_base: str
    mbs_base: str
    pool: Pool
    transitions: Transitions
    log: StatementLog

    async def get(self, path: str) -> tuple[int, dict[str, list[str]], bytes]:
        """GET ``path``: status, headers (lowercase names) and the raw body."""
        mbs = path.startswith("/module-build-service/")
        response = await treq.get((self.mbs_base if mbs else self.seed_base) + path)
        headers = {
            name.decode().lower(): [v.decode() for v in values]
            for name, values in response.headers.getAllRawHeaders()
        }
        return response.code, headers, await response.content()

    async def patch(self, path: str, body: Any) -> tuple[int, Any]:
        """PATCH ``body`` to the MBS API's ``path``: status and decoded JSON."""
        response = await treq.request(
            "PATCH", self.mbs_base + path, data=json.dumps(body).encode()
        )
        return response.code, json.loads(await response.content())

    async def get_json(self, path: str) -> tuple[int, Any]:
        """GET ``path``: status and decoded JSON."""
        code, _, body = await self.get(path)
        return code, json.loads(body)

    async def build(self, name: str, *states: ModuleState) -> int:
        """A new build moved through ``states``; its id."""
        module_build_id, _ = await self.transitions.create_module_build(new_build(name))
        for state in states:
            await self.transitions.change_module_state(module_build_id, state, None)
        return module_build_id


def api_resources(pool: Pool, transitions: Transitions) -> dict[str, Any]:
    """The seed API's and the MBS API's resources over ``pool`` (nothing is
    submitted through them)."""
    builds = ModuleBuildStore(pool=pool)
    seed = RidadApi(
        builds=builds,
        submissions=None,  # type: ignore[arg-type]  # nothing is submitted here
        transitions=transitions,
        database_status=pool.ping,
    )
    mbs = MbsApi(
        builds=builds,
        queries=MbsQueryStore(pool=pool),
        submissions=None,  # type: ignore[arg-type]
        transitions=transitions,
    )
    return {"seed": seed.app.resource(), "mbs": mbs.app.resource()}


async def serve_apis(pool: Pool) -> AsyncIterator[Served]:
    """Both APIs over ``pool`` on ports of 127.0.0.1, until closed."""
    transitions = Transitions(pool=pool, clock=reactor)
    resources = api_resources(pool, transitions)
    ports = [
        reactor.listenTCP(0, Site(resources[api]), interface="127.0.0.1")
        for api in ("seed", "mbs")
    ]
    seed_base, mbs_base = (f"http://127.0.0.1:{p.getHost().port}" for p in ports)
    log = StatementLog().install(pool)
    yield Served(seed_base, mbs_base, pool, transitions, log)
    for port in ports:
        await port.stopListening()
