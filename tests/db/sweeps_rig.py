"""The sweeps' test rig: a build driver with its sweeps over kojisim and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from ridad.bus.publisher import validate_body
from ridad.config.model import KojiConfig
from ridad.db.builds import ModuleBuildStore
from ridad.db.pool import Pool
from ridad.db.sweeps import SweepStore
from ridad.domain.builds import BuildSnapshot
from ridad.domain.states import ModuleState
from ridad.scheduler.driver import BuildDriver
from ridad.scheduler.sweeps import BuildSweeps
from ridad.transitions import Transitions
from tests.db.cg_rig import make_driver as make_cg_driver
from tests.db.test_driver import MODULE_TAG
from tests.unit.koji.simworld import SimWorld

EPOCH = 0  # a fresh database's lease epoch
BUILD_TAG = MODULE_TAG + "-build"
#: Long enough that the driver's task timeout never fails a task first.
CONFIG = KojiConfig(hub="http://kojihub.test/kojihub", task_timeout_hours=10_000.0)


class Rig:
    """A driver with its sweeps, their Koji world and database."""

    def __init__(self, pool: Pool, world: SimWorld) -> None:
        self.pool = pool
        self.world = world
        self.transitions = Transitions(pool=pool, clock=world.clock)
        self.sweeps = make_sweeps(pool, world, self.transitions)
        self.driver = make_driver(pool, world, self.transitions, self.sweeps)

    async def cycle_until(self, module_build_id: int, *states: ModuleState) -> None:
        """Cycle (kojisim running in between) until the build is in ``states``."""
        for _ in range(40):
            if (await self.read(module_build_id)).build.state in states:
                return
            await self.driver.cycle(EPOCH)
            self.world.run_until_idle()
        raise AssertionError(f"build {module_build_id} never got to {states}")

    async def read(self, module_build_id: int) -> BuildSnapshot:
        """The build as the database has it."""
        store = ModuleBuildStore(pool=self.pool)
        build, components = await store.get_with_components(module_build_id)
        return BuildSnapshot(build, tuple(components))

    async def module_messages(self) -> list[dict[str, Any]]:
        """The module messages of the outbox, each checked against its schema."""
        rows = await self.pool.run_query(
            "SELECT topic, body FROM outbox WHERE topic = 'module.state.change'"
            " ORDER BY id"
        )
        bodies = []
        for row in rows:
            body = (
                row["body"]
                if isinstance(row["body"], dict)
                else json.loads(row["body"])
            )
            validate_body(row["topic"], body)
            bodies.append(body)
        return bodies

    def later(self, **delta: float) -> None:
        """Let time pass on the fake clock (no Koji task runs meanwhile)."""
        self.world.clock.advance(timedelta(**delta).total_seconds())

    def sent(self, method: str) -> int:
        """How many calls of ``method`` went to the hub so far."""
        return sum(request.count(method) for request in self.world.agent.sent)


def make_sweeps(pool: Pool, world: SimWorld, transitions: Transitions) -> BuildSweeps:
    """Sweeps with the default ages: 7 days, 24 hours, 180 days."""
    return BuildSweeps(
        store=SweepStore(pool=pool),
        koji=world.koji,
        transitions=transitions,
        config=CONFIG,
        stuck_build_days=7.0,
        clock=world.clock,
    )


def make_driver(
    pool: Pool, world: SimWorld, transitions: Transitions, sweeps: BuildSweeps
) -> BuildDriver:
    """The build driver, its sweeps run from its cycle as in production."""
    return make_cg_driver(pool, world, transitions, CONFIG, sweeps=sweeps)
