"""ridad's Koji client and ``KojiHub`` wired to kojisim in this process: no
sockets, one fake clock for the hub's builder and the client's retries."""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from treq.client import HTTPClient
from treq.testing import RequestTraversalAgent
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock

from ridad.koji.auth import PasswordAuth
from ridad.koji.client import KojiClient
from ridad.koji.hub import KojiHub
from ridad.koji.retry import RetryPolicy
from ridad.kojisim.hub import KojiHub as SimulatedHub
from tests.helpers import result_of
from tests.unit.koji.fakehub import FlakyAgent
from tests.unit.kojisim.support import HUB_URL, HubClient, make_hub


@dataclass
class SimWorld:
    """A simulated hub, the network between, and ridad's typed hub client."""

    clock: Clock
    sim: SimulatedHub
    agent: FlakyAgent
    client: KojiClient
    koji: KojiHub

    def run_until_idle(self, *, step: float = 0.05, limit: int = 2000) -> None:
        """Advance the clock until no task is free or open and the builder
        rests, but for builds waiting for a repo nobody asked for yet (as
        kojid, they wait for ridad's newRepo)."""
        for _ in range(limit):
            self.clock.advance(step)
            waiting = self.sim.repo_waits
            if not self.sim.builder_active and not any(
                t.state in (0, 1) and t.id not in waiting
                for t in self.sim.tasks.values()
            ):
                return
        raise AssertionError("tasks still running")

    def admin(self) -> HubClient:
        """A new admin session straight on the hub (sessions expire after 24 hours)."""
        admin = HubClient(self.sim)
        admin.login()
        return admin

    def with_lost_answer(self, method: str, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run a typed operation while the answer of the request calling
        ``method`` is lost once (the clock runs the client's backoff before
        its resend); return its result."""
        result_of(Deferred.fromCoroutine(self.client.login()))
        self.sim.lose_answer(method)
        pending = Deferred.fromCoroutine(coroutine)
        self.clock.advance(1.0)
        return result_of(pending)


def make_sim_world(upload_dir: str, **options: Any) -> SimWorld:
    """kojisim (user ``admin``, an admin) and a client logged in as admin."""
    clock = Clock()
    sim = make_hub(clock, upload_dir=upload_dir, **options)
    agent = FlakyAgent(RequestTraversalAgent(sim.resource()))
    client = KojiClient(
        http=HTTPClient(agent),
        hub_url=HUB_URL,
        clock=clock,
        auth=PasswordAuth("admin", "admin"),
        retry=RetryPolicy(),
        random=lambda: 1.0,
    )
    return SimWorld(clock, sim, agent, client, KojiHub(client=client))
